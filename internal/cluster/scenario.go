package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// The policy the scenarios audit: Gatekeeper's own test ConstraintTemplate
// k8srequiredlabels and its audit constraint cm-must-have-gk-audit
// (ConfigMaps in gatekeeper-test-playground labelled
// test.gatekeeper.sh/audit=yes must have the label gatekeeper).
const (
	Playground = "gatekeeper-test-playground"
	Constraint = "cm-must-have-gk-audit"
)

var policyFiles = []string{
	"test/bats/tests/templates/k8srequiredlabels_template.yaml",
	"test/bats/tests/constraints/all_cm_must_have_gatekeeper_audit.yaml",
}

// PrepareNamespaces creates gatekeeper-system, fake-subscriber and the
// playground labelled PodSecurity restricted, and the Redis Secret in the
// first two, as a user's cluster would be before our chart.
func (e *Env) PrepareNamespaces(ctx context.Context) error {
	for _, ns := range []string{GatekeeperNS, SubscriberNS, Playground} {
		if err := e.CreateNamespace(ctx, ns, "restricted"); err != nil {
			return err
		}
	}
	for _, ns := range []string{GatekeeperNS, SubscriberNS} {
		if err := e.CreateRedisSecret(ctx, ns); err != nil {
			return err
		}
	}
	return nil
}

// ChartValues are our chart's values for this environment: pubsub on, the
// audit run by our chart (audit.deploy=true: Gatekeeper's chart is installed
// here with disableAudit=true), the subscriber on (its namespace made by PrepareNamespaces), the Component
// pointed at the environment's Redis, an audit every auditInterval seconds.
func (e *Env) ChartValues(version string, auditInterval int) map[string]any {
	return map[string]any{
		"gatekeeperVersion": version,
		"auditInterval":     auditInterval,
		"audit":             map[string]any{"enablePubsub": true, "deploy": true},
		"component": map[string]any{"metadata": []any{
			map[string]any{"name": "redisHost", "value": e.Redis.Addr},
			map[string]any{"name": "redisPassword", "secretKeyRef": map[string]any{"name": "redis", "key": "redis-password"}},
		}},
		"subscriber": map[string]any{"enabled": true, "createNamespace": false},
	}
}

// ChartDir is charts/gatekeeper-pubsub in the repository.
func ChartDir() (string, error) {
	root, err := procs.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "charts", "gatekeeper-pubsub"), nil
}

// GatekeeperFile reads a file of the Gatekeeper module at version.
func GatekeeperFile(ctx context.Context, version, path string) ([]byte, error) {
	dir, err := ModuleDir(ctx, "github.com/open-policy-agent/gatekeeper/v3", version)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
}

// ApplyPolicy applies Gatekeeper's own test template and constraint (the
// constraint once Gatekeeper made its CRD: Apply waits for the kind).
func (e *Env) ApplyPolicy(ctx context.Context, version string) error {
	for _, f := range policyFiles {
		b, err := GatekeeperFile(ctx, version, f)
		if err != nil {
			return err
		}
		if err := e.Apply(ctx, b, ""); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// CreateViolators creates ConfigMaps violator-<from>..violator-<to-1> in
// the playground, which the constraint reports (a few in parallel).
func (e *Env) CreateViolators(ctx context.Context, from, to int) error {
	work := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
					Name: fmt.Sprintf("violator-%05d", i), Namespace: Playground,
					Labels: map[string]string{"test.gatekeeper.sh/audit": "yes"},
				}}
				if _, err := e.Kube.Client.CoreV1().ConfigMaps(Playground).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					select {
					case errs <- fmt.Errorf("creating ConfigMap %s/%s: %w", Playground, cm.Name, err):
					default:
					}
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

var constraintGVR = schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8srequiredlabels"}

// TotalViolations reads the constraint's status.totalViolations (-1 before
// the first audit).
func (e *Env) TotalViolations(ctx context.Context) (int64, error) {
	dyn, err := dynamic.NewForConfig(e.Kube.Config)
	if err != nil {
		return 0, err
	}
	u, err := dyn.Resource(constraintGVR).Get(ctx, Constraint, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	v, ok, _ := unstructured.NestedInt64(u.Object, "status", "totalViolations")
	if !ok {
		return -1, nil
	}
	return v, nil
}

// SubscriberOutput is what the sample subscriber printed.
func (e *Env) SubscriberOutput() string { return e.Kubelet.Logs(SubscriberNS, "sub-", "go-sub") }

// AuditLog is what the audit's manager container printed.
func (e *Env) AuditLog() string { return e.Kubelet.Logs(GatekeeperNS, "gatekeeper-audit-", "manager") }

// Received decodes the subscriber's output: one JSON violation per line
// (audit start and end messages are left out).
func Received(output string) []violation.Violation {
	var out []violation.Violation
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var v violation.Violation
		if json.Unmarshal([]byte(line), &v) == nil && v.EventType == violation.EventType {
			out = append(out, v)
		}
	}
	return out
}

// ConsumerAPI waits until the violations consumer in namespace ns serves,
// and returns its API's address on loopback (the stand-in maps its port),
// read from its "serving" log line.
func (e *Env) ConsumerAPI(ctx context.Context, ns string) (string, error) {
	for {
		sc := bufio.NewScanner(strings.NewReader(e.Kubelet.Logs(ns, "violations-", "violations")))
		for sc.Scan() {
			var line struct{ Msg, API string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				_, port, err := net.SplitHostPort(line.API)
				if err != nil {
					return "", fmt.Errorf("the consumer's serving line %s: %w", sc.Text(), err)
				}
				return "http://127.0.0.1:" + port, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the consumer in %s did not start serving: %w", ns, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// FixViolators gives ConfigMaps of the playground the label the constraint
// requires, so the next audit no longer reports them.
func (e *Env) FixViolators(ctx context.Context, names ...string) error {
	patch := []byte(`{"metadata":{"labels":{"gatekeeper":"fixed"}}}`)
	for _, name := range names {
		if _, err := e.Kube.Client.CoreV1().ConfigMaps(Playground).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("labelling ConfigMap %s/%s: %w", Playground, name, err)
		}
	}
	return nil
}
