package model

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func argsOf(vals ...string) []Arg {
	out := make([]Arg, len(vals))
	for i, v := range vals {
		out[i] = Arg{Value: v, Field: P("args", i)}
	}
	return out
}

func values(args []Arg) []string {
	out := []string{}
	for _, a := range args {
		out = append(out, a.Value)
	}
	return out
}

var (
	v3170 = &Version{3, 17, 0}
	v3231 = &Version{3, 23, 1}
)

// TestParseFlags: what the manager parses, ignores and fails on.
func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		version *Version
		args    []string
		flags   []string // name=value (value "" without one)
		stop    StopKind
		ignored []string
		err     string // the first error's message
	}{
		{"stray true after a boolean", v3170, []string{"--enable-pub-sub", "true", "--audit-connection=x"},
			[]string{"enable-pub-sub="}, StopNonFlag, []string{"true", "--audit-connection=x"}, ""},
		{"boolean with =", v3170, []string{"--enable-pub-sub=true", "--audit-connection=x"},
			[]string{"enable-pub-sub=true", "audit-connection=x"}, StopEnd, []string{}, ""},
		{"one dash and a separate value", v3170, []string{"-audit-channel", "ch", "-logtostderr"},
			[]string{"audit-channel=ch", "logtostderr="}, StopEnd, []string{}, ""},
		{"the value may start with a dash", v3170, []string{"--audit-channel", "--enable-pub-sub"},
			[]string{"audit-channel=--enable-pub-sub"}, StopEnd, []string{}, ""},
		{"-- ends the flags", v3170, []string{"--log-level=INFO", "--", "--audit-connection=x"},
			[]string{"log-level=INFO"}, StopTerminator, []string{"--audit-connection=x"}, ""},
		{"a lone dash is no flag", v3170, []string{"-", "--audit-connection=x"},
			nil, StopNonFlag, []string{"-", "--audit-connection=x"}, ""},
		{"undefined flag", v3170, []string{"--enable-violation-export=true"},
			nil, StopEnd, []string{}, "flag provided but not defined: -enable-violation-export"},
		{"removed flag", v3231, []string{"--enable-pub-sub"},
			nil, StopEnd, []string{}, "flag provided but not defined: -enable-pub-sub"},
		{"bad boolean", v3170, []string{"--enable-pub-sub=yes"},
			[]string{"enable-pub-sub=yes"}, StopEnd, []string{}, `invalid boolean value "yes" for -enable-pub-sub: parse error`},
		{"needs an argument", v3170, []string{"--audit-channel"},
			[]string{"audit-channel="}, StopEnd, []string{}, "flag needs an argument: -audit-channel"},
		{"three dashes", v3170, []string{"---audit-channel=x"},
			nil, StopEnd, []string{}, "bad flag syntax: ---audit-channel=x"},
		{"help", v3170, []string{"-h"}, nil, StopEnd, []string{}, "flag: help requested"},
		{"uint rejects a negative", v3170, []string{"--audit-interval=-1"},
			[]string{"audit-interval=-1"}, StopEnd, []string{}, `invalid value "-1" for flag -audit-interval: parse error`},
		{"int64 takes a negative", v3231, []string{"--audit-interval=-1"},
			[]string{"audit-interval=-1"}, StopEnd, []string{}, ""},
		{"generate is no operation of v3.17", v3170, []string{"--operation=audit,generate"},
			[]string{"operation=audit,generate"}, StopEnd, []string{},
			`invalid value "audit,generate" for flag -operation: operation generate is not a valid operation: map[audit:true mutation-controller:true mutation-status:true mutation-webhook:true status:true webhook:true]`},
		{"generate is one of v3.23", v3231, []string{"--operation=generate", "--operation", "audit"},
			[]string{"operation=generate", "operation=audit"}, StopEnd, []string{}, ""},
		{"after an error parsing goes on", v3170, []string{"--enable-pub-sub=yes", "--audit-channel="},
			[]string{"enable-pub-sub=yes", "audit-channel="}, StopEnd, []string{}, `invalid boolean value "yes" for -enable-pub-sub: parse error`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ParseFlags(argsOf(tc.args...), GatekeeperFlags(tc.version))
			var got []string
			for _, f := range p.Order {
				got = append(got, f.Name+"="+f.Value)
			}
			if !reflect.DeepEqual(got, tc.flags) {
				t.Errorf("flags %q, want %q", got, tc.flags)
			}
			if p.Stop != tc.stop {
				t.Errorf("stop %d, want %d", p.Stop, tc.stop)
			}
			if got := values(p.Ignored); !reflect.DeepEqual(got, tc.ignored) {
				t.Errorf("ignored %q, want %q", got, tc.ignored)
			}
			msg := ""
			if e := p.Err(); e != nil {
				msg = e.Message
			}
			if msg != tc.err {
				t.Errorf("error %q, want %q", msg, tc.err)
			}
		})
	}
}

