package model

import (
	"path"
	"strings"
)

// VolumeMount is one volumeMounts entry of the manager container.
type VolumeMount struct {
	Name, MountPath string
	ReadOnly        bool
	Field           Path
}

// Mounts returns the manager container's volumeMounts and the pod's
// volumes by name.
func (a *Audit) Mounts() ([]VolumeMount, map[string]map[string]any) {
	var out []VolumeMount
	if cm := a.ManagerSpec(); cm != nil {
		list, _ := cm["volumeMounts"].([]any)
		for i, e := range list {
			m, _ := e.(map[string]any)
			if m == nil {
				continue
			}
			vm := VolumeMount{Field: a.ManagerPath("volumeMounts", i)}
			vm.Name, _ = m["name"].(string)
			vm.MountPath, _ = m["mountPath"].(string)
			vm.ReadOnly, _ = m["readOnly"].(bool)
			out = append(out, vm)
		}
	}
	volumes := map[string]map[string]any{}
	list, _ := a.Spec["volumes"].([]any)
	for _, e := range list {
		v, _ := e.(map[string]any)
		if name, _ := v["name"].(string); name != "" {
			volumes[name] = v
		}
	}
	return out, volumes
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
