//go:build unix

package input

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without waiting for a writer when
// it is a FIFO: the caller checks the type of what it opened before
// reading. On regular files O_NONBLOCK changes nothing.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