// TestParseManagerArgs: the program name is command[0], or the image's
// entrypoint /manager when there is no command; other commands are only
// scanned.
func TestParseManagerArgs(t *testing.T) {
	tests := []struct {
		name    string
		c       Container
		exact   bool
		ignored []string
	}{
		{"command /manager", Container{Args: argsOf("/manager", "--enable-pub-sub", "true"), Command: 1}, true, []string{"true"}},
		{"no command", Container{Args: argsOf("--enable-pub-sub", "true")}, true, []string{"true"}},
		{"command with flags", Container{Args: argsOf("/manager", "--log-level=INFO", "--enable-pub-sub", "true"), Command: 2}, true, []string{"true"}},
		{"a shell", Container{Args: argsOf("sh", "-c", "exec /manager --enable-pub-sub true"), Command: 2}, false, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ParseManagerArgs(tc.c, GatekeeperFlags(v3170))
			if p.Exact != tc.exact {
				t.Errorf("exact %v, want %v", p.Exact, tc.exact)
			}
			if got := values(p.Ignored); !reflect.DeepEqual(got, tc.ignored) {
				t.Errorf("ignored %q, want %q", got, tc.ignored)
			}
		})
	}
}

// TestGatekeeperFlagTable: the facts are consistent.
func TestGatekeeperFlagTable(t *testing.T) {
	seen := map[string]bool{}
	for i, row := range GatekeeperFlagTable {
		if seen[row.Name] {
			t.Errorf("%s twice", row.Name)
		}
		seen[row.Name] = true
		if i > 0 && GatekeeperFlagTable[i-1].Name > row.Name {
			t.Errorf("%s is out of order", row.Name)
		}
		boolean := 0
		n := 0
		for _, ty := range row.Types {
			if ty != ftNone {
				n++
				if ty.IsBool() {
					boolean++
				}
			}
		}
		if n == 0 || row.Source == "" {
			t.Errorf("%s: no version or no source", row.Name)
		}
		// Whether a flag takes a separate value must not depend on the
		// version: the parser relies on it where versions are uncertain.
		if boolean != 0 && boolean != n {
			t.Errorf("%s is boolean in some versions only", row.Name)
		}
	}
}

