package rules

import (
	"fmt"
	"path"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "audit-start-requirements",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit's manager exits at start, or every audit run fails: a flag its Gatekeeper version rejects, no volume at --cert-dir, no writable --api-cache-dir.",
		Doc: "Checked from Gatekeeper's sources for the version of the manager's image tag:\n\n" +
			"- **Flags.** Gatekeeper parses its flags with Go's `flag` package and exits at start on the " +
			"first one it rejects: a flag the version does not define (\"flag provided but not defined\"; " +
			"the flags of each version are in `internal/lint/model/flags_gatekeeper.go`), a value the flag " +
			"rejects (a number that does not parse, an `--operation` the version lacks, such as " +
			"`generate` before v3.18), a flag without its value, bad syntax (`---x`), or `-h`. Malformed " +
			"pubsub flags are `audit-flag-value`'s.\n" +
			"- **--cert-dir.** With external data on (`--enable-external-data`, default true) the manager " +
			"reads `tls.crt` and `tls.key` from `--cert-dir` (default `/certs`) at start and exits " +
			"without them (\"unable to create client cert watcher\"). Gatekeeper's own audit Deployment " +
			"mounts the Secret `gatekeeper-webhook-server-cert` there; any volume mounted at (or " +
			"into) the directory counts.\n" +
			"- **--api-cache-dir.** Auditing from the API server (`--audit-from-cache=false`, the " +
			"default), each run empties and writes `--api-cache-dir` (default `/tmp/audit`). With " +
			"`readOnlyRootFilesystem: true` that needs a writable volume mounted exactly there (an " +
			"`emptyDir`, as in Gatekeeper's own Deployment), else every audit run fails.\n\n" +
			"The flags are read as Gatekeeper reads them (see `audit-args-ignored`).",
		Remediation: "Remove or fix the flag; mount Gatekeeper's webhook certificate Secret at --cert-dir " +
			"(or run with `--enable-external-data=false`); mount an `emptyDir` at --api-cache-dir.",
		Check:           checkAuditStartRequirements,
		InputAuditsOnly: true,
	})
}

func checkAuditStartRequirements(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if a.Parse.Exact {
			reportFlagErrors(a, r)
		}
		mounts, volumes := a.Mounts()
		if a.FlagOn(model.FlagEnableExternalData, true) {
			dir := a.FlagString(model.FlagCertDir, model.DefaultCertDir)
			if m := model.MountAt(mounts, dir, true); m == nil {
				r.Report(a.Obj, a.MountsPath(), "%s runs with external data on (%s) but mounts no volume at --cert-dir %s: the manager exits at start (\"unable to create client cert watcher\": it reads %s and %s); mount Gatekeeper's webhook certificate Secret (gatekeeper-webhook-server-cert) there as Gatekeeper's own audit Deployment does, or set --enable-external-data=false",
					a.Describe(), flagSetting(a, model.FlagEnableExternalData, "default true"), dir, path.Join(dir, "tls.crt"), path.Join(dir, "tls.key"))
			}
		}
		ops, explicit := a.Operations()
		if explicit && !ops["audit"] || a.FlagOn(model.FlagAuditFromCache, false) || !a.ReadOnlyRootFS() {
			continue
		}
		dir := a.FlagString(model.FlagAPICacheDir, model.DefaultAPICacheDir)
		m := model.MountAt(mounts, dir, false)
		if m == nil {
			r.Report(a.Obj, a.MountsPath(), "%s has readOnlyRootFilesystem: true and audits from the API server (%s), but no volume is mounted at --api-cache-dir %s, which Gatekeeper empties and writes on every audit run: every run fails; mount an emptyDir there as Gatekeeper's own audit Deployment does",
				a.Describe(), flagSetting(a, model.FlagAuditFromCache, "default false"), dir)
			continue
		}
		if why := model.ReadOnlyMount(m, volumes); why != "" {
			r.Report(a.Obj, m.Field, "%s audits from the API server (%s), but the volume %q mounted at --api-cache-dir %s is %s, and Gatekeeper empties and writes that directory on every audit run: every run fails; mount an emptyDir there",
				a.Describe(), flagSetting(a, model.FlagAuditFromCache, "default false"), m.Name, dir, why)
		}
	}
}

