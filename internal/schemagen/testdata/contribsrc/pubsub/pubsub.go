// Test fixture written for schemagen's tests.
package pubsub

import "fmt"

// Metadata is the component's metadata.
type Metadata struct {
	Properties map[string]string
}

// ConcurrencyMode is single or parallel.
type ConcurrencyMode string

const (
	ConcurrencyKey                 = "concurrencyMode"
	Single         ConcurrencyMode = "single"
	Parallel       ConcurrencyMode = "parallel"
)

// Concurrency reads concurrencyMode; another value is an error.
func Concurrency(metadata map[string]string) (ConcurrencyMode, error) {
	if val, ok := metadata[ConcurrencyKey]; ok && val != "" {
		switch val {
		case string(Single):
			return Single, nil
		case string(Parallel):
			return Parallel, nil
		default:
			return "", fmt.Errorf("invalid %s %s", ConcurrencyKey, val)
		}
	}
	return Parallel, nil
}

// TLSProperties are decoded by field name.
type TLSProperties struct {
	CACert string
}
