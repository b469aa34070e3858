package input

import (
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// SplitSetups tells the setups a run's paths hold when one PATH is a tree
// of several kustomizations, as a repository's kustomize/ directory with
// its base, components and overlays: each kustomization deployed on its
// own is a setup of its own, since linting them together cross-checks
// objects that never meet in one cluster. A Component (kind: Component)
// and a kustomization another one in the tree builds on are linted
// through those that use them. The files and charts of the tree outside
// any kustomization make one more setup. It returns nil when nothing is
// to split.
func SplitSetups(paths []string) [][]string {
	if len(paths) != 1 || paths[0] == StdinPath {
		return nil
	}
	root := paths[0]
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil
	}
	if _, ok := dirKind(root); ok {
		return nil
	}
	jobs, _ := walk(root, nil, nil)
	type kustomization struct {
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Components []string `json:"components"`
		Bases      []string `json:"bases"`
	}
	var dirs, others []string
	used := map[string]bool{}
	component := map[string]bool{}
	for _, j := range jobs {
		if j.kind != jobKustomize {
			others = append(others, j.path)
			continue
		}
		dir := filepath.Clean(j.path)
		dirs = append(dirs, dir)
		var k kustomization
		for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				_ = yaml.Unmarshal(b, &k) // a broken file is reported when it is built
				break
			}
		}
		if k.Kind == "Component" {
			component[dir] = true
		}
		for _, refs := range [][]string{k.Resources, k.Components, k.Bases} {
			for _, r := range refs {
				p := filepath.Clean(filepath.Join(dir, r))
				if fi, err := os.Stat(p); err == nil && fi.IsDir() {
					used[p] = true
				}
			}
		}
	}
	if len(dirs) < 2 {
		return nil
	}
	var setups [][]string
	for _, d := range dirs {
		if !component[d] && !used[d] {
			setups = append(setups, []string{d})
		}
	}
	if len(others) > 0 {
		setups = append(setups, others)
	}
	if len(setups) < 2 {
		return nil
	}
	return setups
}