func reportFlagErrors(a *model.Audit, r *Reporter) {
	p := a.Parse
	v := "Gatekeeper"
	if a.Version != nil {
		v += " " + a.Version.String()
	}
	for _, e := range p.Errors {
		exit := fmt.Sprintf("the manager exits at start (%q)", e.Message)
		switch e.Kind {
		case model.ErrUndefined:
			switch {
			case p.Defs.Knows(e.Name):
				r.Report(a.Obj, e.Field, "%s has no flag --%s: %s%s", v, e.Name, exit, replacement(p.Defs, e.Name))
			case p.Defs.Version == nil || !p.Defs.Exact && !between(p.Defs.Version):
				r.Report(a.Obj, e.Field, "--%s is not a flag of any Gatekeeper version pubsub-lint knows (%s): unless %s added it, %s%s",
					e.Name, p.Defs.Sources(), describeImage(a), exit, didYouMean(e.Name, flagNames()))
			default:
				r.Report(a.Obj, e.Field, "%s has no flag --%s: %s%s", v, e.Name, exit, didYouMean(e.Name, flagNames()))
			}
		case model.ErrHelp:
			r.Report(a.Obj, e.Field, "-%s makes the manager print its usage and exit", e.Name)
		case model.ErrSyntax:
			r.Report(a.Obj, e.Field, "%q is not a flag Go's flag package accepts: %s", p.Args[e.Index].Value, exit)
		case model.ErrNeedsArgument:
			if e.Name == model.FlagConnection || e.Name == model.FlagChannel {
				continue // audit-flag-value
			}
			r.Report(a.Obj, e.Field, "--%s is the last argument and has no value: %s", e.Name, exit)
		case model.ErrValue:
			if e.Name == model.FlagEnablePubsub || e.Name == model.FlagEnableExport {
				continue // audit-flag-value
			}
			r.Report(a.Obj, e.Field, "%s rejects --%s=%s: %s", v, e.Name, e.Value, exit)
		}
	}
}

// replacement names the flag that replaced a removed one.
func replacement(d *model.FlagDefs, name string) string {
	other := map[string]string{model.FlagEnablePubsub: model.FlagEnableExport, model.FlagEnableExport: model.FlagEnablePubsub,
		"experimental-enable-k8s-native-validation": "enable-k8s-native-validation"}[name]
	if other != "" && d.IsBool(other) {
		return fmt.Sprintf(" (it takes --%s)", other)
	}
	return ""
}

// between says whether v lies between the first and last source versions.
func between(v *model.Version) bool {
	return model.CompareVersions(*v, model.GatekeeperSources[0]) > 0 && model.CompareVersions(*v, model.GatekeeperSources[len(model.GatekeeperSources)-1]) < 0
}

func describeImage(a *model.Audit) string {
	if a.Version != nil {
		return "Gatekeeper " + a.Version.String()
	}
	return fmt.Sprintf("the image %q", a.Image)
}

// flagNames are the names suggested for a misspelt flag: every flag of
// the table but glog's -v, which every name containing a v would match.
var flagNames = sync.OnceValue(func() []string {
	var names []string
	for _, row := range model.GatekeeperFlagTable {
		if len(row.Name) > 2 {
			names = append(names, row.Name)
		}
	}
	return names
})

// flagSetting renders a flag as set: "--x=v" or "--x, default v".
func flagSetting(a *model.Audit, name, def string) string {
	if f, ok := a.Last(name); ok {
		if f.HasValue {
			return "--" + name + "=" + f.Value
		}
		return "--" + name
	}
	return "--" + name + ", " + def
}
