package kubelet

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// processSpec is how one run of a container is started.
type processSpec struct {
	argv  []string
	env   []string
	dir   string
	notes []string
}

// waitError is a prerequisite that is not there yet (a Secret to mount);
// the container waits for it.
type waitError struct{ err error }

func (w *waitError) Error() string { return w.err.Error() }
func (w *waitError) Unwrap() error { return w.err }

// containerSpec resolves a container's binary, args, env and mounts.
func (p *pod) containerSpec(ctx context.Context, c corev1.Container, kubeconfig string) (*processSpec, error) {
	img, _ := p.k.image(c.Image)
	env, err := p.env(ctx, c)
	if err != nil {
		return nil, err
	}
	mounts, err := p.mounts(ctx, c)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var argv []string
	if len(c.Command) > 0 {
		argv = append(argv, expand(c.Command[1:], vars)...)
	}
	argv = append(argv, expand(c.Args, vars)...)
	spec := &processSpec{dir: filepath.Join(p.dir, "root")}
	if err := os.MkdirAll(spec.dir, 0o700); err != nil {
		return nil, err
	}
	for i, a := range argv {
		if r := rewritePaths(a, mounts); r != a && !img.KeepPaths {
			argv[i] = r
		}
	}
	for _, flag := range slices.Sorted(maps.Keys(img.PathFlags)) {
		def := img.PathFlags[flag]
		if _, ok := flagValue(argv, flag); ok {
			continue
		}
		path := rewritePaths(def, mounts)
		if path == def {
			path = filepathJoinUnder(spec.dir, def)
		}
		argv = append(argv, "--"+flag+"="+path)
		spec.notes = append(spec.notes, fmt.Sprintf("--%s defaults to %s: given as %s", flag, def, path))
	}
	for _, flag := range slices.Sorted(maps.Keys(img.ListenFlags)) {
		def := img.ListenFlags[flag]
		v, ok := flagValue(argv, flag)
		if !ok {
			v = expand([]string{def}, vars)[0]
		}
		port, err := portOf(v)
		if err != nil {
			return nil, fmt.Errorf("flag --%s=%q: no port in it", flag, v)
		}
		hp, err := p.hostPort(port)
		if err != nil {
			return nil, err
		}
		argv = append(argv, "--"+flag+"="+withPort(v, hp))
	}
	// Dapr's app containers reach their sidecar on its mapped ports.
	for i, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "DAPR_GRPC_PORT":
			if p.daprd != nil {
				env[i] = k + "=" + strconv.Itoa(p.daprd.grpc)
			}
		case "DAPR_HTTP_PORT":
			if p.daprd != nil {
				env[i] = k + "=" + strconv.Itoa(p.daprd.http)
			}
		}
	}
	// The pod's credentials: its service account's token, as a kubeconfig
	// (there is no in-cluster address on loopback).
	env = append(env, "KUBECONFIG="+kubeconfig, "HOME="+spec.dir, "PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR="+spec.dir)
	spec.argv = append([]string{img.Binary}, argv...)
	spec.env = env
	return spec, nil
}

// expand does Kubernetes' $(VAR) expansion: defined variables are
// replaced, $$ is a literal $, anything else stays as written.
func expand(in []string, vars map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '$' || j+1 >= len(s) {
				b.WriteByte(s[j])
				continue
			}
			switch s[j+1] {
			case '$':
				b.WriteByte('$')
				j++
				continue
			case '(':
				if end := strings.IndexByte(s[j+2:], ')'); end >= 0 {
					name := s[j+2 : j+2+end]
					if v, ok := vars[name]; ok {
						b.WriteString(v)
						j += 2 + end
						continue
					}
				}
			}
			b.WriteByte(s[j])
		}
		out[i] = b.String()
	}
	return out
}

// flagValue returns the last value of a flag in Go flag syntax (-f=v,
// --f=v, -f v, --f v).
func flagValue(args []string, name string) (string, bool) {
	val, found := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		n := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if n == a {
			continue
		}
		if k, v, ok := strings.Cut(n, "="); ok {
			if k == name {
				val, found = v, true
			}
			continue
		}
		if n == name && i+1 < len(args) {
			val, found = args[i+1], true
			i++
		}
	}
	return val, found
}
