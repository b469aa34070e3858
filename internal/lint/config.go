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
//
// A rule may be named by a deprecated alias of its ID (rules.Lookup):
// ParseConfig and WithRules replace it with the ID and add a warning to
// Warnings, which Run gives as notes of the Result.
type Config struct {
	Disable  []string          `json:"disable,omitempty"`
	Severity map[string]string `json:"severity,omitempty"`
	Assume   Assumptions       `json:"assume,omitempty"`
	Settings Settings          `json:"settings,omitempty"`
	// Warnings are about the config (file and --enable/--disable): a
	// deprecated rule ID, with where it was written.
	Warnings []string `json:"-"`
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
	c, err := parseConfig(data, path)
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
func ParseConfig(data []byte) (*Config, error) { return parseConfig(data, "") }

// parseConfig is ParseConfig of the config file file ("" for data given
// otherwise), which its warnings name.
func parseConfig(data []byte, file string) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) == 0 {
		return &c, nil
	}
	warnings, err := checkConfigYAML(data)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, &ConfigError{Msg: err.Error()}
	}
	for _, w := range warnings {
		w.File = file
		c.Warnings = append(c.Warnings, w.Error())
	}
	c.resolveAliases()
	return &c, nil
}

// resolveAliases replaces the deprecated aliases of rule IDs in Disable
// and Severity with the IDs (checkConfigYAML warned of them).
func (c *Config) resolveAliases() {
	var disable []string
	for _, id := range c.Disable {
		if id, _ = ResolveRuleID(id); !slices.Contains(disable, id) {
			disable = append(disable, id)
		}
	}
	c.Disable = disable
	for id, sev := range c.Severity {
		if to, w := ResolveRuleID(id); w != "" {
			delete(c.Severity, id)
			c.Severity[to] = sev
		}
	}
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// checkConfigYAML checks the config's keys and values where they are
// written, so that an error names the line and the key. The warnings
// (deprecated rule IDs) are not errors.
func checkConfigYAML(data []byte) (warnings []*ConfigError, err error) {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(data, &doc); err != nil {
		e := &ConfigError{Msg: err.Error()}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
		}
		return nil, e
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml3.MappingNode {
		return nil, &ConfigError{Line: root.Line, Msg: "want a map of disable, severity, assume and settings"}
	}
	// rule checks a rule ID of the file, adding the warning of a
	// deprecated alias.
	rule := func(id *yaml3.Node, key string) error {
		w, err := configRule(id, key)
		if err != nil {
			return err
		}
		if w != nil {
			warnings = append(warnings, w)
		}
		return nil
	}
	// severities are the rule IDs of the severity section, resolved: a
	// rule given twice (by its ID and an alias) is an error.
	severities := map[string]string{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := knownKey("", k); err != nil {
			return nil, err
		}
		switch k.Value {
		case "disable":
			if v.Kind != yaml3.SequenceNode {
				return nil, &ConfigError{Line: v.Line, Key: "disable", Msg: "want a list of rule IDs, e.g. [component-metadata-unknown]"}
			}
			for j, id := range v.Content {
				key := fmt.Sprintf("disable[%d]", j)
				if id.Kind != yaml3.ScalarNode {
					return nil, &ConfigError{Line: id.Line, Key: key, Msg: "want a rule ID"}
				}
				if err := rule(id, key); err != nil {
					return nil, err
				}
			}
		case "severity":
			if v.Kind != yaml3.MappingNode {
				return nil, &ConfigError{Line: v.Line, Key: "severity", Msg: "want a map of rule ID to error, warning or none"}
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				id, sev := v.Content[j], v.Content[j+1]
				key := "severity." + id.Value
				if err := rule(id, key); err != nil {
					return nil, err
				}
				to, _ := ResolveRuleID(id.Value)
				if prev, ok := severities[to]; ok {
					return nil, &ConfigError{Line: id.Line, Key: key, Msg: fmt.Sprintf("rule %s is given twice, as %q and %q", to, prev, id.Value)}
				}
				severities[to] = id.Value
				if _, err := rules.ParseSeverity(sev.Value); err != nil || sev.Kind != yaml3.ScalarNode {
					return nil, &ConfigError{Line: sev.Line, Key: key, Msg: fmt.Sprintf("unknown severity %q: want error, warning or none", sev.Value)}
				}
			}
		case "assume", "settings":
			if v.Kind != yaml3.MappingNode {
				return nil, &ConfigError{Line: v.Line, Key: k.Value, Msg: "want a map of " + strings.Join(configKeys[k.Value], ", ")}
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				sk, sv := v.Content[j], v.Content[j+1]
				if err := knownKey(k.Value, sk); err != nil {
					return nil, err
				}
				key := k.Value + "." + sk.Value
				if sv.Kind != yaml3.ScalarNode {
					return nil, &ConfigError{Line: sv.Line, Key: key, Msg: "want a single value"}
				}
				switch key {
				case "assume.daprDropAllCapabilities":
					if sv.Tag != "!!bool" {
						return nil, &ConfigError{Line: sv.Line, Key: key, Msg: fmt.Sprintf("%q is not true or false", sv.Value)}
					}
				case "settings.forwarderMinRetention":
					if d, err := time.ParseDuration(sv.Value); err != nil || d <= 0 {
						return nil, &ConfigError{Line: sv.Line, Key: key, Msg: fmt.Sprintf("%q is not a positive Go duration such as 10m", sv.Value)}
					}
				}
			}
		}
	}
	return warnings, nil
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

// configRule checks a rule ID of the config file: an error for no rule,
// a warning for a deprecated alias.
func configRule(id *yaml3.Node, key string) (warning, err *ConfigError) {
	if rules.Get(id.Value) != nil {
		return nil, nil
	}
	if _, w := ResolveRuleID(id.Value); w != "" {
		return &ConfigError{Line: id.Line, Key: key, Msg: w}, nil
	}
	if engineRule(id.Value) {
		return nil, &ConfigError{Line: id.Line, Key: key, Msg: fmt.Sprintf("rule %s is the engine's and cannot be disabled or given another severity", id.Value)}
	}
	return nil, &ConfigError{Line: id.Line, Key: key, Msg: unknownRule(id.Value)}
}

// severity returns the effective severity of a rule (None: disabled).
func (c *Config) severity(r *rules.Rule) rules.Severity {
	if c == nil {
		return r.Severity
	}
	// A Config made in Go may name a rule by a deprecated alias.
	for _, id := range c.Disable {
		if to, _ := ResolveRuleID(id); to == r.ID {
			return rules.None
		}
	}
	for id, s := range c.Severity {
		if to, _ := ResolveRuleID(id); to == r.ID {
			return rules.Severity(s)
		}
	}
	return r.Severity
}

// WithRules returns a copy of c (nil: an empty config) with the rules of
// the command line's --disable added to Disable and those of --enable taken
// out of it (a rule the config file disables). An unknown rule ID, or one
// both enabled and disabled, is an error; a deprecated alias stands for its
// rule, with a warning added to Warnings.
func (c *Config) WithRules(enable, disable []string) (*Config, error) {
	out := Config{}
	if c != nil {
		out = *c
		out.Disable = slices.Clone(c.Disable)
		out.Warnings = slices.Clone(c.Warnings)
	}
	resolve := func(flag string, ids []string) []string {
		res := make([]string, len(ids))
		for i, id := range ids {
			var w string
			if res[i], w = ResolveRuleID(id); w != "" {
				out.Warnings = append(out.Warnings, flag+": "+w)
			}
		}
		return res
	}
	enable, disable = resolve("--enable", enable), resolve("--disable", disable)
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
		out.Disable = slices.DeleteFunc(out.Disable, func(d string) bool { to, _ := ResolveRuleID(d); return to == id })
	}
	for _, id := range disable {
		if !slices.Contains(out.Disable, id) {
			out.Disable = append(out.Disable, id)
		}
	}
	return &out, nil
}
