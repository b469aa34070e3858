package pubsub

import (
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// ConnectionAPIVersion is the API of the Connection resource that holds the
// connection config from Gatekeeper v3.20 on.
const ConnectionAPIVersion = "connection.gatekeeper.sh/v1alpha1"

// connectionResource is Gatekeeper's Connection (v3.20+): spec.driver names
// the provider, spec.config is the provider's config as an object.
type connectionResource struct {
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

// ParseConnection reads a connection config in any of Gatekeeper's forms: a
// ConfigMap with data.provider (v3.13-v3.18) or data.driver (v3.19), or a
// Connection resource with spec.driver and spec.config (v3.20+). Errors
// name the source, the object and the field. A config that Gatekeeper
// accepts but whose driver this publisher does not implement (disk) is an
// error wrapping ErrDriverNotSupported, after its config was validated.
func ParseConnection(source string, data []byte) (*ConnectionConfig, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, &ConfigError{Source: source, Err: fmt.Errorf("not YAML or JSON: %w", err)}
	}
	if head.Kind != "Connection" {
		return ParseConnectionConfigMap(source, data)
	}
	var c connectionResource
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, &ConfigError{Source: source, Object: "Connection", Err: fmt.Errorf("not a Connection: %w", err)}
	}
	obj := "Connection " + c.Metadata.Name
	if c.Metadata.Namespace != "" {
		obj = "Connection " + c.Metadata.Namespace + "/" + c.Metadata.Name
	}
	fail := func(field string, err error) error {
		return &ConfigError{Source: source, Object: obj, Field: field, Err: err}
	}
	if c.APIVersion != ConnectionAPIVersion {
		return nil, fail("apiVersion", fmt.Errorf("is %q, want %s", c.APIVersion, ConnectionAPIVersion))
	}
	if c.Spec == nil {
		return nil, fail("spec", errors.New("missing: a Connection needs spec.driver and spec.config"))
	}
	if strings.TrimSpace(c.Spec.Driver) == "" {
		return nil, fail("spec.driver", fmt.Errorf("missing: set it to one of %s", strings.Join(schemas.DriversFor(schemas.FormConnection), ", ")))
	}
	if err := CheckDriver(schemas.FormConnection, c.Spec.Driver); err != nil {
		return nil, fail("spec.driver", err)
	}
	if c.Spec.Config == nil {
		return nil, fail("spec.config", errors.New("missing: an object such as {component: pubsub}"))
	}
	if err := ValidateConfig(c.Spec.Driver, c.Spec.Config); err != nil {
		var pe *PointerError
		if errors.As(err, &pe) {
			return nil, fail("spec.config"+pe.Pointer, pe.Err)
		}
		return nil, fail("spec.config", err)
	}
	if err := CheckPublisherDriver(c.Spec.Driver); err != nil {
		return nil, fail("spec.driver", err)
	}
	cfg, _ := c.Spec.Config.(map[string]any)
	return &ConnectionConfig{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Provider: c.Spec.Driver, Config: cfg}, nil
}
