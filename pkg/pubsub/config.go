package pubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// ConnectionConfig is the content of a connection ConfigMap: which provider
// to use and its config (data.config decoded from its JSON string).
type ConnectionConfig struct {
	// Name and Namespace are the ConfigMap's; Name is what --audit-connection names.
	Name      string
	Namespace string
	// Provider is data.provider, for example "dapr".
	Provider string
	// Config is data.config decoded; it passed the provider's schema.
	Config map[string]any
}

// ConfigError says what is wrong with a connection config and where: the
// file (or other source), the object and the field.
type ConfigError struct {
	// Source is the file the ConfigMap came from ("" when not from a file).
	Source string
	// Object is "ConfigMap namespace/name" (or "ConfigMap name").
	Object string
	// Field is the field path, for example "data.config" or
	// "data.config/component" (a JSON pointer inside data.config).
	Field string
	// Err is the cause.
	Err error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ParseConnectionConfigMap reads a connection ConfigMap from YAML or JSON
// (source names it in errors) and validates it; see FromConfigMap.
func ParseConnectionConfigMap(source string, data []byte) (*ConnectionConfig, error) {
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(data, &cm); err != nil {
		return nil, &ConfigError{Source: source, Object: "ConfigMap", Err: fmt.Errorf("not a ConfigMap: %w", err)}
	}
	if cm.Kind != "" && cm.Kind != "ConfigMap" {
		return nil, &ConfigError{Source: source, Object: objectName(&cm), Field: "kind", Err: fmt.Errorf("is %q, want ConfigMap", cm.Kind)}
	}
	return FromConfigMap(source, &cm)
}

// FromConfigMap checks a connection ConfigMap: data.provider (data.driver
// in Gatekeeper v3.19) is a provider a ConfigMap can name, data.config is a
// JSON object that passes the provider's schema, and this publisher
// implements the provider. Every error is a *ConfigError naming the field.
func FromConfigMap(source string, cm *corev1.ConfigMap) (*ConnectionConfig, error) {
	obj := objectName(cm)
	fail := func(field string, err error) error {
		return &ConfigError{Source: source, Object: obj, Field: field, Err: err}
	}
	if cm.Data == nil {
		return nil, fail("data", errors.New("missing: a connection ConfigMap needs data.provider and data.config"))
	}
	key := "data.provider"
	provider, ok := cm.Data["provider"]
	if !ok {
		// Gatekeeper v3.19 names the key "driver".
		if provider, ok = cm.Data["driver"]; ok {
			key = "data.driver"
		}
	}
	valid := schemas.DriversFor(schemas.FormConfigMap)
	if !ok || strings.TrimSpace(provider) == "" {
		return nil, fail(key, fmt.Errorf("missing: set it to one of %s", strings.Join(valid, ", ")))
	}
	if err := CheckDriver(schemas.FormConfigMap, provider); err != nil {
		return nil, fail(key, err)
	}
	raw, ok := cm.Data["config"]
	if !ok {
		return nil, fail("data.config", errors.New("missing: a JSON object such as {\"component\": \"pubsub\"}"))
	}
	cfg, err := DecodeConfig(provider, []byte(raw))
	if err != nil {
		var pe *PointerError
		if errors.As(err, &pe) {
			return nil, fail("data.config"+pe.Pointer, pe.Err)
		}
		return nil, fail("data.config", err)
	}
	if err := CheckPublisherDriver(provider); err != nil {
		return nil, fail(key, err)
	}
	return &ConnectionConfig{Name: cm.Name, Namespace: cm.Namespace, Provider: provider, Config: cfg}, nil
}

// PublisherDrivers are the drivers this publisher implements (a Provider
// of pkg/pubsub/dapr). Gatekeeper knows more (schemas.Providers): their
// configs are validated, but a System cannot publish through them.
var PublisherDrivers = []string{"dapr"}

// ErrDriverNotSupported is returned for a connection whose driver
// Gatekeeper knows but this publisher does not implement, such as disk.
var ErrDriverNotSupported = errors.New("not supported by this publisher")

// CheckDriver says whether a config of the form (schemas.FormConfigMap or
// schemas.FormConnection) can name the driver. The error wraps
// ErrUnknownProvider.
func CheckDriver(form, driver string) error {
	valid := schemas.DriversFor(form)
	if slices.Contains(valid, driver) {
		return nil
	}
	what := "providers"
	if form == schemas.FormConnection {
		what = "drivers"
	}
	if d, err := schemas.Driver(driver); err == nil {
		where := "a Connection resource (connection.gatekeeper.sh/v1alpha1, Gatekeeper v3.20 and later)"
		if d.HasForm(schemas.FormConfigMap) {
			where = "a ConfigMap (Gatekeeper v3.13 to v3.19)"
		}
		return fmt.Errorf("%w %q in a %s: Gatekeeper %s and later read the %s driver from %s; valid %s in a %s are %s",
			ErrUnknownProvider, driver, form, d.Since, driver, where, what, form, strings.Join(valid, ", "))
	}
	return fmt.Errorf("%w %q: valid %s are %s", ErrUnknownProvider, driver, what, strings.Join(valid, ", "))
}

// CheckPublisherDriver says whether this publisher implements the driver.
// The error wraps ErrDriverNotSupported.
func CheckPublisherDriver(driver string) error {
	if slices.Contains(PublisherDrivers, driver) {
		return nil
	}
	return fmt.Errorf("driver %q is %w: it publishes through %s only (Gatekeeper's audit exports to %s itself)",
		driver, ErrDriverNotSupported, strings.Join(PublisherDrivers, ", "), driver)
}

// PointerError is a problem at a JSON pointer inside a config.
type PointerError struct {
	Pointer string
	Err     error
}

func (e *PointerError) Error() string { return fmt.Sprintf("at %s: %v", e.Pointer, e.Err) }
func (e *PointerError) Unwrap() error { return e.Err }

// DecodeConfig decodes a provider's config from JSON and validates it
// against the provider's schema. Syntax errors give the byte offset.
func DecodeConfig(provider string, raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(raw, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON at offset %d: more than one value", dec.InputOffset())
	}
	if err := ValidateConfig(provider, v); err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// ValidateConfig validates a decoded config against the provider's schema
// and the bounds of its duration keys (for disk, closedConnectionTTL from
// 1m to 10m), which the schema cannot express.
func ValidateConfig(provider string, v any) error {
	problems, err := schemas.Validate(schemas.ConnectionConfig(provider), v)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrUnknownProvider, provider, err)
	}
	if len(problems) == 0 {
		return checkDurations(provider, v)
	}
	msgs := make([]string, 0, len(problems))
	for _, p := range problems[1:] {
		msgs = append(msgs, p.String())
	}
	err = errors.New(problems[0].Message)
	if len(msgs) > 0 {
		err = fmt.Errorf("%s (also %s)", problems[0].Message, strings.Join(msgs, "; "))
	}
	return &PointerError{Pointer: problems[0].Pointer, Err: err}
}

