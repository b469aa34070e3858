package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/editdist"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
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
type Assumptions = model.Assumptions

// LoadConfig reads and checks a config file. Its errors are *ConfigError,
// naming the file, the line and the key.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = path
			return nil, ce
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ConfigError is a problem of a config file: where, which key, what.
type ConfigError struct {
	// File is the config file ("" for ParseConfig's data).
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Key is the path of the key: "disable[1]", "severity.redis-no-tls",
	// "settings.forwarderMinRetention".
	Key string
	Msg string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("config ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// configKeys are the keys of each section of the config file (json tags
// of Config, Assumptions and Settings).
var configKeys = map[string][]string{
	"":         {"disable", "severity", "assume", "settings"},
	"assume":   {"gatekeeperNamespace", "auditConnection", "auditChannel", "daprDropAllCapabilities"},
	"settings": {"forwarderMinRetention"},
}

// ParseConfig parses a config (YAML or JSON), rejecting unknown fields,
// rules and severities with a *ConfigError that gives the line and key.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) == 0 {
		return &c, nil
	}
	if err := checkConfigYAML(data); err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, &ConfigError{Msg: err.Error()}
	}
	return &c, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// checkConfigYAML checks the config's keys and values where they are
// written, so that an error names the line and the key.
func checkConfigYAML(data []byte) error {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(data, &doc); err != nil {
		e := &ConfigError{Msg: err.Error()}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
		}
		return e
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml3.MappingNode {
		return &ConfigError{Line: root.Line, Msg: "want a map of disable, severity, assume and settings"}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := knownKey("", k); err != nil {
			return err
		}
		switch k.Value {
		case "disable":
			if v.Kind != yaml3.SequenceNode {
				return &ConfigError{Line: v.Line, Key: "disable", Msg: "want a list of rule IDs, e.g. [component-metadata-unknown]"}
			}
			for j, id := range v.Content {
				key := fmt.Sprintf("disable[%d]", j)
				if id.Kind != yaml3.ScalarNode {
					return &ConfigError{Line: id.Line, Key: key, Msg: "want a rule ID"}
				}
				if err := configRule(id, key); err != nil {
					return err
				}
			}
		case "severity":
			if v.Kind != yaml3.MappingNode {
				return &ConfigError{Line: v.Line, Key: "severity", Msg: "want a map of rule ID to error, warning or none"}
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				id, sev := v.Content[j], v.Content[j+1]
				key := "severity." + id.Value
				if err := configRule(id, key); err != nil {
					return err
				}
				if _, err := rules.ParseSeverity(sev.Value); err != nil || sev.Kind != yaml3.ScalarNode {
					return &ConfigError{Line: sev.Line, Key: key, Msg: fmt.Sprintf("unknown severity %q: want error, warning or none", sev.Value)}
				}
			}
		case "assume", "settings":
			if v.Kind != yaml3.MappingNode {
				return &ConfigError{Line: v.Line, Key: k.Value, Msg: "want a map of " + strings.Join(configKeys[k.Value], ", ")}
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				sk, sv := v.Content[j], v.Content[j+1]
				if err := knownKey(k.Value, sk); err != nil {
					return err
				}
				key := k.Value + "." + sk.Value
				if sv.Kind != yaml3.ScalarNode {
					return &ConfigError{Line: sv.Line, Key: key, Msg: "want a single value"}
				}
				switch key {
				case "assume.daprDropAllCapabilities":
					if sv.Tag != "!!bool" {
						return &ConfigError{Line: sv.Line, Key: key, Msg: fmt.Sprintf("%q is not true or false", sv.Value)}
					}
				case "settings.forwarderMinRetention":
					if d, err := time.ParseDuration(sv.Value); err != nil || d <= 0 {
						return &ConfigError{Line: sv.Line, Key: key, Msg: fmt.Sprintf("%q is not a positive Go duration such as 10m", sv.Value)}
					}
				}
			}
		}
	}
	return nil
}

// knownKey checks a key of a section ("" the top level), naming the
// closest known key of a misspelt one.
func knownKey(section string, k *yaml3.Node) error {
	known := configKeys[section]
	if slices.Contains(known, k.Value) {
		return nil
	}
	key := k.Value
	if section != "" {
		key = section + "." + k.Value
	}
	msg := fmt.Sprintf("unknown field %q", k.Value)
	best, bestD := "", 4
	for _, c := range known {
		lk, lc := strings.ToLower(k.Value), strings.ToLower(c)
		d := editdist.Levenshtein(lk, lc)
		if len(lk) >= 4 && (strings.HasPrefix(lc, lk) || strings.HasPrefix(lk, lc)) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return &ConfigError{Line: k.Line, Key: key, Msg: msg + "; the keys are " + strings.Join(known, ", ")}
}

// configRule checks a rule ID of the config file.
func configRule(id *yaml3.Node, key string) error {
	if rules.Get(id.Value) != nil {
		return nil
	}
	if engineRule(id.Value) {
		return &ConfigError{Line: id.Line, Key: key, Msg: fmt.Sprintf("rule %s is the engine's and cannot be disabled or given another severity", id.Value)}
	}
	return &ConfigError{Line: id.Line, Key: key, Msg: unknownRule(id.Value)}
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
			if engineRule(id) {
				return nil, fmt.Errorf("rule %s is the engine's and cannot be enabled or disabled", id)
			}
			return nil, errors.New(unknownRule(id))
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
