package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Checkpoint is how far the forwarder has sent: every line of Run up to
// Offset (bytes) was accepted by the broker, and every older run entirely.
// It is written after each accepted batch, so a restart sends at most that
// batch again.
type Checkpoint struct {
	// Run is the run's file name without its extension (the run id with
	// ':' written as '_', as the disk driver names it).
	Run string `json:"run"`
	// Offset is the number of bytes of the run's file sent.
	Offset int64 `json:"offset"`
	// Done is true once the run's file was complete (renamed to .log, or
	// left behind by a crashed audit) and sent to its end.
	Done bool `json:"done"`
	// Lines is the number of lines of the run sent.
	Lines int64 `json:"lines"`
	// Updated is when the checkpoint was written.
	Updated time.Time `json:"updated"`
}

// maxCheckpointBytes bounds what is read of a checkpoint file.
const maxCheckpointBytes = 64 << 10

// LoadCheckpoint reads the checkpoint at path; a missing file is the zero
// checkpoint (nothing sent yet).
func LoadCheckpoint(path string) (Checkpoint, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("reading checkpoint: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes+1))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("reading checkpoint %s: %w", path, err)
	}
	if len(b) > maxCheckpointBytes {
		return Checkpoint{}, fmt.Errorf("checkpoint %s: over %d bytes, not a checkpoint", path, maxCheckpointBytes)
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint %s: %w (delete it to start over from the oldest file)", path, err)
	}
	if c.Offset < 0 || (c.Run == "" && (c.Offset != 0 || c.Done)) {
		return Checkpoint{}, fmt.Errorf("checkpoint %s: run %q offset %d is not a position (delete it to start over from the oldest file)", path, c.Run, c.Offset)
	}
	return c, nil
}

// Save writes the checkpoint to path atomically: a temporary file beside
// it, synced, then renamed over it, and the directory synced.
func (c Checkpoint) Save(path string) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing checkpoint %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing checkpoint %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing checkpoint %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
