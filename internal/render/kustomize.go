package render

import (
	"context"
	"fmt"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/yaml"
)

// originAnnotation is set by kustomize when the kustomization lists
// originAnnotations under buildMetadata.
const originAnnotation = "config.kubernetes.io/origin"

// Kustomize builds the kustomization in dir in-process, as
// `kustomize build dir` does: resources in kustomize's legacy order unless
// the kustomization sets sortOptions, no managed-by label, load restrictions
// to the root. Each object's Source is its original file, from the origin
// annotation that kustomize records when asked to (newOriginFS asks on the
// user's behalf without changing their files); the annotation is removed
// from the object. Objects without a local origin (generated ones, remote
// bases) have Source dir.
func Kustomize(ctx context.Context, dir string) ([]Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	// The CLI's --reorder default: legacy order unless the kustomization
	// has sortOptions.
	opts.Reorder = krusty.ReorderOptionUnspecified
	opts.AddManagedbyLabel = false
	m, err := krusty.MakeKustomizer(opts).Run(newOriginFS(dir), dir)
	if err != nil {
		return nil, fmt.Errorf("building kustomization %s: %w", dir, err)
	}
	var out []Object
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("building kustomization %s: %s: %w", dir, r.CurId(), err)
		}
		src := dir
		if origin, ok := r.GetAnnotations()[originAnnotation]; ok {
			var o struct {
				Path string `json:"path"`
				Repo string `json:"repo"`
			}
			if yaml.Unmarshal([]byte(origin), &o) == nil && o.Path != "" && o.Repo == "" {
				src = filepath.Join(dir, o.Path)
			}
			stripAnnotation(obj, originAnnotation)
		}
		js, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("building kustomization %s: %s: %w", dir, r.CurId(), err)
		}
		// Round trip through JSON so numbers decode as in SplitYAML.
		j, err := yaml.YAMLToJSON(js)
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON(j)
		if err != nil {
			return nil, err
		}
		mobj, _ := v.(map[string]any)
		out = append(out, Object{Source: src, Obj: mobj, Raw: js})
	}
	return out, nil
}

func stripAnnotation(obj map[string]any, key string) {
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		return
	}
	delete(ann, key)
	if len(ann) == 0 {
		delete(md, "annotations")
	}
}