// TestGatekeeperFlagsStatus: which versions define which flags.
func TestGatekeeperFlagsStatus(t *testing.T) {
	tests := []struct {
		version *Version
		flag    string
		want    defStatus
	}{
		{v3170, "enable-pub-sub", defined},
		{v3170, "enable-violation-export", undefined},
		{v3231, "enable-pub-sub", undefined},
		{v3231, "enable-violation-export", defined},
		{&Version{3, 18, 3}, "enable-pub-sub", maybeDefined},
		{&Version{3, 18, 3}, "enable-violation-export", maybeDefined},
		{&Version{3, 18, 3}, "audit-connection", defined},
		{&Version{3, 18, 3}, "enable-pubsub", undefined},
		{&Version{3, 20, 0}, "experimental-enable-k8s-native-validation", undefined},
		{&Version{3, 15, 0}, "enable-k8s-native-validation", maybeDefined},
		{&Version{3, 15, 0}, "experimental-enable-k8s-native-validation", maybeDefined},
		{&Version{3, 24, 0}, "shutdown-delay", defined},
		{&Version{3, 24, 0}, "enable-pub-sub", maybeDefined},
		{&Version{3, 24, 0}, "no-such-flag", undefined},
		{&Version{3, 10, 0}, "cert-dir", defined},
		{nil, "enable-pub-sub", maybeDefined},
		{nil, "no-such-flag", undefined},
	}
	for _, tc := range tests {
		d := GatekeeperFlags(tc.version)
		if got := d.defs[tc.flag].status; got != tc.want {
			t.Errorf("%v %s: status %d, want %d", tc.version, tc.flag, got, tc.want)
		}
	}
	ops := []struct {
		version *Version
		op      string
		want    bool
	}{
		{v3170, "generate", false},
		{&Version{3, 17, 2}, "generate", false},
		{&Version{3, 18, 0}, "generate", true},
		{&Version{3, 18, 3}, "generate", true},
		{v3231, "generate", true},
		{nil, "generate", true},
		{v3170, "audit", true},
		{v3170, "audits", false},
	}
	for _, tc := range ops {
		if got := GatekeeperFlags(tc.version).OperationValid(tc.op); got != tc.want {
			t.Errorf("%v --operation=%s valid: %v, want %v", tc.version, tc.op, got, tc.want)
		}
	}
	// Between sources that disagree, a value either type takes is taken.
	d := GatekeeperFlags(&Version{3, 20, 0})
	if p := ParseFlags(argsOf("--audit-interval=-1"), d); p.Err() != nil {
		t.Errorf("v3.20.0 --audit-interval=-1: %s", p.Err().Message)
	}
}

// recorder is a flag.Value of Go's flag package that records every Set.
type recorder struct {
	flag.Value
	name    string
	boolean bool
	calls   *[]string
}

func (r recorder) Set(s string) error {
	*r.calls = append(*r.calls, r.name+"="+s)
	return r.Value.Set(s)
}

func (r recorder) IsBoolFlag() bool { return r.boolean }

// customValue is a Gatekeeper flag.Value (operation, metrics-backend,
// glog's): Set is pubsub-lint's model of it.
type customValue struct {
	d *FlagDefs
	t flagType
}

func (c customValue) String() string     { return "" }
func (c customValue) Set(s string) error { return c.d.setType(c.t, s) }

// goFlagSet returns a FlagSet of Go's flag package with defs' flags:
// Go's own Value types for Go's types, so that the boolean handling and
// the value errors are the standard library's.
func goFlagSet(d *FlagDefs, calls *[]string) *flag.FlagSet {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	scratch := flag.NewFlagSet("scratch", flag.ContinueOnError)
	for name, def := range d.defs {
		if def.status == undefined {
			continue
		}
		t := def.types[0]
		var v flag.Value
		switch t {
		case ftBool:
			scratch.Bool(name, false, "")
		case ftString:
			scratch.String(name, "", "")
		case ftInt:
			scratch.Int(name, 0, "")
		case ftInt64:
			scratch.Int64(name, 0, "")
		case ftUint:
			scratch.Uint(name, 0, "")
		case ftUint64:
			scratch.Uint64(name, 0, "")
		case ftDuration:
			scratch.Duration(name, 0, "")
		default:
			v = customValue{d, t}
		}
		if v == nil {
			v = scratch.Lookup(name).Value
		}
		fs.Var(recorder{Value: v, name: name, boolean: t.IsBool(), calls: calls}, name, "")
	}
	return fs
}

// single returns defs with one type per flag (Go's FlagSet cannot hold
// "uint or int64").
func single(d *FlagDefs) *FlagDefs {
	out := *d
	out.defs = map[string]flagDef{}
	for n, def := range d.defs {
		if len(def.types) > 1 {
			def.types = def.types[:1]
		}
		out.defs[n] = def
	}
	return &out
}

