package cluster

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// Apply applies every object of a multi-document YAML server-side, as
// `kubectl apply --server-side` does; objects without a namespace get
// defaultNS when their kind is namespaced. A kind that is not served yet
// (a CRD applied just before) is waited for.
func (e *Env) Apply(ctx context.Context, manifest []byte, defaultNS string) error {
	dc, err := discovery.NewDiscoveryClientForConfig(e.Kube.Config)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(e.Kube.Config)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	for i := 0; ; i++ {
		var obj unstructured.Unstructured
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		var mapping *meta.RESTMapping
		deadline := time.Now().Add(30 * time.Second)
		for {
			mapping, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err == nil || time.Now().After(deadline) {
				break
			}
			mapper.Reset()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		ri := dyn.Resource(mapping.Resource)
		var target dynamic.ResourceInterface = ri
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(defaultNS)
			}
			target = ri.Namespace(obj.GetNamespace())
		}
		data, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		force := true
		if _, err := target.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "gatekeeper-pubsub-e2e", Force: &force}); err != nil {
			return fmt.Errorf("applying %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
}

// installDaprCRDs applies Dapr's CRDs from its chart in the Dapr module.
func (e *Env) installDaprCRDs(ctx context.Context) error {
	dir, err := ModuleDir(ctx, "github.com/dapr/dapr", "v"+DaprVersion)
	if err != nil {
		return err
	}
	return e.applyDir(ctx, filepath.Join(dir, "charts", "dapr", "crds"))
}

// applyDir applies every *.yaml file of dir, in name order.
func (e *Env) applyDir(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no manifests in %s (%w)", dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := e.Apply(ctx, b, ""); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// OpenReportsVersion is the reports-api module whose CRDs the consumer's
// reports are written against.
const OpenReportsVersion = "v0.2.1"

// InstallOpenReportsCRDs applies OpenReports' CRDs (Report, ClusterReport)
// from the reports-api module, as Policy Reporter's chart would.
func (e *Env) InstallOpenReportsCRDs(ctx context.Context) error {
	dir, err := ModuleDir(ctx, "github.com/openreports/reports-api", OpenReportsVersion)
	if err != nil {
		return err
	}
	return e.applyDir(ctx, filepath.Join(dir, "config", "crd"))
}

// Helm returns a Helm action configuration for namespace ns, talking to the
// API server as the admin.
func (e *Env) Helm(ns string) (*action.Configuration, error) {
	flags := genericclioptions.NewConfigFlags(false)
	kc := e.Kube.Kubeconfig
	flags.KubeConfig, flags.Namespace = &kc, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", func(string, ...any) {}); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	return cfg, nil
}

// HelmInstall installs the chart in dir as release name into ns, for real
// (action.Install, not a dry run).
func (e *Env) HelmInstall(ctx context.Context, dir, name, ns string, vals map[string]any, disableHooks bool) (*release.Release, error) {
	return e.HelmInstallPostRendered(ctx, dir, name, ns, vals, disableHooks, nil)
}

// PostRenderFunc changes the rendered manifests before Helm installs them
// (Helm's --post-renderer).
type PostRenderFunc func(*bytes.Buffer) (*bytes.Buffer, error)

// Run implements Helm's postrender.PostRenderer.
func (f PostRenderFunc) Run(in *bytes.Buffer) (*bytes.Buffer, error) { return f(in) }

// HelmInstallPostRendered is HelmInstall with a post-renderer (nil for
// none).
func (e *Env) HelmInstallPostRendered(ctx context.Context, dir, name, ns string, vals map[string]any, disableHooks bool, post PostRenderFunc) (*release.Release, error) {
	cfg, err := e.Helm(ns)
	if err != nil {
		return nil, err
	}
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName, inst.Namespace = name, ns
	inst.DisableHooks = disableHooks
	inst.Timeout = 2 * time.Minute
	if post != nil {
		inst.PostRenderer = post
	}
	rel, err := inst.RunWithContext(ctx, chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("helm install %s %s -n %s: %w", name, dir, ns, err)
	}
	return rel, nil
}

// GatekeeperChartValues are the values Gatekeeper's own chart is installed
// with here: none of Gatekeeper's webhooks or webhook pods (no process here
// serves them, and the apiserver must never call a Service IP), no hooks,
// and no audit unless the caller turns it back on.
func GatekeeperChartValues() map[string]any {
	return map[string]any{
		"replicas":                 0,
		"disableAudit":             true,
		"disableValidatingWebhook": true,
		"disableMutation":          true,
		"upgradeCRDs":              map[string]any{"enabled": false},
		"postInstall": map[string]any{
			"labelNamespace": map[string]any{"enabled": false},
			"probeWebhook":   map[string]any{"enabled": false},
		},
	}
}

// InstallGatekeeper installs Gatekeeper's own chart, from the Gatekeeper
// module at version, into gatekeeper-system (which must exist), with
// GatekeeperChartValues merged with vals. It then fills the webhook
// certificate Secret the audit mounts, as Gatekeeper's webhook (its cert
// rotator, not run here) would.
func (e *Env) InstallGatekeeper(ctx context.Context, version string, vals map[string]any) (*release.Release, error) {
	dir, err := ModuleDir(ctx, "github.com/open-policy-agent/gatekeeper/v3", version)
	if err != nil {
		return nil, err
	}
	all := GatekeeperChartValues()
	MergeValues(all, vals)
	rel, err := e.HelmInstall(ctx, filepath.Join(dir, "charts", "gatekeeper"), "gatekeeper", GatekeeperNS, all, true)
	if err != nil {
		return nil, err
	}
	return rel, e.FillWebhookCert(ctx)
}

// UpgradeGatekeeper upgrades the release of Gatekeeper's own chart that
// InstallGatekeeper made, with GatekeeperChartValues merged with vals (as
// `helm upgrade` with those values), and waits for nothing.
func (e *Env) UpgradeGatekeeper(ctx context.Context, version string, vals map[string]any) (*release.Release, error) {
	dir, err := ModuleDir(ctx, "github.com/open-policy-agent/gatekeeper/v3", version)
	if err != nil {
		return nil, err
	}
	cfg, err := e.Helm(GatekeeperNS)
	if err != nil {
		return nil, err
	}
	chartDir := filepath.Join(dir, "charts", "gatekeeper")
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", chartDir, err)
	}
	all := GatekeeperChartValues()
	MergeValues(all, vals)
	up := action.NewUpgrade(cfg)
	up.Namespace, up.DisableHooks, up.Timeout = GatekeeperNS, true, 2*time.Minute
	rel, err := up.RunWithContext(ctx, "gatekeeper", chrt, all)
	if err != nil {
		return nil, fmt.Errorf("helm upgrade gatekeeper %s -n %s: %w", chartDir, GatekeeperNS, err)
	}
	return rel, nil
}

// FillWebhookCert writes a self-signed serving certificate for
// gatekeeper-webhook-service into the Secret gatekeeper-webhook-server-cert
// (created, empty, by Gatekeeper's chart), as Gatekeeper's cert rotator
// does in a cluster.
func (e *Env) FillWebhookCert(ctx context.Context) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	host := "gatekeeper-webhook-service." + GatekeeperNS + ".svc"
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kp := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	secrets := e.Kube.Client.CoreV1().Secrets(GatekeeperNS)
	s, err := secrets.Get(ctx, gatekeeperCertSec, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading Secret %s/%s: %w", GatekeeperNS, gatekeeperCertSec, err)
	}
	s.Data = map[string][]byte{"tls.crt": crt, "tls.key": kp, "ca.crt": crt, "ca.key": kp}
	if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("filling Secret %s/%s: %w", GatekeeperNS, gatekeeperCertSec, err)
	}
	return nil
}

// MergeValues merges src into dst, maps recursively, as Helm merges values
// (a nil in src is kept: Helm then deletes the key).
func MergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				MergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
