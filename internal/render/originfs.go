package render

import (
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizationNames are the file names kustomize accepts for a
// kustomization, in its order of preference.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// originFS is the on-disk file system, except that the root
// kustomization, when read, also lists originAnnotations under
// buildMetadata: kustomize then records each object's original file, so a
// finding can point at it. The user's file is not changed, and Kustomize
// removes the annotation from the objects it returns.
type originFS struct {
	filesys.FileSystem
	roots map[string]bool
}

func newOriginFS(dir string) filesys.FileSystem {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	roots := map[string]bool{}
	for _, n := range kustomizationNames {
		roots[filepath.Join(abs, n)] = true
	}
	return originFS{FileSystem: filesys.MakeFsOnDisk(), roots: roots}
}

func (f originFS) ReadFile(path string) ([]byte, error) {
	b, err := f.FileSystem.ReadFile(path)
	if err != nil {
		return b, err
	}
	abs, aerr := filepath.Abs(path)
	if aerr != nil || !f.roots[abs] {
		return b, nil
	}
	return withOriginAnnotations(b), nil
}

// withOriginAnnotations adds originAnnotations to a kustomization's
// buildMetadata; a file it cannot parse is returned unchanged, for
// kustomize to report.
func withOriginAnnotations(b []byte) []byte {
	var k map[string]any
	if err := yaml.Unmarshal(b, &k); err != nil || k == nil {
		return b
	}
	meta, _ := k["buildMetadata"].([]any)
	for _, m := range meta {
		if m == "originAnnotations" {
			return b
		}
	}
	k["buildMetadata"] = append(meta, "originAnnotations")
	out, err := yaml.Marshal(k)
	if err != nil {
		return b
	}
	return out
}