// compareWithGo parses args with pubsub-lint's parser and with Go's flag
// package and reports any difference: the Set calls up to the first
// error, the error, and the arguments left (flag.Args()).
func compareWithGo(d *FlagDefs, args []string) error {
	var calls []string
	fs := goFlagSet(d, &calls)
	goErr := fs.Parse(args)
	p := ParseFlags(argsOf(args...), d)

	var ours []string
	for _, f := range p.Order {
		if f.AfterExit {
			break
		}
		if e := p.Err(); e != nil && e.Kind == ErrNeedsArgument && e.Index == f.Index {
			break // Go calls no Set
		}
		v := f.Value
		if !f.HasValue && d.IsBool(f.Name) {
			v = "true"
		}
		ours = append(ours, f.Name+"="+v)
	}
	if calls == nil {
		calls = []string{}
	}
	if ours == nil {
		ours = []string{}
	}
	if !reflect.DeepEqual(ours, calls) {
		return fmt.Errorf("Set calls %q, Go's flag package %q", ours, calls)
	}
	msg, goMsg := "", ""
	if e := p.Err(); e != nil {
		msg = e.Message
	}
	if goErr != nil {
		goMsg = goErr.Error()
		if errors.Is(goErr, flag.ErrHelp) != (p.Err() != nil && p.Err().Kind == ErrHelp) {
			return fmt.Errorf("help: %v, Go: %w", p.Err(), goErr)
		}
	}
	if msg != goMsg {
		return fmt.Errorf("error %q, Go's flag package %q", msg, goMsg)
	}
	rest := values(p.Ignored)
	if e := p.Err(); e != nil {
		rest = values(p.Args[e.Next:])
	}
	if goRest := fs.Args(); !reflect.DeepEqual(rest, append([]string{}, goRest...)) {
		return fmt.Errorf("left %q, Go's flag package %q", rest, goRest)
	}
	return nil
}

// differentialVersions: every source version, versions between and around
// them, and an unknown version.
var differentialVersions = []*Version{
	{3, 13, 0}, {3, 17, 0}, {3, 23, 1}, {3, 15, 0}, {3, 18, 3}, {3, 20, 1}, {3, 24, 0}, {3, 10, 0}, nil,
}

// flagTokens are the pieces random command lines are made of.
var flagTokens = []string{
	"--enable-pub-sub", "-enable-pub-sub", "--enable-pub-sub=true", "--enable-pub-sub=false", "--enable-pub-sub=yes", "--enable-pub-sub=",
	"--enable-violation-export", "--enable-violation-export=1", "--audit-connection", "--audit-connection=x", "-audit-connection=",
	"--audit-channel", "-audit-channel=ch", "--operation=audit", "--operation", "audit", "generate", "--operation=audit,generate",
	"--operation=", "--operation=webhook,", "--audit-interval=-1", "--audit-interval", "60", "0x1f", "--audit-chunk-size=500",
	"--audit-chunk-size=99999999999999999999", "--external-data-provider-response-cache-ttl=3m", "--external-data-provider-response-cache-ttl=3",
	"--metrics-backend=Prometheus", "--metrics-backend=opencensus", "--metrics-backend=prometheus,stackdriver", "--disable-opa-builtin={http.send}",
	"--v=2", "-v", "x", "--vmodule=a=1,b=2", "--vmodule=a", "--log_backtrace_at=main.go:10", "--log_backtrace_at=main:10",
	"--stderrthreshold=warning", "--stderrthreshold=256", "--stderrthreshold=4", "--logtostderr", "--logtostderr=0",
	"true", "false", "-", "--", "---x", "-=x", "--=", "-h", "--help", "-help=1", "--no-such-flag", "--no-such-flag=1",
	"--cert-dir", "/certs", "--api-cache-dir=/tmp/audit", "--audit-from-cache=false", "--enable-external-data=false",
	"--shutdown-delay=5", "--default-k8s-native-validation-failure-policy=Ignore", "--experimental-enable-k8s-native-validation",
	"", "-x=", "--e=", "--enable-pub-sub=T", "--enable-pub-sub=TRUE", "--enable-pub-sub=tRuE",
}

