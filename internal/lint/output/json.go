package output

import (
	"encoding/json"
	"io"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

func init() { register("json", JSON) }

// JSONReport is the json format.
type JSONReport struct {
	Findings []lint.Finding `json:"findings"`
	Summary  JSONSummary    `json:"summary"`
	// Notes are what the user should know that is not a finding (inputs
	// skipped, assumptions); left out when there are none.
	Notes []string `json:"notes,omitempty"`
	// Suppressed are the findings ignore annotations suppressed, with the
	// annotation and its reason; left out when there are none.
	Suppressed []lint.Suppressed `json:"suppressed,omitempty"`
}

// JSONSummary counts what was read and found.
type JSONSummary struct {
	Files    int `json:"files"`
	Objects  int `json:"objects"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	// InputErrors counts the findings of rule input-error (inputs that
	// could not be loaded; they are among the errors too); left out when 0.
	InputErrors int `json:"inputErrors,omitempty"`
	// Suppressed counts the findings ignore annotations suppressed (not
	// among the errors and warnings); left out when 0.
	Suppressed int `json:"suppressed,omitempty"`
}

// JSON writes {"findings":[...],"summary":{...},"notes":[...]}.
func JSON(w io.Writer, res *lint.Result) error {
	rep := JSONReport{Findings: res.Findings, Summary: JSONSummary{
		Files: res.Files, Objects: res.Objects, Errors: res.Count(rules.Error), Warnings: res.Count(rules.Warning),
		InputErrors: res.InputErrors(), Suppressed: len(res.Suppressed),
	}, Notes: res.Notes, Suppressed: res.Suppressed}
	if rep.Findings == nil {
		rep.Findings = []lint.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
