package rules

import (
	"fmt"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "audit-args-ignored",
		Severity: Error,
		Category: CatAudit,
		Summary:  "Arguments of the audit's manager that Gatekeeper never parses: they follow a non-flag argument or \"--\".",
		Doc: "Gatekeeper parses its command line with Go's `flag` package, which stops at the first " +
			"argument that is not a flag (`true`, `-`, a word) and after `--`, and ignores the rest " +
			"without a word. `--enable-pub-sub`, `\"true\"`, `--audit-connection=x` therefore publishes " +
			"through the default connection: a boolean flag takes its value only as `--flag=value`, so " +
			"`\"true\"` is the first non-flag argument. The arguments are those of the manager " +
			"container (its `command` after the program, then `args`; without a `command`, Gatekeeper's " +
			"image runs `/manager`). Every later flag is reported with the setting it leaves at its " +
			"default; the other rules read the flags as Gatekeeper does, so they do not see these.",
		Remediation: "Write boolean flags as `--enable-pub-sub=true`, remove the stray argument (or the `--`), " +
			"and keep every flag before it.",
		Check:           checkAuditArgsIgnored,
		InputAuditsOnly: true,
	})
}

func checkAuditArgsIgnored(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Parse.Exact || len(a.Parse.Ignored) == 0 || a.Parse.StopUncertain {
			continue
		}
		p := a.Parse
		stop := p.Args[p.StopAt]
		n := len(p.Ignored)
		switch p.Stop {
		case model.StopNonFlag:
			why := "the first argument that is not a flag"
			switch {
			case stop.Value == "-":
				why = `a lone "-", which is not a flag`
			case stop.Value == "":
				why = "an empty argument, which is not a flag"
			}
			var hint Prose
			if p.StopAt > 0 {
				if prev := lastFlagBefore(p, p.StopAt); prev != nil && prev.Index == p.StopAt-1 && !prev.HasValue && p.Defs.IsBool(prev.Name) {
					hint = Prose(fmt.Sprintf("; --%s is a boolean flag, which takes its value only as --%s=%s", prev.Name, prev.Name, Clip(stop.Value)))
				}
			}
			r.Report(a.Obj, stop.Field, "Gatekeeper stops parsing the audit's flags at %q (%s), %s, and ignores it and the %s after it%s",
				stop.Value, argRef(stop.Field), why, plural(n-1, "argument"), hint)
		case model.StopTerminator:
			r.Report(a.Obj, stop.Field, `"--" (%s) ends the audit's flags: Gatekeeper ignores the %s after it`,
				argRef(stop.Field), plural(n, "argument"))
		}
		for _, arg := range p.Ignored {
			name, ok := flagName(arg.Value)
			if !ok || arg.Field.String() == stop.Field.String() {
				continue
			}
			effect := fmt.Sprintf("--%s keeps its default", name)
			if fs := a.Flags[name]; len(fs) > 0 {
				last := fs[len(fs)-1]
				effect = fmt.Sprintf("--%s=%s (%s) stays in effect", name, last.Value, argRef(last.Field))
				if last.Repeatable {
					effect = fmt.Sprintf("--%s has only the values before it: %s", name, strings.Join(model.Values(fs), ","))
				}
			}
			switch name {
			case model.FlagConnection:
				effect += fmt.Sprintf(": the audit publishes through connection %q", a.Connection)
			case model.FlagChannel:
				effect += fmt.Sprintf(": the audit publishes to channel %q", a.Channel)
			case model.FlagEnablePubsub, model.FlagEnableExport:
				if !a.Publishes {
					effect += ": the audit does not publish"
				}
			}
			r.Report(a.Obj, arg.Field, "%s is ignored: it comes after %q (%s), where Gatekeeper stops parsing flags, so %s",
				arg.Value, stop.Value, argRef(stop.Field), effect)
		}
	}
}

// flagName returns the name of an argument that looks like a flag.
func flagName(s string) (string, bool) {
	if len(s) < 2 || s[0] != '-' || s == "--" {
		return "", false
	}
	name := strings.TrimLeft(s, "-")
	name, _, _ = strings.Cut(name, "=")
	return name, name != ""
}

func lastFlagBefore(p *model.FlagParse, i int) *model.Flag {
	for k := len(p.Order) - 1; k >= 0; k-- {
		if p.Order[k].Index < i {
			return &p.Order[k]
		}
	}
	return nil
}

// argRef names an argument by its last field path elements: "args[3]".
func argRef(p model.Path) string {
	if len(p) < 2 {
		return p.String()
	}
	return p[len(p)-2:].String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
