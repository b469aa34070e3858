package procs

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// Ports are given out from a block of ports below the kernel's ephemeral
// range (32768-60999 by default), which neither a bind to port 0 nor an
// outgoing connection takes. Each process holding ports locks one block with
// flock(2) on a file in the temporary directory, so test binaries running side
// by side (go test runs packages in parallel) never get the same port: a port
// handed out stays unused until the server it is for binds it, and another
// process picking it in that window made the server exit. The kernel releases
// the lock when the process ends, however it ends.
const (
	portBase   = 11000
	blockSize  = 1000
	blockCount = 20
)

// ports is this process's allocator.
var ports struct {
	sync.Mutex
	init   bool
	locks  []*os.File // the locked blocks' files, kept open for the process's life
	next   int        // next candidate in the block; 0 when there is no block
	end    int
	issued map[int]bool
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, that
// no earlier call in this process returned, and that no other process using
// this package is given.
func FreePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	if !ports.init {
		ports.init = true
		ports.issued = map[int]bool{}
		lockBlock(0)
	}
	for ports.next != 0 {
		for ports.next < ports.end {
			p := ports.next
			ports.next++
			if bindable(p) {
				ports.issued[p] = true
				return p, nil
			}
		}
		// The block is used up: the next free one, keeping this one
		// locked so that no other process is given its ports.
		lockBlock((ports.end - portBase) / blockSize)
	}
	return kernelPort()
}

// kernelPort lets the kernel choose, ruling out only repeats within this
// process. Its choice is far from uniform (20,000 binds to port 0 gave 6,600
// distinct ports), so it is the last resort, when no block is free.
func kernelPort() (int, error) {
	for range 10000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !ports.issued[p] {
			ports.issued[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("finding a free port: 10,000 binds to port 0 gave only ports already handed out")
}

// lockBlock takes the first block from index from on that no other process
// holds. With none free it sets ports.next to 0. A block taken earlier stays
// locked until the process ends.
func lockBlock(from int) {
	ports.next = 0
	dir := filepath.Join(os.TempDir(), "gatekeeper-pubsub-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return
	}
	for b := from; b < blockCount; b++ {
		f, err := os.OpenFile(filepath.Join(dir, "block-"+strconv.Itoa(b)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			continue
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		ports.locks = append(ports.locks, f)
		ports.next = portBase + b*blockSize
		ports.end = ports.next + blockSize
		return
	}
}

func bindable(p int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
