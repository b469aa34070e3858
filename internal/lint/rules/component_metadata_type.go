package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "component-metadata-type",
		Severity: Error,
		Category: CatComponent,
		Summary:  "A pubsub Component's metadata value has the wrong type: not a boolean, number or duration, or not an allowed value.",
		Doc: "Dapr reads every metadata value as a string (a YAML `true` or `10` becomes \"true\" or " +
			"\"10\") and parses it per key: booleans as true/false, yes/no, on/off, y/n, t/f, 1/0; " +
			"numbers; Go durations such as `10s`; or one of a fixed set of values. A value that does " +
			"not parse makes daprd fail to load the component.\n\n" +
			"The fixed sets come from metadata.yaml's `allowedValues` and from the component's Go " +
			"source, where it switches on or compares the value with fixed strings (redis " +
			"`redisType` node or cluster, kafka `authType`, rabbitmq `exchangeKind`, " +
			"`concurrencyMode` single or parallel, ...), in the letter case the code compares. " +
			"Some components reject another value; others silently behave as for the default " +
			"(`redisType: clustr` is a single node): the finding says which. Values from " +
			"`secretKeyRef` or `envRef` are not known before run time and are not checked.",
		Remediation: "Give a value of the expected type, or one of the allowed values the finding lists.",
		Check:       checkComponentMetadataType,
	})
}

// otherValueNote says what Dapr does with a value outside the allowed ones.
func otherValueNote(other string) string {
	switch other {
	case "error":
		return ": daprd fails to initialise the component with another value"
	case "ignored":
		return ": Dapr does not reject another value but silently behaves as for the default"
	}
	return ""
}

func checkComponentMetadataType(s *model.Setup, r *Reporter) {
	for c, f := range s.KnownComponents() {
		vals := map[string]any{}
		items := map[string]model.MetaItem{}
		for _, it := range c.Items {
			key, ok := f.Props[strings.ToLower(it.Name)]
			if !ok || !it.HasValue {
				continue
			}
			vals[key] = it.Value
			items[key] = it
		}
		if len(vals) == 0 {
			continue
		}
		problems, err := schemas.Validate(schemas.PubsubMetadata(c.Type), vals)
		if err != nil {
			continue
		}
		done := map[string]bool{}
		for _, p := range problems {
			key := strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(p.Pointer, "/"), "~1", "/"), "~0", "~")
			it, ok := items[key]
			if !ok || done[key] {
				continue
			}
			done[key] = true
			r.Report(c.Obj, c.ItemPath(it.Index, "value"), "%s metadata %q is %q, want %s%s", c.Type, it.Name, it.Value, f.Expect[key], otherValueNote(f.Other[key]))
		}
	}
}
