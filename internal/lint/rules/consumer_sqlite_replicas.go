package rules

import (
	"math"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

func init() {
	register(&Rule{
		ID:       "consumer-sqlite-replicas",
		Severity: Error,
		Category: CatSubscriber,
		Summary:  "The violations consumer keeps its store in SQLite but runs more than one replica.",
		Doc: "`violations serve` stores the violations in SQLite unless its store is PostgreSQL: " +
			"`--store sqlite:///path`, or no `--store`, `--store-file` or `VIOLATIONS_STORE` at all " +
			"(the default `" + model.DefaultConsumerStore + "`). SQLite is one writer on one " +
			"volume: a second replica cannot mount a ReadWriteOnce volume on another node, cannot " +
			"share the file over a network file system (the store runs SQLite in WAL mode, which " +
			"needs one host), or keeps a database of its own (an `emptyDir`, a StatefulSet's " +
			"`volumeClaimTemplates`); and as the replicas share the Dapr consumer group, each of " +
			"those databases gets only part of the messages. A Deployment, " +
			"StatefulSet, ReplicaSet or ReplicationController with `spec.replicas` above 1 is " +
			"reported. A store URL the manifest does not show (`--store-file`, or a " +
			"`VIOLATIONS_STORE` from a Secret) is not judged; nor is a HorizontalPodAutoscaler.",
		Remediation: "Set `spec.replicas: 1` (with the `Recreate` strategy, so the old pod lets go of the file), " +
			"or use a PostgreSQL store (`--store-file` naming a Secret's file holding `postgres://…`) for more replicas.",
		Check: checkConsumerSQLiteReplicas,
	})
}

// replicatedKinds are the workloads whose spec.replicas is their number of pods.
var replicatedKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "ReplicaSet": true, "ReplicationController": true}

func checkConsumerSQLiteReplicas(s *model.Setup, r *Reporter) {
	for _, sub := range s.Subscribers() {
		w := sub.Workload
		if sub.Consumer == nil || !replicatedKinds[w.Obj.Kind()] {
			continue
		}
		n, ok := replicas(w.Obj)
		if !ok || n <= 1 {
			continue
		}
		st := sub.Consumer.Store()
		if scheme, ok := st.Scheme(); !ok || scheme != "sqlite" {
			continue
		}
		const why = "SQLite is one writer on one volume, so the replicas cannot share it; run 1 replica, or use a PostgreSQL store for more"
		if st.From == model.StoreFromDefault {
			r.Report(w.Obj, model.P("spec", "replicas"), "violations consumer container %q keeps its store in SQLite (the default %s: no --store, --store-file or %s), but spec.replicas is %d: %s",
				sub.Container.Name, model.DefaultConsumerStore, model.ConsumerStoreEnv, n, Prose(why))
			continue
		}
		r.Report(w.Obj, model.P("spec", "replicas"), "violations consumer container %q keeps its store in SQLite (%s %s), but spec.replicas is %d: %s",
			sub.Container.Name, string(st.From), st.Display(), n, Prose(why))
	}
}

// replicas reads spec.replicas when it is a whole number.
func replicas(o *model.Object) (int64, bool) {
	v, ok := render.Lookup(o.Obj, "spec", "replicas")
	if !ok {
		return 1, true
	}
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n > math.MaxInt64 {
			return math.MaxInt64, true
		}
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || n > math.MaxInt64 || n < math.MinInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}
