package rules

import (
	"path"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "consumer-alerts-config-unmounted",
		Severity: Warning,
		Category: CatSubscriber,
		Summary:  "The violations consumer's --alerts-config names a file that no volume mount of its container provides.",
		Doc: "`violations serve --alerts-config FILE` reads its alert routes at start and exits when " +
			"the file is missing. The consumer's image holds no routes file: it comes from a volume, " +
			"usually a ConfigMap (the chart's " +
			"`<consumer.name>-alerts`, key `alerts.yaml`, in a projected volume at " +
			"`/etc/violations/alerts`). Reported: an absolute path with no volume mounted at or " +
			"above it; a `configMap`, `secret` or `projected` volume whose `items` project no file to " +
			"that path; and a ConfigMap among the inputs, projected there, that has no such key. A " +
			"relative path, and a file on another kind of volume (an `emptyDir` filled by an init " +
			"container, a PersistentVolumeClaim) are not judged.",
		Remediation: "Mount the ConfigMap holding the routes at the directory of `--alerts-config` (for example " +
			"a `configMap` volume with `items: [{key: alerts.yaml, path: alerts.yaml}]` at " +
			"`/etc/violations/alerts`), or point `--alerts-config` at the mounted file; with the chart, set " +
			"`consumer.alerts.routes` and let it render the ConfigMap, the volume and the flag.",
		Check: checkConsumerAlertsConfigUnmounted,
	})
}

func checkConsumerAlertsConfigUnmounted(s *model.Setup, r *Reporter) {
	for _, sub := range s.Subscribers() {
		if sub.Consumer == nil {
			continue
		}
		f, ok := sub.Consumer.AlertsConfig()
		if !ok || !path.IsAbs(f.Value) {
			continue
		}
		w := sub.Workload
		src, mounted := w.FileSource(sub.Container.Index, f.Value)
		switch {
		case !mounted:
			r.Report(w.Obj, f.Field, "%s reads --alerts-config %s, but mounts no volume at or above it: the image has no routes file, so the consumer exits at start; mount the ConfigMap holding the routes at %s",
				Prose(sub.Describe()), f.Value, path.Dir(path.Clean(f.Value)))
		case src.Missing:
			r.Report(w.Obj, src.Mount.Field, "%s reads --alerts-config %s from %s volume %q mounted at %s, whose items project no file %q: the file does not exist, so the consumer exits at start; add an item with path %q",
				Prose(sub.Describe()), f.Value, src.Kind, src.Mount.Name, src.Mount.MountPath, src.InVolume, src.InVolume)
		case src.From == "configMap":
			cm := s.ConfigMap(w.Obj.NS, src.Name)
			if cm == nil {
				continue
			}
			data, _ := cm.Obj["data"].(map[string]any)
			binary, _ := cm.Obj["binaryData"].(map[string]any)
			if _, ok := data[src.Key]; ok {
				continue
			}
			if _, ok := binary[src.Key]; ok {
				continue
			}
			r.Report(w.Obj, src.Mount.Field, "%s reads --alerts-config %s from key %q of ConfigMap %s/%s (volume %q), but the ConfigMap has no such key: the file does not exist, so the consumer exits at start",
				Prose(sub.Describe()), f.Value, src.Key, cm.NS, cm.Name(), src.Mount.Name)
		}
	}
}
