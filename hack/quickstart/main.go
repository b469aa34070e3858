// Command quickstart runs the Gatekeeper pubsub quick start on this machine,
// without Kubernetes, for a person to watch (`make demo`): Redis with a
// password, the fake subscriber behind its Dapr sidecar (app-id
// subscriber), the audit's Dapr sidecar (app-id audit), and pubsub-send
// publishing the documentation's example violation and a few more through
// the connection ConfigMap. It prints what the subscriber logged and stops
// everything it started.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

func main() {
	bin := flag.String("bin", "bin", "directory with fake-subscriber and pubsub-send")
	more := flag.Int("more", 4, "violations to send after the documentation's example")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *more); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run(ctx context.Context, bin string, more int) (err error) {
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gatekeeper-pubsub-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var cleanups []func()
	defer func() {
		step("stopping everything this demo started")
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	step("starting redis-server with a password (the quick start's Redis)")
	redis, err := procs.StartRedis(ctx, procs.RedisOptions{Password: fmt.Sprintf("demo-%d", time.Now().UnixNano())})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, redis.Stop)
	fmt.Printf("    redis listening on %s\n", redis.Addr)

	secrets, err := quickstart.WriteSecrets(dir, redis.Password)
	if err != nil {
		return err
	}
	resources := quickstart.Resources(redis.Addr, secrets)
	fmt.Printf("    Dapr resources: secret store %q (standing in for the Kubernetes Secret %q) and Component %q (pubsub.redis, redisPassword from secretKeyRef)\n",
		quickstart.SecretStore, quickstart.SecretName, quickstart.Component)

	appPort, err := procs.FreePort()
	if err != nil {
		return err
	}
	step("starting the fake subscriber on port %d (topic %s)", appPort, quickstart.Channel)
	sub, err := procs.StartApp("fake-subscriber", filepath.Join(bin, "fake-subscriber"),
		[]string{"--port", fmt.Sprint(appPort)}, []string{"AUDIT_CHANNEL=" + quickstart.Channel}, nil)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, sub.Stop)

	step("starting daprd for app-id %q in front of it", quickstart.SubscriberAppID)
	subDaprd, err := procs.StartDaprd(ctx, procs.DaprdOptions{AppID: quickstart.SubscriberAppID, AppPort: appPort, Resources: resources, EnableAPILogging: true})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, subDaprd.Stop)

	step("starting daprd for app-id %q (the audit pod's sidecar)", quickstart.AuditAppID)
	auditDaprd, err := procs.StartDaprd(ctx, procs.DaprdOptions{AppID: quickstart.AuditAppID, Resources: resources})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, auditDaprd.Stop)
	fmt.Printf("    audit sidecar gRPC API on %s\n", auditDaprd.GRPCAddr)

	connFile := filepath.Join(dir, "audit-connection.yaml")
	if err := os.WriteFile(connFile, []byte(quickstart.ConnectionConfigMap()), 0o600); err != nil {
		return err
	}
	fmt.Printf("    connection ConfigMap:\n%s", indent(quickstart.ConnectionConfigMap()))

	env := []string{"DAPR_GRPC_ENDPOINT=" + auditDaprd.GRPCAddr}
	step("pubsub-send: the documentation's example violation")
	if err := send(ctx, bin, env, "--connection", connFile, "--channel", quickstart.Channel); err != nil {
		return err
	}
	if more > 0 {
		file := filepath.Join(dir, "violations.json")
		if err := writeMore(file, more); err != nil {
			return err
		}
		step("pubsub-send: %d more violations from %s", more, filepath.Base(file))
		if err := send(ctx, bin, env, "--connection", connFile, "--channel", quickstart.Channel, "--file", file); err != nil {
			return err
		}
	}

	want := 1 + more
	step("waiting for the subscriber to log %d violations", want)
	deadline := time.Now().Add(30 * time.Second)
	var lines []string
	for time.Now().Before(deadline) {
		lines = violationLines(sub.Logs())
		if len(lines) >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	step("the subscriber's log (kubectl logs -l app=sub -c go-sub -n fake-subscriber, without Kubernetes):")
	for _, l := range lines {
		fmt.Println(l)
	}
	if len(lines) < want {
		return fmt.Errorf("the subscriber logged %d of %d violations; its output:\n%s\ndaprd subscriber:\n%s", len(lines), want, sub.Logs(), subDaprd.Logs())
	}
	step("received %d of %d violations", len(lines), want)
	return nil
}

func send(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "pubsub-send"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pubsub-send: %w", err)
	}
	return nil
}

func writeMore(path string, n int) error {
	kinds := []string{"Pod", "Deployment", "Service", "Namespace"}
	list := make([]violation.Violation, n)
	for i := range list {
		v := violation.Example(time.Now())
		v.ResourceKind = kinds[i%len(kinds)]
		v.ResourceName = fmt.Sprintf("demo-%s-%d", strings.ToLower(v.ResourceKind), i+1)
		v.ResourceLabels = map[string]string{"app": "demo"}
		list[i] = v
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func violationLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"eventType":"violation_audited"`) {
			out = append(out, l)
		}
	}
	return out
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}
