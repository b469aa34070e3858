package input

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// DefaultMaxInputBytes is how much of one input (a file or standard input)
// is read when Options.MaxInputBytes is not set: 64Mi.
const DefaultMaxInputBytes int64 = 64 << 20

// maxInput is the limit in effect.
func (o Options) maxInput() int64 {
	if o.MaxInputBytes > 0 {
		return o.MaxInputBytes
	}
	return DefaultMaxInputBytes
}

func tooLarge(name string, limit int64) error {
	return fmt.Errorf("reading %s: %w: more than %s, the --max-input-bytes limit", name, ErrInputTooLarge, limitText(limit))
}

// limitText is "64Mi (67108864 bytes)", or "1000 bytes".
func limitText(limit int64) string {
	if f := FormatByteSize(limit); f != strconv.FormatInt(limit, 10) {
		return fmt.Sprintf("%s (%d bytes)", f, limit)
	}
	return fmt.Sprintf("%d bytes", limit)
}

// readLimited reads r to the end, but at most limit bytes: one more is an
// error naming name and the limit. It reads in chunks, so an endless stream
// costs about limit bytes before it fails (not the doubling of one growing
// buffer); sizeHint (when known and within the limit) sizes the first chunk
// to hold all of it.
func readLimited(r io.Reader, name string, limit, sizeHint int64) ([]byte, error) {
	const minChunk, maxChunk = 64 << 10, 4 << 20
	r = io.LimitReader(r, limit+1)
	var chunks [][]byte
	var total int64
	next := int64(minChunk)
	if sizeHint > 0 && sizeHint <= limit {
		next = sizeHint + 1 // +1 sees the end without another chunk
	}
	for {
		buf := make([]byte, min(next, limit+1-total))
		n, err := io.ReadFull(r, buf)
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, buf[:n])
		}
		if total > limit {
			return nil, tooLarge(name, limit)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		next = min(max(next*2, minChunk), maxChunk)
	}
	switch len(chunks) {
	case 0:
		return nil, nil
	case 1:
		return chunks[0], nil
	}
	return bytes.Join(chunks, nil), nil
}

// openRegular opens a regular file of at most limit bytes for reading, and
// returns its size.
// It is opened without blocking (a FIFO that replaced the file since it
// was planned does not hang) and checked again once open.
func openRegular(path string, limit int64) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, notRegular(path, fi.Mode())
	}
	if fi.Size() > limit {
		return nil, 0, tooLarge(path, limit)
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, notRegular(path, fi.Mode())
	}
	return f, fi.Size(), nil
}

// capped reads r, but fails after limit bytes with the error of tooLarge
// (a file that grows while it is read).
type capped struct {
	r        io.Reader
	name     string
	n, limit int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, tooLarge(c.name, c.limit)
	}
	if room := c.limit + 1 - c.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return 0, tooLarge(c.name, c.limit)
	}
	return n, err
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("reading %s: %w but %s", path, ErrNotRegular, describeMode(m))
}

// describeMode names a file type: "a named pipe (FIFO)", "a character
// device", ...
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "an irregular file"
	}
}
