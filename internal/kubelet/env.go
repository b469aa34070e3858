package kubelet

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// env resolves the container's environment variables in order.
func (p *pod) env(ctx context.Context, c corev1.Container) ([]string, error) {
	var out []string
	vars := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom == nil {
			v = expand([]string{v}, vars)[0]
		} else {
			var err error
			if v, err = p.envFrom(ctx, e); err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
		}
		vars[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out, nil
}

func (p *pod) envFrom(ctx context.Context, e corev1.EnvVar) (string, error) {
	src := e.ValueFrom
	switch {
	case src.FieldRef != nil:
		switch src.FieldRef.FieldPath {
		case "metadata.name":
			return p.obj.Name, nil
		case "metadata.namespace":
			return p.obj.Namespace, nil
		case "metadata.uid":
			return string(p.obj.UID), nil
		case "spec.nodeName":
			return "kubelet-standin", nil
		case "spec.serviceAccountName":
			return p.obj.Spec.ServiceAccountName, nil
		case "status.podIP", "status.hostIP":
			return "127.0.0.1", nil
		}
		if k, ok := strings.CutPrefix(src.FieldRef.FieldPath, "metadata.labels['"); ok {
			return p.obj.Labels[strings.TrimSuffix(k, "']")], nil
		}
		if k, ok := strings.CutPrefix(src.FieldRef.FieldPath, "metadata.annotations['"); ok {
			return p.obj.Annotations[strings.TrimSuffix(k, "']")], nil
		}
		return "", fmt.Errorf("fieldRef %s is not supported by the stand-in", src.FieldRef.FieldPath)
	case src.SecretKeyRef != nil:
		s, err := p.k.client.CoreV1().Secrets(p.obj.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if ptr.Deref(src.SecretKeyRef.Optional, false) {
				return "", nil
			}
			return "", &waitError{fmt.Errorf("Secret %s/%s: %w", p.obj.Namespace, src.SecretKeyRef.Name, err)} //nolint:staticcheck // ST1005: "Secret" is the Kind, as kubectl writes it
		}
		return string(s.Data[src.SecretKeyRef.Key]), nil
	case src.ConfigMapKeyRef != nil:
		cm, err := p.k.client.CoreV1().ConfigMaps(p.obj.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if ptr.Deref(src.ConfigMapKeyRef.Optional, false) {
				return "", nil
			}
			return "", &waitError{fmt.Errorf("ConfigMap %s/%s: %w", p.obj.Namespace, src.ConfigMapKeyRef.Name, err)}
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	}
	return "", fmt.Errorf("valueFrom of this kind is not supported by the stand-in")
}
