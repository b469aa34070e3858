package lint

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRunDropsOnlyIrrelevantObjects: Run, which streams files, drops the
// objects no rule can look at while loading and lets the text of released
// Components go (reading it again for positions), finds exactly what Check
// finds on all objects loaded whole.
func TestRunDropsOnlyIrrelevantObjects(t *testing.T) {
	var dirs []string
	for _, pattern := range []string{"../../test/lint/testdata/cases/*/*", "../../test/lint/testdata/quickstart"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, m...)
	}
	if len(dirs) < 40 {
		t.Fatalf("found only %d fixture directories", len(dirs))
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		opts := Options{Paths: []string{dir}}
		all, files, err := Load(context.Background(), opts)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		want, err := Check(context.Background(), opts, all)
		if err != nil {
			t.Fatal(err)
		}
		want.Files = files
		got, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		// Run alone says when the inputs hold no object of the setup (a
		// fixture may hold only a Secret or a Namespace).
		if len(got.Findings) > 0 && got.Findings[0].Rule == SetupEmptyRule {
			got.Findings = got.Findings[1:]
		}
		// Compared as the outputs see them: the objects behind the findings
		// differ (Run's Components are released).
		for _, r := range []*Result{got, want} {
			for i := range r.Findings {
				r.Findings[i].Subject, r.Findings[i].Path = nil, nil
			}
			for i := range r.Suppressed {
				r.Suppressed[i].Subject, r.Suppressed[i].Path = nil, nil
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Run = %+v, Check on all objects = %+v", dir, got, want)
		}
	}
}
