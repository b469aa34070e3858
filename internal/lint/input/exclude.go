package input

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// CheckExclude checks --exclude patterns: path.Match globs.
func CheckExclude(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return fmt.Errorf("--exclude: empty pattern")
		}
		if _, err := path.Match(filepath.ToSlash(p), ""); err != nil {
			return fmt.Errorf("--exclude %q: %w", p, err)
		}
	}
	return nil
}

// excluded says whether an input path is left out by --exclude: a pattern
// with a slash matches the path as written or walked (cleaned, with
// slashes) or a directory it is under, so "deploy/tests" or
// "deploy/*/secret.yaml" work; a pattern without one matches the name of
// the file or of a directory on its path, so "*_test.yaml" or "tests"
// work anywhere. Standard input is never excluded.
func excluded(p string, patterns []string) bool {
	if p == StdinPath || len(patterns) == 0 {
		return false
	}
	clean := filepath.ToSlash(filepath.Clean(p))
	elems := strings.Split(clean, "/")
	for _, pat := range patterns {
		pat = strings.TrimSuffix(filepath.ToSlash(pat), "/")
		if !strings.Contains(pat, "/") {
			for _, e := range elems {
				if ok, _ := path.Match(pat, e); ok {
					return true
				}
			}
			continue
		}
		pat = path.Clean(pat)
		for i := range elems {
			if ok, _ := path.Match(pat, strings.Join(elems[:i+1], "/")); ok {
				return true
			}
		}
	}
	return false
}

// exclude drops the jobs --exclude leaves out, and says how many in a note.
func exclude(jobs []job, patterns []string, notes []string) ([]job, []string) {
	if len(patterns) == 0 {
		return jobs, notes
	}
	kept := jobs[:0]
	n := 0
	for _, j := range jobs {
		if excluded(j.path, patterns) {
			n++
			continue
		}
		kept = append(kept, j)
	}
	if n > 0 {
		s := "s"
		if n == 1 {
			s = ""
		}
		notes = append(notes, fmt.Sprintf("--exclude left out %d input%s", n, s))
	}
	return kept, notes
}
