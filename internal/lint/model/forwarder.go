package model

import (
	"path"
	"strings"
)

// What pubsub-forward (cmd/pubsub-forward, internal/forward) is and does
// without flags. test/lint checks them against the forwarder's own
// defaults.
const (
	// ForwarderName is the forwarder's image name (the last element of
	// the repository) and program name.
	ForwarderName = "pubsub-forward"
	// DefaultForwarderPubsub is the Dapr pubsub Component pubsub-forward
	// publishes through without --pubsub.
	DefaultForwarderPubsub = "pubsub"
)

// forwarderBoolFlags are pubsub-forward's flags that take no separate
// value.
var forwarderBoolFlags = map[string]bool{"version": true, "h": true, "help": true}

// Forwarder is a container running pubsub-forward, the sidecar that sends
// the files of Gatekeeper's disk export driver through the pod's daprd:
// its flags as Go's flag package reads them.
type Forwarder struct {
	Container Container
	// Flags holds the last occurrence of each flag, by name without
	// dashes.
	Flags map[string]ConsumerFlag
	// Field is the container's path in its pod template.
	Field Path
	// ArgsField is where an absent flag is reported: the container's last
	// argument, or the container when it has none.
	ArgsField Path
}

// ParseForwarder reads a container of the pod template at base as
// pubsub-forward: an image named pubsub-forward, or a command or argument
// naming the program (pubsub-forward, /ko-app/pubsub-forward). Its flags
// follow the program's name, or are all the arguments when the image's
// entrypoint runs it.
func ParseForwarder(c Container, base Path) (*Forwarder, bool) {
	program := -1
	for i, a := range c.Args {
		if !strings.HasPrefix(a.Value, "-") && path.Base(a.Value) == ForwarderName {
			program = i
			break
		}
	}
	if program < 0 && imageName(c.Image) != ForwarderName {
		return nil, false
	}
	var rest []Arg
	if program >= 0 {
		rest = c.Args[program+1:]
	} else {
		rest = c.Arguments()
	}
	f := &Forwarder{Container: c, Flags: parseGoFlags(rest, forwarderBoolFlags), Field: base, ArgsField: base}
	if len(c.Args) > 0 {
		f.ArgsField = c.Args[len(c.Args)-1].Field
	}
	return f, true
}

// Flag returns a flag's value with the field that holds it.
func (f *Forwarder) Flag(name string) (EnvVar, bool) {
	fl, ok := f.Flags[name]
	if !ok {
		return EnvVar{Field: f.ArgsField}, false
	}
	return EnvVar(fl), true
}

// Pubsub is the Component the forwarder publishes through: --pubsub, or
// the default with the path of the last argument.
func (f *Forwarder) Pubsub() EnvVar {
	if v, ok := f.Flag("pubsub"); ok {
		return v
	}
	return EnvVar{Value: DefaultForwarderPubsub, Field: f.ArgsField}
}

// Forwarders returns the pubsub-forward containers of the audit pod.
func (a *Audit) Forwarders() []*Forwarder {
	if a.Assumed {
		return nil
	}
	var out []*Forwarder
	for i, c := range a.Containers {
		if i == a.Manager {
			continue
		}
		if f, ok := ParseForwarder(c, a.TemplatePath("spec", "containers", c.Index)); ok {
			out = append(out, f)
		}
	}
	return out
}

// ForwarderMounts returns the forwarder container's volumeMounts.
func (a *Audit) ForwarderMounts(f *Forwarder) []VolumeMount {
	return a.ContainerMounts(f.Container.Index)
}

// IsDisk says whether the connection config uses Gatekeeper v3.20+'s disk
// driver (which writes each audit run to a file).
func (c *Connection) IsDisk() bool { return c.Driver == "disk" }

// DiskPath returns the disk driver's config path, when the config is
// valid and has it.
func (c *Connection) DiskPath() (string, bool) {
	if !c.IsDisk() || c.Config == nil {
		return "", false
	}
	p, ok := c.Config["path"].(string)
	return p, ok && p != ""
}

// DiskMaxAuditResults returns the disk driver's maxAuditResults, when the
// config has it as a whole number.
func (c *Connection) DiskMaxAuditResults() (int, bool) {
	if !c.IsDisk() || c.Config == nil {
		return 0, false
	}
	switch n := c.Config["maxAuditResults"].(type) {
	case float64:
		if n != float64(int(n)) {
			return 0, false
		}
		return int(n), true
	case int:
		return n, true
	case int64:
		return int(n), true
	case uint64:
		return int(n), true //nolint:gosec // G115: a YAML integer past MaxInt64 decodes as uint64; no setting here is that large
	}
	return 0, false
}

// DiskConfigPath is the path of a key of the config: spec.config.key for a
// Connection, data.config with the pointer /key for a ConfigMap.
func (c *Connection) DiskConfigPath(key string) Path {
	if c.IsResource() {
		return c.ConfigPath().Add(key)
	}
	return c.ConfigPath().Add(Pointer("/" + key))
}
