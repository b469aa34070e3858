package kubelet

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// mounts writes the container's volumes into the pod's directory (fresh
// for each run, as a kubelet refreshes ConfigMap and Secret volumes) and
// returns mount path -> host directory.
func (p *pod) mounts(ctx context.Context, c corev1.Container) (map[string]string, error) {
	vols := map[string]corev1.Volume{}
	for _, v := range p.obj.Spec.Volumes {
		vols[v.Name] = v
	}
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: no volume of that name", m.Name)
		}
		host := filepath.Join(p.dir, "volumes", m.Name)
		switch {
		case v.EmptyDir != nil:
			// Kept across runs, as an emptyDir lives as long as the pod.
			if err := os.MkdirAll(host, 0o700); err != nil {
				return nil, err
			}
		case v.ConfigMap != nil:
			data, err := p.configMapData(ctx, m.Name, v.ConfigMap.Name, ptr.Deref(v.ConfigMap.Optional, false))
			if err != nil {
				return nil, err
			}
			if err := writeFiles(host, data, v.ConfigMap.Items); err != nil {
				return nil, err
			}
		case v.Secret != nil:
			data, err := p.secretData(ctx, m.Name, v.Secret.SecretName, ptr.Deref(v.Secret.Optional, false))
			if err != nil {
				return nil, err
			}
			if err := writeFiles(host, data, v.Secret.Items); err != nil {
				return nil, err
			}
		case v.PersistentVolumeClaim != nil:
			// A claim outlives its pods: one directory per claim, kept
			// across pods and runs (there is no provisioner; the claim
			// stays Pending, and the stand-in runs the pod anyway).
			host = filepath.Join(p.k.dir, "claims", p.obj.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err := os.MkdirAll(host, 0o700); err != nil {
				return nil, err
			}
		case v.Projected != nil:
			data, err := p.projectedData(ctx, m.Name, v.Projected)
			if err != nil {
				return nil, err
			}
			if err := writeFiles(host, data, nil); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("volume %s: only emptyDir, configMap, secret, persistentVolumeClaim and projected volumes are supported by the stand-in", m.Name)
		}
		if m.SubPath != "" {
			host = filepath.Join(host, m.SubPath)
		}
		out[m.MountPath] = host
	}
	return out, nil
}

func (p *pod) configMapData(ctx context.Context, volume, name string, optional bool) (map[string][]byte, error) {
	cm, err := p.k.client.CoreV1().ConfigMaps(p.obj.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional {
			return map[string][]byte{}, nil
		}
		return nil, &waitError{fmt.Errorf("volume %s: ConfigMap %s/%s: %w", volume, p.obj.Namespace, name, err)}
	}
	data := map[string][]byte{}
	for k, s := range cm.Data {
		data[k] = []byte(s)
	}
	for k, b := range cm.BinaryData {
		data[k] = b
	}
	return data, nil
}

func (p *pod) secretData(ctx context.Context, volume, name string, optional bool) (map[string][]byte, error) {
	s, err := p.k.client.CoreV1().Secrets(p.obj.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional {
			return map[string][]byte{}, nil
		}
		return nil, &waitError{fmt.Errorf("volume %s: Secret %s/%s: %w", volume, p.obj.Namespace, name, err)}
	}
	return s.Data, nil
}

// projectedData gathers a projected volume's files: ConfigMap and Secret
// keys (items selected and renamed) and the downward API's namespace. A
// service account token is not written: the pod's credentials are in
// KUBECONFIG. The token volume's kube-root-ca.crt is optional here (the
// stand-in's clients do not read it).
func (p *pod) projectedData(ctx context.Context, volume string, v *corev1.ProjectedVolumeSource) (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(data map[string][]byte, items []corev1.KeyToPath) {
		if len(items) == 0 {
			maps.Copy(out, data)
			return
		}
		for _, it := range items {
			if b, ok := data[it.Key]; ok {
				out[it.Path] = b
			}
		}
	}
	for _, src := range v.Sources {
		switch {
		case src.ConfigMap != nil:
			optional := ptr.Deref(src.ConfigMap.Optional, false) || src.ConfigMap.Name == "kube-root-ca.crt"
			data, err := p.configMapData(ctx, volume, src.ConfigMap.Name, optional)
			if err != nil {
				return nil, err
			}
			add(data, src.ConfigMap.Items)
		case src.Secret != nil:
			data, err := p.secretData(ctx, volume, src.Secret.Name, ptr.Deref(src.Secret.Optional, false))
			if err != nil {
				return nil, err
			}
			add(data, src.Secret.Items)
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.namespace" {
					out[it.Path] = []byte(p.obj.Namespace)
				}
			}
		}
	}
	if len(v.Sources) == 0 || (len(out) == 0 && v.Sources[0].ServiceAccountToken != nil) {
		out["namespace"] = []byte(p.obj.Namespace)
	}
	return out, nil
}

// writeFiles replaces dir's contents with data (only items, renamed, when
// items are given).
func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if len(items) > 0 {
		sel := map[string][]byte{}
		for _, it := range items {
			if b, ok := data[it.Key]; ok {
				sel[it.Path] = b
			}
		}
		data = sel
	}
	for name, b := range data {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// rewritePaths rewrites a path in a container (alone, or as a flag's value
// after "=") that lies under a mount to the mount's host directory.
func rewritePaths(arg string, mounts map[string]string) string {
	prefix, val := "", arg
	if strings.HasPrefix(arg, "-") {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return arg
		}
		prefix, val = k+"=", v
	}
	// A URL naming a file (sqlite:///var/lib/x.db) is rewritten in its
	// path.
	if scheme, rest, ok := strings.Cut(val, "://"); ok && strings.HasPrefix(rest, "/") && !strings.ContainsAny(scheme, "/=") {
		prefix, val = prefix+scheme+"://", rest
	}
	best := ""
	for mp := range mounts {
		mp0 := strings.TrimSuffix(mp, "/")
		if (val == mp0 || strings.HasPrefix(val, mp0+"/")) && len(mp0) > len(best) {
			best = mp0
		}
	}
	if best == "" {
		return arg
	}
	host := mounts[best]
	if host == "" {
		host = mounts[best+"/"]
	}
	return prefix + host + strings.TrimPrefix(val, best)
}
