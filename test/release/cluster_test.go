package release_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/kubelet"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// TestHelmInstallFromOCI is `helm install oci://.../gatekeeper-pubsub
// --version V --plain-http` and `helm test` for real, in internal/cluster's
// API server environment (Gatekeeper v3.17.0's own chart first, as the
// documented setup). The packaged chart pins the images by digest; the
// kubelet stand-in knows exactly those references, mapped to the binaries
// taken out of the pulled images, so the subscriber that receives the
// audit's violations and the helm test pod that publishes one are the
// released binaries, found by the references the chart rendered.
func TestHelmInstallFromOCI(t *testing.T) {
	f := released(t)
	send, sub := f.image(t, "pubsub-send"), f.image(t, "fake-subscriber")
	sendBin := extractBinary(t, send, "pubsub-send")
	subBin := extractBinary(t, sub, "fake-subscriber")
	const gk = "v3.17.0"

	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	e, err := cluster.Start(sctx, cluster.Options{
		DropAllCapabilities: true, GatekeeperVersions: []string{gk}, Step: func(s string) { t.Log(s) },
	})
	cancel()
	if err != nil {
		t.Fatalf("starting the environment: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("environment logs:\n%s", e.Logs())
		}
		e.Stop()
	})
	e.AddImage(send.Ref(), kubelet.Image{Binary: sendBin})
	e.AddImage(sub.Ref(), kubelet.Image{Binary: subBin, ListenFlags: map[string]string{"port": "$(APP_PORT)", "health-port": "$(HEALTH_PORT)"}})

	ctx := context.Background()
	if err := e.PrepareNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InstallGatekeeper(ctx, gk, nil); err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Helm(cluster.GatekeeperNS)
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(cfg)
	inst.SetRegistryClient(registryClient(t))
	inst.ReleaseName, inst.Namespace = "gatekeeper-pubsub", cluster.GatekeeperNS
	inst.ChartPathOptions.Version, inst.ChartPathOptions.PlainHTTP = version.Version, true
	inst.Timeout = 2 * time.Minute
	path, err := inst.ChartPathOptions.LocateChart(f.res.Chart.Ref, helmSettings(t))
	if err != nil {
		t.Fatalf("helm install %s: %v", f.res.Chart.Ref, err)
	}
	chrt, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// The package pins the Gatekeeper image of its gatekeeperVersion (a
	// stand-in in the test's registry); this audit runs another version,
	// so its image is given with the tag alone, as the environment's
	// stand-in kubelet knows it, and the pin is set aside as documented.
	vals := e.ChartValues(gk, 5)
	vals["image"] = map[string]any{"registry": "", "repository": cluster.GatekeeperImage, "release": "", "digest": ""}
	rel, err := inst.RunWithContext(ctx, chrt, vals)
	if err != nil {
		t.Fatalf("helm install %s --version %s: %v", f.res.Chart.Ref, version.Version, err)
	}
	if rel.Info.Status != release.StatusDeployed || rel.Chart.Metadata.Version != version.Version {
		t.Fatalf("release %s, chart %s", rel.Info.Status, rel.Chart.Metadata.Version)
	}

	// The subscriber's pod asks for the pinned image.
	waitFor(t, time.Minute, "the subscriber's pod", func() bool {
		pods, err := e.Kube.Client.CoreV1().Pods(cluster.SubscriberNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, p := range pods.Items {
			for _, c := range p.Spec.Containers {
				if c.Name == "go-sub" {
					if c.Image != sub.Ref() {
						t.Fatalf("subscriber image %s, want %s", c.Image, sub.Ref())
					}
					return true
				}
			}
		}
		return false
	})

	// Gatekeeper's audit publishes; the released subscriber receives.
	const n = 3
	if err := e.ApplyPolicy(ctx, gk); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateViolators(ctx, 0, n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "the audit's violations at the released subscriber", func() bool {
		objs := map[string]bool{}
		for _, v := range cluster.Received(e.SubscriberOutput()) {
			if v.Name == cluster.Constraint {
				objs[v.ResourceName] = true
			}
		}
		return len(objs) >= n
	})

	// helm test: the released pubsub-send publishes through its own daprd.
	rt := action.NewReleaseTesting(cfg)
	rt.Namespace, rt.Timeout = cluster.GatekeeperNS, 2*time.Minute
	tested, err := rt.Run("gatekeeper-pubsub")
	if err != nil {
		t.Fatalf("helm test: %v\nstand-in events:\n%s", err, e.Kubelet.Events())
	}
	ran := 0
	for _, h := range tested.Hooks {
		if h.LastRun.Phase != release.HookPhaseSucceeded {
			t.Errorf("helm test hook %s: %s", h.Name, h.LastRun.Phase)
		}
		if strings.Contains(h.Manifest, "image: "+send.Ref()+"\n") {
			ran++
		}
	}
	if ran != 1 {
		t.Errorf("%d helm test pods with image %s, want 1", ran, send.Ref())
	}
	waitFor(t, 30*time.Second, "the helm test's violation at the subscriber", func() bool {
		for _, v := range cluster.Received(e.SubscriberOutput()) {
			if v.Name == violation.Example(time.Now()).Name {
				return true
			}
		}
		return false
	})
	// The stand-in ran the binaries out of the images, not the checkout's.
	events := e.Kubelet.Events()
	for _, want := range []string{"container go-sub started: " + subBin + " ", "container pubsub-send started: " + sendBin + " "} {
		if !strings.Contains(events, want) {
			t.Errorf("the stand-in's events do not show %q:\n%s", want, events)
		}
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
