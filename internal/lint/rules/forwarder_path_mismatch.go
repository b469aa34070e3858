package rules

import (
	"path"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "forwarder-path-mismatch",
		Severity: Error,
		Category: CatForwarder,
		Summary:  "pubsub-forward's --path is not the disk connection's path, or the audit's connection writes no files.",
		Doc: "With Gatekeeper v3.20+'s `disk` driver the audit writes each audit run to a file under " +
			"the connection config's `path`, in a directory named after the channel " +
			"(`<path>/<--audit-channel>/`). pubsub-forward, the sidecar that sends those files through the " +
			"pod's daprd, reads `<--path>/<--topic>/`: with another `--path` it finds nothing and " +
			"sends nothing, without an error. The two paths are compared where they lie: when both " +
			"containers mount the same volume at different places, the directory inside the volume " +
			"counts. A pubsub-forward container (image `pubsub-forward`, or a command naming it) " +
			"without `--path` exits at start, and one beside an audit whose connection uses the " +
			"`dapr` driver has nothing to read.",
		Remediation: "Set pubsub-forward's `--path` to the disk connection's `path` (the project's chart and " +
			"Gatekeeper's use `/tmp/violations/topics`).",
		Check:           checkForwarderPathMismatch,
		InputAuditsOnly: true,
	})
}

func checkForwarderPathMismatch(s *model.Setup, r *Reporter) {
	for _, fa := range forwardedAudits(s) {
		a, c := fa.audit, fa.conn
		if c == nil || !c.KnownDriver() {
			continue // connection-not-found, connection-driver-*
		}
		diskPath, ok := c.DiskPath()
		managerMounts, _ := a.Mounts()
		for _, f := range fa.forwarders {
			p, has := f.Flag("path")
			switch {
			case !c.IsDisk():
				r.Report(a.Obj, p.Field, "%s sends the disk driver's files, but connection config %q uses the %s driver, which writes no files: the forwarder has nothing to send; use the disk driver (a Connection resource, Gatekeeper v3.20+) or remove the forwarder",
					Prose(describeForwarder(f)), c.Name, c.Driver)
				continue
			case !has || p.Value == "":
				hint := ""
				if ok {
					hint = " (set --path=" + diskPath + ", the disk connection's path)"
				}
				r.Report(a.Obj, p.Field, "%s has no --path: it exits at start (\"--path is required\")%s", Prose(describeForwarder(f)), Prose(hint))
				continue
			case !ok:
				continue // connection-config-schema
			}
			mm := model.MountHolding(managerMounts, diskPath)
			fm := model.MountHolding(a.ForwarderMounts(f), p.Value)
			if mm != nil && fm != nil && mm.Name == fm.Name {
				if in, fin := mm.InVolume(diskPath), fm.InVolume(p.Value); in != fin {
					fix := ""
					if fm.SubPath == "" {
						fix = "; set --path=" + path.Join(fm.MountPath, in)
					}
					r.Report(a.Obj, p.Field, "%s reads --path %s, which is %q in volume %q, but connection config %q writes the runs under path %s, which is %q in that volume: the forwarder reads nothing%s",
						Prose(describeForwarder(f)), p.Value, fin, fm.Name, c.Name, diskPath, in, Prose(fix))
				}
				continue
			}
			if path.Clean(p.Value) != path.Clean(diskPath) {
				r.Report(a.Obj, p.Field, "%s reads --path %s, but connection config %q writes the runs under path %s: the forwarder reads nothing; set --path=%s",
					Prose(describeForwarder(f)), p.Value, c.Name, diskPath, diskPath)
			}
		}
	}
}
