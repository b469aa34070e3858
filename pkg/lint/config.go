package lint

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/rules"
)

// DefaultConfigFile is read from the working directory when --config is not given.
const DefaultConfigFile = ".pubsub-lint.yaml"

// Config disables rules or changes their severities:
//
//	disable: [component-metadata-unknown]
//	severity:
//	  audit-pubsub-disabled: error
//	assume:
//	  daprDropAllCapabilities: true
//	  gatekeeperNamespace: gatekeeper-system
//	settings:
//	  forwarderMinRetention: 10m
//
// assume states what pubsub-lint cannot see among the inputs, so that it
// does not have to assume it (and say so in a note); settings are the
// thresholds of rules.
type Config struct {
	Disable  []string          `json:"disable,omitempty"`
	Severity map[string]string `json:"severity,omitempty"`
	Assume   Assumptions       `json:"assume,omitempty"`
	Settings Settings          `json:"settings,omitempty"`
}

// Settings are the thresholds of rules.
type Settings struct {
	// ForwarderMinRetention is the least time of audit runs the disk
	// driver should keep for pubsub-forward (maxAuditResults times
	// --audit-interval), a Go duration; below it forwarder-retention-short
	// warns. Empty: model.DefaultForwarderMinRetention.
	ForwarderMinRetention string `json:"forwarderMinRetention,omitempty"`
}

// forwarderMinRetention is the parsed setting (0 when not given).
func (c *Config) forwarderMinRetention() time.Duration {
	if c == nil || c.Settings.ForwarderMinRetention == "" {
		return 0
	}
	d, _ := time.ParseDuration(c.Settings.ForwarderMinRetention)
	return d
}

// Assumptions are facts about what is not among the inputs, as given by
// flags (Options.Assume) or the config file's assume section (a flag wins).
// What is not given takes model.DefaultAssumptions, and is said in a note
// when it matters.
type Assumptions struct {
	// GatekeeperNamespace, AuditConnection and AuditChannel describe the
	// audit when its Deployment is not among the inputs
	// (--gatekeeper-namespace, --audit-connection, --audit-channel).
	GatekeeperNamespace string `json:"gatekeeperNamespace,omitempty"`
	AuditConnection     string `json:"auditConnection,omitempty"`
	AuditChannel        string `json:"auditChannel,omitempty"`
	// DaprDropAllCapabilities is Dapr's sidecar injector's
	// SIDECAR_DROP_ALL_CAPABILITIES (the Dapr chart's
	// dapr_sidecar_injector.sidecarDropALLCapabilities), used when the
	// injector's Deployment is not among the inputs
	// (--dapr-drop-all-capabilities).
	DaprDropAllCapabilities *bool `json:"daprDropAllCapabilities,omitempty"`
}

// over returns a with what it does not give taken from b.
func (a Assumptions) over(b Assumptions) Assumptions {
	if a.GatekeeperNamespace == "" {
		a.GatekeeperNamespace = b.GatekeeperNamespace
	}
	if a.AuditConnection == "" {
		a.AuditConnection = b.AuditConnection
	}
	if a.AuditChannel == "" {
		a.AuditChannel = b.AuditChannel
	}
	if a.DaprDropAllCapabilities == nil {
		a.DaprDropAllCapabilities = b.DaprDropAllCapabilities
	}
	return a
}

// LoadConfig reads and checks a config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses a config (YAML or JSON), rejecting unknown fields,
// rules and severities.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalStrict(data, &c); err != nil {
			return nil, err
		}
	}
	for _, id := range c.Disable {
		if rules.Get(id) == nil {
			return nil, fmt.Errorf("disable: unknown rule %q", id)
		}
	}
	ids := make([]string, 0, len(c.Severity))
	for id := range c.Severity {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if rules.Get(id) == nil {
			return nil, fmt.Errorf("severity: unknown rule %q", id)
		}
		if _, err := rules.ParseSeverity(c.Severity[id]); err != nil {
			return nil, fmt.Errorf("severity of %s: %w", id, err)
		}
	}
	if v := c.Settings.ForwarderMinRetention; v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			return nil, fmt.Errorf("settings.forwarderMinRetention: %q is not a positive Go duration such as 10m", v)
		}
	}
	return &c, nil
}

// severity returns the effective severity of a rule (None: disabled).
func (c *Config) severity(r *rules.Rule) rules.Severity {
	if c == nil {
		return r.Severity
	}
	for _, id := range c.Disable {
		if id == r.ID {
			return rules.None
		}
	}
	if s, ok := c.Severity[r.ID]; ok {
		return rules.Severity(s)
	}
	return r.Severity
}

// WithRules returns a copy of c (nil: an empty config) with the rules of
// the command line's --disable added to Disable and those of --enable taken
// out of it (a rule the config file disables). An unknown rule ID, or one
// both enabled and disabled, is an error.
func (c *Config) WithRules(enable, disable []string) (*Config, error) {
	out := Config{}
	if c != nil {
		out = *c
		out.Disable = slices.Clone(c.Disable)
	}
	for _, id := range append(slices.Clone(enable), disable...) {
		if rules.Get(id) == nil {
			if id == InputErrorRule {
				return nil, fmt.Errorf("rule %s cannot be enabled or disabled: an input that cannot be loaded always fails the run", id)
			}
			return nil, fmt.Errorf("unknown rule %q (pubsub-lint rules lists them)", id)
		}
	}
	for _, id := range enable {
		if slices.Contains(disable, id) {
			return nil, fmt.Errorf("rule %s is both enabled and disabled", id)
		}
		out.Disable = slices.DeleteFunc(out.Disable, func(d string) bool { return d == id })
	}
	for _, id := range disable {
		if !slices.Contains(out.Disable, id) {
			out.Disable = append(out.Disable, id)
		}
	}
	return &out, nil
}
