package output

import (
	"encoding/json"
	"io"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/rules"
)

func init() { register("json", JSON) }

// JSONReport is the json format.
type JSONReport struct {
	Findings []lint.Finding `json:"findings"`
	Summary  JSONSummary    `json:"summary"`
}

// JSONSummary counts what was read and found.
type JSONSummary struct {
	Files    int `json:"files"`
	Objects  int `json:"objects"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

// JSON writes {"findings":[...],"summary":{...}}.
func JSON(w io.Writer, res *lint.Result) error {
	rep := JSONReport{Findings: res.Findings, Summary: JSONSummary{
		Files: res.Files, Objects: res.Objects, Errors: res.Count(rules.Error), Warnings: res.Count(rules.Warning),
	}}
	if rep.Findings == nil {
		rep.Findings = []lint.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
