package output

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

func init() { register("sarif", SARIF) }

// SARIFVersion and SARIFSchema identify the format.
const (
	SARIFVersion = "2.1.0"
	SARIFSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
}

// sarifInvocation is written when there are notes or input errors:
// toolExecutionNotifications hold them, and an input error makes the
// execution unsuccessful (the CLI exits 2).
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations,omitempty"`
	Descriptor *sarifReference `json:"descriptor,omitempty"`
}

type sarifReference struct {
	ID string `json:"id"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	InformationURI  string      `json:"informationUri,omitempty"`
	Rules           []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
	// Suppressions are set on a finding an ignore annotation suppressed:
	// kind inSource, the annotation's reason as the justification.
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifSuppression struct {
	Kind          string         `json:"kind"`
	Status        string         `json:"status,omitempty"`
	Justification string         `json:"justification,omitempty"`
	Properties    map[string]any `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind,omitempty"`
}

// SARIF writes a SARIF 2.1.0 log with every rule's metadata. Input errors
// are results of rule input-error (described only then) and, with the
// notes, run.invocations[0].toolExecutionNotifications.
func SARIF(w io.Writer, res *lint.Result) error {
	all := rules.All()
	index := map[string]int{}
	driver := sarifDriver{Name: "pubsub-lint", Version: version.Version, SemanticVersion: version.Version,
		InformationURI: version.Repository, Rules: make([]sarifRule, 0, len(all))}
	for i, r := range all {
		index[r.ID] = i
		info, _ := lint.Rule(r.ID)
		driver.Rules = append(driver.Rules, sarifRuleOf(info))
	}
	var inv *sarifInvocation
	if len(res.Notes) > 0 || res.InputErrors() > 0 {
		inv = &sarifInvocation{ExecutionSuccessful: true}
	}
	for _, f := range res.Findings {
		if _, ok := index[f.Rule]; !ok {
			// The engine's rules (input-error, ...) are not rules of
			// internal/lint/rules: described only when they occur.
			if info, known := lint.Rule(f.Rule); known {
				index[f.Rule] = len(driver.Rules)
				driver.Rules = append(driver.Rules, sarifRuleOf(info))
			}
		}
		if f.Rule == lint.InputErrorRule {
			inv.ExecutionSuccessful = false
			n := sarifNotification{Level: "error", Message: sarifText{Text: f.Message}, Descriptor: &sarifReference{ID: f.Rule}}
			if loc := physical(f); loc != nil {
				n.Locations = []sarifLocation{{PhysicalLocation: loc}}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
		}
	}
	for _, n := range res.Notes {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "note", Message: sarifText{Text: n}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: make([]sarifResult, 0, len(res.Findings)+len(res.Suppressed))}
	if inv != nil {
		run.Invocations = []sarifInvocation{*inv}
	}
	for _, f := range res.Findings {
		run.Results = append(run.Results, sarifResultOf(f, index[f.Rule]))
	}
	// Suppressed findings are results too, with their suppression, so
	// that code scanning shows them as dismissed in source.
	for _, s := range res.Suppressed {
		r := sarifResultOf(s.Finding, index[s.Rule])
		just := s.Reason
		if just == "" {
			just = "listed in annotation " + s.Annotation
		}
		r.Suppressions = []sarifSuppression{{Kind: "inSource", Status: "accepted", Justification: just,
			Properties: map[string]any{"annotation": s.Annotation}}}
		run.Results = append(run.Results, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []sarifRun{run}})
}

// sarifResultOf is a finding as a SARIF result of the rule at ruleIndex.
func sarifResultOf(f lint.Finding, ruleIndex int) sarifResult {
	r := sarifResult{RuleID: f.Rule, RuleIndex: ruleIndex, Level: level(string(f.Severity)), Message: sarifText{Text: f.Message}}
	loc := sarifLocation{PhysicalLocation: physical(f)}
	if o := f.Object.String(); o != "" {
		name := o
		if f.Field != "" {
			name += "." + f.Field
		}
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: name, Kind: "object"}}
	}
	if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
		r.Locations = []sarifLocation{loc}
	}
	return r
}

// sarifRuleOf is a rule's SARIF metadata; helpUri is its section of
// docs/rules.md at this release's tag.
func sarifRuleOf(r lint.RuleInfo) sarifRule {
	return sarifRule{
		ID:                   r.ID,
		Name:                 ruleName(r.ID),
		ShortDescription:     sarifText{Text: r.Summary},
		FullDescription:      sarifText{Text: r.Doc},
		Help:                 sarifText{Text: r.Remediation, Markdown: r.Remediation},
		HelpURI:              r.HelpURI,
		DefaultConfiguration: sarifConfig{Level: level(r.Severity)},
		Properties:           map[string]any{"category": r.Category},
	}
}

// physical is a finding's file and position, or nil.
func physical(f lint.Finding) *sarifPhysical {
	if f.File == "" {
		return nil
	}
	p := &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(f.File)}}
	if f.Line > 0 {
		p.Region = &sarifRegion{StartLine: f.Line, StartColumn: max(f.Column, 1)}
	}
	return p
}

func level(sev string) string {
	switch sev {
	case "error":
		return "error"
	case "warning":
		return "warning"
	default:
		return "note"
	}
}

// ruleName turns "connection-not-found" into "ConnectionNotFound".
func ruleName(id string) string {
	var b strings.Builder
	for _, p := range strings.Split(id, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}
