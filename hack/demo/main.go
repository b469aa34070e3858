// Command demo is what `make demo` runs: the Gatekeeper pubsub setup for
// real on this machine. It starts a Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager), Dapr's Sentry and sidecar
// injector, Redis and the kubelet stand-in; installs Gatekeeper's own chart
// and charts/gatekeeper-pubsub with audit.enablePubsub=true and the sample
// subscriber, with Helm; applies a constraint and objects that violate it;
// waits until Gatekeeper's own audit has found them and the subscriber has
// received them; prints what arrived. The violations consumer (namespace
// gatekeeper-violations, SQLite) keeps them: the demo fixes two objects,
// waits until the next audit resolves them, prints `violations list` and
// `violations runs`, and stops everything.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/client"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

func main() { os.Exit(run()) }

func run() int {
	version := flag.String("gatekeeper", "v3.17.0", "Gatekeeper version: "+strings.Join(cluster.GatekeeperVersions, " or "))
	n := flag.Int("violations", 5, "ConfigMaps that violate the constraint")
	verbose := flag.Bool("v", false, "print every process's output as it is written")
	keep := flag.Bool("keep", false, "keep everything running after the story, to try it, until Ctrl-C or SIGTERM")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	step := func(s string) { fmt.Printf("[%5.1fs] %s\n", time.Since(start).Seconds(), s) }
	opts := cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{*version}, Step: step,
		Namespaces: []string{cluster.GatekeeperNS, cluster.SubscriberNS, consumerNS}}
	if *verbose {
		opts.Tee = func(b []byte) { os.Stdout.Write(b) }
	}
	e, err := cluster.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	defer func() {
		step("stopping everything")
		e.Stop()
	}()
	// An alert route to a webhook receiver in this process: the consumer
	// tells it what each complete run changed.
	hook, err := startHook()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	defer hook.Close()
	if err := demo(ctx, e, hook, *version, *n, step); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n\nwhat the kubelet stand-in did:\n%s\n", err, e.Kubelet.Events())
		return 1
	}
	if *keep {
		server, err := e.ConsumerAPI(ctx, consumerNS)
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			return 1
		}
		fmt.Printf(`
Everything keeps running (Gatekeeper audits every 10 s). Try:

  export KUBECONFIG=%s
  kubectl get reports -A            # the consumer's OpenReports (openreports.io)
  kubectl get k8srequiredlabels %s -o yaml
  %s list --server %s --state all
  %s runs --server %s
  curl -s %s/metrics | grep gatekeeper_violations

The consumer's page (open violations, runs, their history): %s/
Alerts the consumer sent to the demo's webhook so far: %d

Ctrl-C (or SIGTERM) stops everything.
`, e.Kube.Kubeconfig, cluster.Constraint, filepath.Join(e.Bin, "violations"), server, filepath.Join(e.Bin, "violations"), server, server, server, hook.count())
		<-ctx.Done()
	}
	return 0
}

// consumerNS is where the demo runs the violations consumer.
const consumerNS = "gatekeeper-violations"

