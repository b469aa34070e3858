package rules

import (
	"path"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "forwarder-volume-not-shared",
		Severity: Error,
		Category: CatForwarder,
		Summary:  "The disk connection's path is not on a volume that both the manager and pubsub-forward mount.",
		Doc: "The audit's manager writes the disk driver's files under the connection's `path`; " +
			"pubsub-forward, another container of the pod, reads them under its `--path`. Containers " +
			"share files only through a pod volume (an `emptyDir`, as Gatekeeper's chart mounts at " +
			"`/tmp/violations`): the path must lie on a volume mounted in the manager (at the path or a " +
			"directory above it, not read-only: the driver writes there) and the forwarder's `--path` " +
			"on a mount of the same volume. Otherwise the files stay on the manager's own filesystem " +
			"(with `readOnlyRootFilesystem: true` the driver cannot even create them) and the " +
			"forwarder never sees them. Where the two mounts put the path inside the volume is " +
			"`forwarder-path-mismatch`'s.",
		Remediation: "Add an `emptyDir` volume (for example `tmp-violations`) and mount it in the manager and " +
			"in pubsub-forward at a directory holding the path (for example `/tmp/violations` for " +
			"`/tmp/violations/topics`).",
		Check:           checkForwarderVolumeNotShared,
		InputAuditsOnly: true,
	})
}

func checkForwarderVolumeNotShared(s *model.Setup, r *Reporter) {
	for _, fa := range forwardedAudits(s) {
		a, c := fa.audit, fa.conn
		if c == nil || !c.KnownDriver() {
			continue
		}
		diskPath, ok := c.DiskPath()
		if !ok {
			continue
		}
		managerMounts, volumes := a.Mounts()
		mm := model.MountHolding(managerMounts, diskPath)
		switch {
		case mm == nil:
			why := "the files stay on the manager's own filesystem"
			if a.ReadOnlyRootFS() {
				why = "with readOnlyRootFilesystem: true the driver cannot write them, and the forwarder could not see them anyway"
			}
			r.Report(a.Obj, a.MountsPath(), "the manager mounts no volume at or above connection config %q's path %s, so %s cannot read the runs: %s; mount an emptyDir (for example at %s) in the manager and the forwarder",
				c.Name, diskPath, Prose(describeForwarder(fa.forwarders[0])), Prose(why), suggestedMount(diskPath))
			continue
		default:
			if why := model.ReadOnlyMount(mm, volumes); why != "" {
				r.Report(a.Obj, mm.Field, "the volume %q that holds connection config %q's path %s in the manager is %s: the disk driver cannot write the runs there",
					mm.Name, c.Name, diskPath, why)
				continue
			}
		}
		for _, f := range fa.forwarders {
			p, has := f.Flag("path")
			if !has || p.Value == "" {
				continue // forwarder-path-mismatch
			}
			fm := model.MountHolding(a.ForwarderMounts(f), p.Value)
			switch {
			case fm == nil:
				r.Report(a.Obj, forwarderMountsPath(a, f), "%s mounts no volume at or above its --path %s, so it does not see the runs the manager writes to volume %q; mount %q in it too (the manager mounts it at %s)",
					Prose(describeForwarder(f)), p.Value, mm.Name, mm.Name, mm.MountPath)
			case fm.Name != mm.Name:
				r.Report(a.Obj, fm.Field, "%s reads --path %s from volume %q, but the manager writes the runs to volume %q: the containers do not share them; mount %q in the forwarder instead",
					Prose(describeForwarder(f)), p.Value, fm.Name, mm.Name, mm.Name)
			}
		}
	}
}

// suggestedMount is the directory above the disk path to mount a volume
// at: its parent (the forwarder keeps its checkpoint beside the path), or
// the path itself below the root.
func suggestedMount(p string) string {
	if d := path.Dir(path.Clean(p)); d != "/" && d != "." {
		return d
	}
	return p
}
