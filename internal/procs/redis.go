package procs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// RedisOptions configure a redis-server.
type RedisOptions struct {
	// Password, if set, is required from clients (requirepass).
	Password string
	// Port to listen on; 0 picks a free one.
	Port int
	// Dir for the server's files; default a new temporary directory.
	Dir string
	// AppendOnly persists every write (appendonly, fsync always), so data
	// survives a Pause and Start (fault tests).
	AppendOnly bool
	// Tee receives the server's output as it is written (for the demo).
	Tee func([]byte)
}

// Redis is a running redis-server.
type Redis struct {
	Addr     string
	Port     int
	Password string
	broker
}

// StartRedis starts redis-server on 127.0.0.1 without persistence and
// waits until it answers PING.
func StartRedis(ctx context.Context, opts RedisOptions) (*Redis, error) {
	r := &Redis{Password: opts.Password, Port: opts.Port}
	bin, err := r.prepare(RedisServerPath, &r.Port, opts.Dir, "procs-redis-")
	if err != nil {
		return nil, err
	}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", r.Port)
	appendOnly := []string{"--appendonly", "no"}
	if opts.AppendOnly {
		appendOnly = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	args := append([]string{"--bind", "127.0.0.1", "--port", itoa(r.Port), "--dir", r.dir,
		"--save", "", "--protected-mode", "no", "--daemonize", "no",
		"--loglevel", "notice"}, appendOnly...)
	if r.Password != "" {
		args = append(args, "--requirepass", r.Password)
	}
	r.proc = &process{name: "redis-server", path: bin, args: args, dir: r.dir, out: &syncBuffer{tee: opts.Tee}}
	r.ready, r.probe, r.wait, r.grace = "answering PING on "+r.Addr, r.ping, 20*time.Second, 5*time.Second
	if err := r.launch(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Do sends one command and returns the first reply line (a tiny RESP
// client, enough for readiness checks and test assertions).
func (r *Redis) Do(ctx context.Context, args ...string) (string, error) {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	w := bufio.NewWriter(c)
	rd := bufio.NewReader(c)
	send := func(a []string) error {
		fmt.Fprintf(w, "*%d\r\n", len(a))
		for _, s := range a {
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(s), s)
		}
		return w.Flush()
	}
	if r.Password != "" {
		if err := send([]string{"AUTH", r.Password}); err != nil {
			return "", err
		}
		line, err := rd.ReadString('\n')
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(line, "+OK") {
			return "", fmt.Errorf("AUTH: %s", strings.TrimSpace(line))
		}
	}
	if err := send(args); err != nil {
		return "", err
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "-") {
		return "", fmt.Errorf("redis: %s", line[1:])
	}
	if strings.HasPrefix(line, "$") && line != "$-1" {
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 64<<20 {
			return "", fmt.Errorf("redis: bad bulk length %q", line)
		}
		v := make([]byte, n+2) // the value and its \r\n
		if _, err := io.ReadFull(rd, v); err != nil {
			return "", err
		}
		return strings.TrimSpace(string(v[:n])), nil
	}
	return strings.TrimLeft(line, "+:"), nil
}

func (r *Redis) ping(ctx context.Context) error {
	got, err := r.Do(ctx, "PING")
	if err != nil {
		return err
	}
	if got != "PONG" {
		return fmt.Errorf("PING answered %q", got)
	}
	return nil
}