func demo(ctx context.Context, e *cluster.Env, hook *hook, version string, n int, step func(string)) error {
	step("namespaces gatekeeper-system, fake-subscriber, " + consumerNS + " and " + cluster.Playground + " (PodSecurity restricted); Secret redis in the first three")
	if err := e.PrepareNamespaces(ctx); err != nil {
		return err
	}
	if err := e.CreateNamespace(ctx, consumerNS, "restricted"); err != nil {
		return err
	}
	if err := e.CreateRedisSecret(ctx, consumerNS); err != nil {
		return err
	}
	step("helm install gatekeeper (Gatekeeper's own chart " + version + ", its audit off: ours runs it)")
	if _, err := e.InstallGatekeeper(ctx, version, nil); err != nil {
		return err
	}
	chart, err := cluster.ChartDir()
	if err != nil {
		return err
	}
	step("helm install gatekeeper-pubsub charts/gatekeeper-pubsub --set audit.deploy=true --set audit.enablePubsub=true --set subscriber.enabled=true --set consumer.enabled=true")
	values := e.ChartValues(version, 10)
	// Its own app-id: beside the sample subscriber (app-id subscriber) the
	// two would share one consumer group and each get part of the messages.
	values["consumer"] = map[string]any{"enabled": true, "namespace": consumerNS, "createNamespace": false, "runGrace": "2s", "appId": "violations",
		"reports": map[string]any{"enabled": true},
		"alerts":  map[string]any{"routes": []any{map[string]any{"name": "demo", "webhook": map[string]any{"url": hook.url}, "maxItems": 3}}}}
	step("OpenReports' CRDs (Report, ClusterReport) from the reports-api module, as Policy Reporter's chart installs them")
	if err := e.InstallOpenReportsCRDs(ctx); err != nil {
		return err
	}
	rel, err := e.HelmInstall(ctx, chart, "gatekeeper-pubsub", cluster.GatekeeperNS, values, false)
	if err != nil {
		return err
	}
	step(fmt.Sprintf("release %s: %s", rel.Name, rel.Info.Status))
	for _, p := range []struct{ ns, prefix string }{{cluster.GatekeeperNS, "gatekeeper-audit-"}, {cluster.SubscriberNS, "sub-"}, {consumerNS, "violations-"}} {
		pod, err := waitPod(ctx, e, p.ns, p.prefix)
		if err != nil {
			return err
		}
		var names []string
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
		}
		step(fmt.Sprintf("pod %s/%s admitted under PodSecurity restricted, containers: %s (daprd injected by Dapr's injector)", p.ns, pod.Name, strings.Join(names, ", ")))
	}
	step("ConstraintTemplate k8srequiredlabels and constraint " + cluster.Constraint + " (Gatekeeper's own test files)")
	if err := e.ApplyPolicy(ctx, version); err != nil {
		return err
	}
	step(fmt.Sprintf("%d ConfigMaps in %s without the required label gatekeeper", n, cluster.Playground))
	if err := e.CreateViolators(ctx, 0, n); err != nil {
		return err
	}
	step("waiting for Gatekeeper's audit (every 10 s) and the subscriber")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		total, _ := e.TotalViolations(ctx)
		got := subscriberLines(e.SubscriberOutput())
		if total == int64(n) && len(cluster.Received(e.SubscriberOutput())) >= n {
			step(fmt.Sprintf("constraint %s: totalViolations=%d; the subscriber received:", cluster.Constraint, total))
			for _, l := range got {
				fmt.Println("  " + l)
			}
			if err := consume(ctx, e, n, hook, step); err != nil {
				return err
			}
			printResources()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after 3 minutes: totalViolations=%d, the subscriber received %d", total, len(got))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// consume shows the violations consumer: what it keeps, two objects fixed
// and their violations resolved by the next complete audit run.
func consume(ctx context.Context, e *cluster.Env, n int, hook *hook, step func(string)) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	server, err := e.ConsumerAPI(ctx, consumerNS)
	if err != nil {
		return err
	}
	step(fmt.Sprintf("the violations consumer (%s) serves its API on %s; waiting until it holds the %d violations from a complete run", consumerNS, server, n))
	if err := waitCount(ctx, server, "open", n); err != nil {
		return err
	}
	step("fixing violator-00000 and violator-00001 (label gatekeeper added); waiting for the next audit run to resolve them")
	if err := e.FixViolators(ctx, "violator-00000", "violator-00001"); err != nil {
		return err
	}
	if err := waitCount(ctx, server, "resolved", 2); err != nil {
		return err
	}
	step("the alert the consumer sent to the demo's webhook (" + hook.url + ") for that run: 2 resolved (routes get one message per run that changed something)")
	body, err := hook.waitResolved(ctx, 2)
	if err != nil {
		return err
	}
	fmt.Println(body)
	for _, args := range [][]string{{"list", "--state", "all"}, {"runs", "--limit", "5"}} {
		step("violations " + strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, filepath.Join(e.Bin, "violations"), append(args, "--server", server)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("violations %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

// waitCount waits until the consumer's API lists want violations in state.
func waitCount(ctx context.Context, server, state string, want int) error {
	c, err := client.New(server)
	if err != nil {
		return err
	}
	got := 0
	for {
		vs, err := c.Violations(ctx, client.ListOptions{State: state})
		if err == nil {
			got = len(vs)
			if got == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the consumer lists %d %s violations, want %d (last error: %w)", got, state, want, err)
		case <-time.After(time.Second):
		}
	}
}

// subscriberLines returns the subscriber's JSON output lines (violations,
// and audit start/end messages from v3.20).
func subscriberLines(logs string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		var v violation.Violation
		if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &v) == nil {
			out = append(out, l)
		}
	}
	return out
}

func waitPod(ctx context.Context, e *cluster.Env, ns, prefix string) (*corev1.Pod, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		pods, err := e.Kube.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range pods.Items {
				if strings.HasPrefix(pods.Items[i].Name, prefix) {
					return &pods.Items[i], nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no pod %s* in %s after 60 s", prefix, ns)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// printResources prints the resident memory of every process the demo
// started (its descendants), read from /proc.
func printResources() {
	children := map[int][]int{}
	names := map[int]string{}
	rss := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, de := range entries {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", de.Name(), "status"))
		if err != nil {
			continue
		}
		ppid := 0
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				names[pid] = v
			case "PPid":
				ppid, _ = strconv.Atoi(v)
			case "VmRSS":
				kb, _ := strconv.Atoi(strings.TrimSuffix(v, " kB"))
				rss[pid] = kb
			}
		}
		children[ppid] = append(children[ppid], pid)
	}
	total := 0
	var walk func(pid int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			if names[c] != "" && rss[c] > 0 {
				fmt.Printf("  %-26s pid %-7d RSS %6.1f MB\n", names[c], c, float64(rss[c])/1024)
				total += rss[c]
			}
			walk(c)
		}
	}
	fmt.Println("resident memory of the processes:")
	walk(os.Getpid())
	fmt.Printf("  %-26s             RSS %6.1f MB\n", "total", float64(total)/1024)
}