// TestParseFlagsMatchesGo is the differential test: random command lines,
// parsed by pubsub-lint and by Go's flag package holding the same flags,
// for every version.
func TestParseFlagsMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for _, v := range differentialVersions {
		d := single(GatekeeperFlags(v))
		for i := 0; i < n; i++ {
			args := make([]string, rng.Intn(7))
			for j := range args {
				args[j] = flagTokens[rng.Intn(len(flagTokens))]
			}
			if err := compareWithGo(d, args); err != nil {
				t.Fatalf("%v %q: %v", v, args, err)
			}
		}
	}
}

// FuzzFlagParse: arbitrary command lines (arguments separated by NUL),
// parsed by pubsub-lint and by Go's flag package; the first byte picks
// the version.
func FuzzFlagParse(f *testing.F) {
	for _, s := range []string{
		"\x00--enable-pub-sub\x00true\x00--audit-connection=x",
		"\x01-audit-channel\x00--enable-pub-sub\x00--\x00--audit-connection=x",
		"\x02--enable-pub-sub=true\x00--operation=generate\x00--operation\x00audit",
		"\x03---x",
		"\x04-=x\x00-h",
		"\x05--audit-interval=-1\x00--audit-chunk-size\x000x10",
		"\x06--stderrthreshold=256\x00--vmodule=a=1,\x00--log_backtrace_at=a.go:1,",
		"\x07--metrics-backend=PROMETHEUS,opencensus",
		"\x08--no-such-flag\x00x",
		"\x01--enable-pub-sub=\x00-\x00true",
		"\x02--operation=\x00--cert-dir",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := differentialVersions[0]
		if len(data) > 0 {
			v = differentialVersions[int(data[0])%len(differentialVersions)]
			data = data[1:]
		}
		var args []string
		if len(data) > 0 {
			args = strings.Split(string(data), "\x00")
		}
		if err := compareWithGo(single(GatekeeperFlags(v)), args); err != nil {
			t.Fatalf("%v %q: %v", v, args, err)
		}
	})
}

// TestGatekeeperFlagsMatchBinaries compares the table with what the
// manager binaries built from Gatekeeper's sources (make tools: bin/) print
// for -h: the same flags, and boolean where -h shows no value name.
func TestGatekeeperFlagsMatchBinaries(t *testing.T) {
	for _, v := range []*Version{v3170, v3231} {
		t.Run(v.String(), func(t *testing.T) {
			bin := filepath.Join("..", "..", "..", "bin", "gatekeeper-"+v.String())
			if _, err := os.Stat(bin); err != nil {
				t.Fatalf("%s is not built: run `make tools` (builds Gatekeeper's manager into a cache and links it into bin/)", bin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, "-h").CombinedOutput()
			if err != nil {
				t.Fatalf("%s -h: %v\n%s", bin, err, out)
			}
			got := map[string]string{} // name -> value name
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				line := sc.Text()
				if !strings.HasPrefix(line, "  -") {
					continue
				}
				fields := strings.Fields(strings.TrimPrefix(line, "  -"))
				got[fields[0]] = strings.Join(fields[1:], " ")
			}
			d := GatekeeperFlags(v)
			var want []string
			for name, def := range d.defs {
				if def.status == defined {
					want = append(want, name)
				}
			}
			var names []string
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(want)
			sort.Strings(names)
			if !reflect.DeepEqual(names, want) {
				t.Fatalf("-h lists %q, the table %q", names, want)
			}
			typeNames := map[string]bool{"string": true, "int": true, "uint": true, "duration": true, "value": true, "float": true}
			for name, vn := range got {
				switch {
				case vn == "" && !d.IsBool(name):
					t.Errorf("-%s is boolean, the table says %v", name, d.defs[name].types)
				case typeNames[vn] && d.IsBool(name):
					t.Errorf("-%s takes a %s, the table says boolean", name, vn)
				}
			}
		})
	}
}