// checkDurations checks the keys the driver's schema bounds with
// x-durationRange, as Gatekeeper does (time.ParseDuration, then the range).
func checkDurations(provider string, v any) error {
	d, err := schemas.Driver(provider)
	if err != nil {
		return nil
	}
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(d.DurationRanges))
	for k := range d.DurationRanges {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s, ok := m[k].(string)
		if !ok {
			continue
		}
		r := d.DurationRanges[k]
		dur, err := time.ParseDuration(s)
		switch {
		case err != nil:
			return &PointerError{Pointer: "/" + k, Err: fmt.Errorf("%q is not a Go duration such as 5m", s)}
		case dur < r.Min || dur > r.Max:
			return &PointerError{Pointer: "/" + k, Err: fmt.Errorf("%s is out of range: want %s to %s", s, shortDuration(r.Min), shortDuration(r.Max))}
		}
	}
	return nil
}

// shortDuration renders 10m0s as 10m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func jsonError(raw []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(raw, se.Offset)
		return fmt.Errorf("invalid JSON at offset %d (line %d, column %d): %w", se.Offset, line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("invalid JSON at offset %d: %w", te.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("invalid JSON at offset %d: unexpected end of input: %w", len(raw), err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func position(raw []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func objectName(cm *corev1.ConfigMap) string {
	switch {
	case cm.Namespace != "" && cm.Name != "":
		return "ConfigMap " + cm.Namespace + "/" + cm.Name
	case cm.Name != "":
		return "ConfigMap " + cm.Name
	default:
		return "ConfigMap"
	}
}
