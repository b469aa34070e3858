package model

import (
	"path"
	"strings"
)

// VolumeMount is one volumeMounts entry of a container.
type VolumeMount struct {
	Name, MountPath string
	// SubPath is the mount's subPath: the directory of the volume that is
	// mounted ("" for its root).
	SubPath  string
	ReadOnly bool
	Field    Path
}

// Mounts returns the manager container's volumeMounts and the pod's
// volumes by name.
func (a *Audit) Mounts() ([]VolumeMount, map[string]map[string]any) {
	var out []VolumeMount
	if !a.Assumed {
		out = a.ContainerMounts(a.managerIndex())
	}
	return out, a.Volumes()
}

// ContainerMounts returns the volumeMounts of spec.containers[i] of the
// pod template.
func (w *Workload) ContainerMounts(i int) []VolumeMount {
	var out []VolumeMount
	containers, _ := w.Spec["containers"].([]any)
	if i < 0 || i >= len(containers) {
		return nil
	}
	cm, _ := containers[i].(map[string]any)
	list, _ := cm["volumeMounts"].([]any)
	for j, e := range list {
		m, _ := e.(map[string]any)
		if m == nil {
			continue
		}
		vm := VolumeMount{Field: w.TemplatePath("spec", "containers", i, "volumeMounts", j)}
		vm.Name, _ = m["name"].(string)
		vm.MountPath, _ = m["mountPath"].(string)
		vm.SubPath, _ = m["subPath"].(string)
		vm.ReadOnly, _ = m["readOnly"].(bool)
		out = append(out, vm)
	}
	return out
}

// Volumes returns the pod's volumes by name.
func (w *Workload) Volumes() map[string]map[string]any {
	volumes := map[string]map[string]any{}
	list, _ := w.Spec["volumes"].([]any)
	for _, e := range list {
		v, _ := e.(map[string]any)
		if name, _ := v["name"].(string); name != "" {
			volumes[name] = v
		}
	}
	return volumes
}

// MountHolding returns the mount that holds the file or directory p: the
// deepest one whose mountPath is p or a parent of it; nil when p is on the
// container's own filesystem.
func MountHolding(mounts []VolumeMount, p string) *VolumeMount {
	p = path.Clean(p)
	var best *VolumeMount
	for i, m := range mounts {
		if m.MountPath == "" {
			continue
		}
		mp := path.Clean(m.MountPath)
		if mp == p || mp == "/" || strings.HasPrefix(p, mp+"/") {
			if best == nil || len(mp) > len(path.Clean(best.MountPath)) {
				best = &mounts[i]
			}
		}
	}
	return best
}

// InVolume is where p lies inside the volume of m, which holds it
// (MountHolding): the mount's subPath joined with p's path below the
// mountPath, "." for the volume's root.
func (m *VolumeMount) InVolume(p string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(path.Clean(p), path.Clean(m.MountPath)), "/")
	return path.Clean(path.Join(".", m.SubPath, rel))
}

// MountsPath is where a missing volume mount is reported: the manager's
// volumeMounts, or the container.
func (a *Audit) MountsPath() Path {
	if a.ManagerSpec()["volumeMounts"] != nil {
		return a.ManagerPath("volumeMounts")
	}
	return a.ManagerPath()
}

// MountAt returns the mount at dir; with within, also a mount inside dir
// (a file mounted with subPath) or above it (a volume holding the
// directory).
func MountAt(mounts []VolumeMount, dir string, within bool) *VolumeMount {
	dir = path.Clean(dir)
	for i, m := range mounts {
		mp := path.Clean(m.MountPath)
		if m.MountPath == "" {
			continue
		}
		if mp == dir || within && (strings.HasPrefix(mp, dir+"/") || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) {
			return &mounts[i]
		}
	}
	return nil
}

// ReadOnlyMount says why a mount cannot be written to ("" when it can).
func ReadOnlyMount(m *VolumeMount, volumes map[string]map[string]any) string {
	if m.ReadOnly {
		return "mounted readOnly"
	}
	for _, kind := range []string{"configMap", "secret", "downwardAPI", "projected"} {
		if _, ok := volumes[m.Name][kind]; ok {
			return "a " + kind + " volume, which is read-only"
		}
	}
	return ""
}

// ReadOnlyRootFS says whether the manager container has
// securityContext.readOnlyRootFilesystem: true.
func (a *Audit) ReadOnlyRootFS() bool {
	sc, _ := a.ManagerSpec()["securityContext"].(map[string]any)
	ro, _ := sc["readOnlyRootFilesystem"].(bool)
	return ro
}
