package connection

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// resource is Gatekeeper's Connection (v3.20+), for the strict decode of
// Parse: spec.driver names the driver, spec.config is its config.
type resource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec *struct {
		Driver string `json:"driver"`
		Config any    `json:"config"`
	} `json:"spec"`
}

// Parse reads one connection config from YAML or JSON (source names it in
// errors): a ConfigMap, or a Connection resource when its kind says so. The
// object is decoded strictly, as kubectl's strict field validation would:
// an unknown field or a value of the wrong type is an error (an *Error),
// and so is a kind that is neither. Everything else wrong with the config
// is in the Connection's Problems (Err returns the first).
func Parse(source string, data []byte) (*Connection, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, &Error{Source: source, Err: fmt.Errorf("not YAML or JSON: %w", err)}
	}
	switch head.Kind {
	case "Connection":
		var r resource
		if err := yaml.UnmarshalStrict(data, &r); err != nil {
			return nil, &Error{Source: source, Object: "Connection", Err: fmt.Errorf("not a Connection: %w", err)}
		}
	case "", "ConfigMap":
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(data, &cm); err != nil {
			return nil, &Error{Source: source, Object: "ConfigMap", Err: fmt.Errorf("not a ConfigMap: %w", err)}
		}
	default:
		var obj struct {
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		_ = yaml.Unmarshal(data, &obj)
		c := &Connection{Name: obj.Metadata.Name, Namespace: obj.Metadata.Namespace}
		return nil, &Error{Source: source, Object: c.Object(), Field: "kind", Err: fmt.Errorf("is %q, want ConfigMap or Connection", head.Kind)}
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, &Error{Source: source, Err: fmt.Errorf("not YAML or JSON: %w", err)}
	}
	c := FromObject(obj, "")
	c.Source = source
	return c, nil
}

// ReadDir reads a ConfigMap mounted as a directory (each key a file:
// provider or driver, and config), as a pod that mounts the connection
// ConfigMap sees it; the directory's name is the connection's name.
func ReadDir(dir string) (*Connection, error) {
	data := map[string]any{}
	for _, key := range []string{"provider", "driver", "config"} {
		b, err := os.ReadFile(filepath.Join(dir, key))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading connection %s: %w", dir, err)
		}
		data[key] = string(b)
	}
	obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": filepath.Base(filepath.Clean(dir))}, "data": data}
	c := FromObject(obj, "")
	c.Source = dir
	return c, nil
}
