// Package secretfile reads a small secret from a file, as a mounted
// Kubernetes Secret holds one: bounded, trimmed of surrounding space and
// line breaks, never empty. Its errors name the file, never the content.
package secretfile

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Read returns the file's content trimmed; a file over limit bytes or
// empty once trimmed is an error.
func Read(path string, limit int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return "", err // an *os.PathError: it names the file
	}
	if len(b) > limit {
		return "", fmt.Errorf("%s: over %d bytes", path, limit)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}
