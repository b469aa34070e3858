package model

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// StopKind says why parsing a command line ended.
type StopKind uint8

// Ways Go's flag package stops parsing.
const (
	// StopEnd: every argument was parsed.
	StopEnd StopKind = iota
	// StopNonFlag: an argument that is not a flag ("true", "-", "x");
	// it and everything after it are left unparsed.
	StopNonFlag
	// StopTerminator: "--", which ends the flags; what follows is left
	// unparsed.
	StopTerminator
)

// FlagErrorKind is what made flag parsing fail (the manager exits).
type FlagErrorKind uint8

// Failures of Go's flag package (flag.go, parseOne).
const (
	// ErrUndefined: "flag provided but not defined: -x".
	ErrUndefined FlagErrorKind = iota + 1
	// ErrHelp: -h or -help, which the manager does not define: it prints
	// its usage and exits (status 0).
	ErrHelp
	// ErrSyntax: "bad flag syntax: ---x" (three dashes, "-=x", "--=x").
	ErrSyntax
	// ErrNeedsArgument: a non-boolean flag last, without a value.
	ErrNeedsArgument
	// ErrValue: the flag's Value rejected the value.
	ErrValue
)

// FlagError is one failure, with the message Go's flag package gives.
type FlagError struct {
	Kind FlagErrorKind
	// Name of the flag ("" for ErrSyntax).
	Name    string
	Value   string
	Message string
	// Index of the argument in FlagParse.Args; Next is the index of the
	// first argument after it and its value (what flag.Args() would start
	// with).
	Index, Next int
	Field       Path
}

// FlagParse is a command line as Gatekeeper's manager parses it: Go's flag
// package, flag.CommandLine with the flags of the Gatekeeper version.
type FlagParse struct {
	// Exact is false when the container does not run the manager binary
	// directly (a command other than .../manager): the flags are then only
	// scanned for, as a shell would see them, and nothing is known about
	// what the manager ignores.
	Exact bool
	// Args are the arguments after the program name.
	Args []Arg
	// Flags by name, in order. A flag whose value was rejected is in it
	// (with Invalid set). After the first error, which makes the manager
	// exit, parsing goes on as if the flag had been accepted (an undefined
	// flag is skipped alone) so that later problems are found too; those
	// flags have AfterExit set.
	Flags map[string][]Flag
	// Order is every flag in command-line order.
	Order []Flag
	// Stop is why parsing ended; StopAt is the index in Args of the
	// non-flag argument or of "--" (len(Args) for StopEnd).
	Stop   StopKind
	StopAt int
	// Ignored are the arguments the manager never parses: from the
	// non-flag argument on, or after "--".
	Ignored []Arg
	// StopUncertain: the stop comes after an undefined flag or bad
	// syntax, whose arity is unknown, so it is a guess (the manager exits
	// before it anyway).
	StopUncertain bool
	// Errors are the failures, in order: Go's flag package reports the
	// first and the manager exits (status 2, or 0 for ErrHelp).
	Errors []FlagError
	// Defs are the flags of the Gatekeeper version.
	Defs *FlagDefs
}

// Err returns the failure that makes the manager exit, or nil.
func (p *FlagParse) Err() *FlagError {
	if len(p.Errors) == 0 {
		return nil
	}
	return &p.Errors[0]
}

// Default values of Gatekeeper's flags that the rules read.
const (
	DefaultCertDir     = "/certs"
	DefaultAPICacheDir = "/tmp/audit"
)

// Flags the rules read.
const (
	FlagCertDir            = "cert-dir"
	FlagAPICacheDir        = "api-cache-dir"
	FlagAuditFromCache     = "audit-from-cache"
	FlagEnableExternalData = "enable-external-data"
)

// IsManagerCommand says whether a container command runs Gatekeeper's
// manager binary itself: Gatekeeper's image has ENTRYPOINT ["/manager"]
// (Dockerfile), so no command does too.
func IsManagerCommand(command []Arg) bool {
	if len(command) == 0 {
		return true
	}
	return path.Base(command[0].Value) == "manager"
}

// ParseManagerArgs parses a container's command line (command, then args)
// as the manager of the Gatekeeper version defs does.
func ParseManagerArgs(c Container, defs *FlagDefs) *FlagParse {
	command := c.Args[:c.Command]
	if !IsManagerCommand(command) {
		p := &FlagParse{Args: c.Args, Defs: defs, Flags: scanFlags(c.Args), StopAt: len(c.Args)}
		for _, fs := range p.Flags {
			p.Order = append(p.Order, fs...)
		}
		sort.Slice(p.Order, func(i, j int) bool { return p.Order[i].Index < p.Order[j].Index })
		return p
	}
	args := c.Args
	if c.Command > 0 {
		args = c.Args[1:] // command[0] is the program
	}
	return ParseFlags(args, defs)
}

// ParseFlags parses args (the command line after the program name) as
// Go's flag.FlagSet.Parse does for a FlagSet holding defs' flags (flag.go,
// parseOne), and goes on after a failure as FlagParse.Flags says.
func ParseFlags(args []Arg, defs *FlagDefs) *FlagParse {
	p := &FlagParse{Exact: true, Args: args, Flags: map[string][]Flag{}, Defs: defs, StopAt: len(args)}
	exited, uncertain := false, false
	var i int
	fail := func(e FlagError) {
		e.Next = i + 1
		p.Errors = append(p.Errors, e)
		exited = true
	}
	for ; i < len(args); i++ {
		s := args[i].Value
		if len(s) < 2 || s[0] != '-' {
			p.Stop, p.StopAt, p.Ignored, p.StopUncertain = StopNonFlag, i, args[i:], uncertain
			break
		}
		minuses := 1
		if s[1] == '-' {
			minuses++
			if len(s) == 2 {
				p.Stop, p.StopAt, p.Ignored, p.StopUncertain = StopTerminator, i, args[i+1:], uncertain
				break
			}
		}
		name := s[minuses:]
		if len(name) == 0 || name[0] == '-' || name[0] == '=' {
			fail(FlagError{Kind: ErrSyntax, Message: "bad flag syntax: " + s, Index: i, Field: args[i].Field})
			p.Errors[len(p.Errors)-1].Next = i // Go fails before taking the argument
			uncertain = true
			continue
		}
		value, hasValue := "", false
		if j := strings.IndexByte(name[1:], '='); j >= 0 {
			name, value, hasValue = name[:j+1], name[j+2:], true
		}
		f := Flag{Name: name, Value: value, HasValue: hasValue, Field: args[i].Field, Index: i, AfterExit: exited}
		def, ok := defs.lookup(name)
		if !ok {
			if name == "help" || name == "h" {
				fail(FlagError{Kind: ErrHelp, Name: name, Message: "flag: help requested", Index: i, Field: f.Field})
			} else {
				fail(FlagError{Kind: ErrUndefined, Name: name, Message: "flag provided but not defined: -" + name, Index: i, Field: f.Field})
			}
			uncertain = true
			continue
		}
		if def.types[0].IsBool() {
			if hasValue {
				if err := defs.set(def, value); err != nil {
					f.Invalid = true
					fail(FlagError{Kind: ErrValue, Name: name, Value: value, Index: i, Field: f.Field,
						Message: fmt.Sprintf("invalid boolean value %q for -%s: %v", value, name, err)})
				}
			}
		} else {
			if !hasValue && i+1 < len(args) {
				i++
				f.Value, f.HasValue, f.ValueField = args[i].Value, true, args[i].Field
			}
			switch {
			case !f.HasValue:
				f.Invalid = true
				fail(FlagError{Kind: ErrNeedsArgument, Name: name, Index: i, Field: f.Field,
					Message: "flag needs an argument: -" + name})
			default:
				if err := defs.set(def, f.Value); err != nil {
					f.Invalid = true
					fail(FlagError{Kind: ErrValue, Name: name, Value: f.Value, Index: f.Index, Field: f.Field,
						Message: fmt.Sprintf("invalid value %q for flag -%s: %v", f.Value, name, err)})
				}
			}
		}
		f.Repeatable = def.types[0].Repeatable()
		p.Flags[name] = append(p.Flags[name], f)
		p.Order = append(p.Order, f)
	}
	return p
}

// scanFlags finds flags the way pubsub-lint did before it parsed as Go
// does: every -x or --x anywhere, -x=v, and -x v when v does not look like
// a flag. It identifies the audit's container, whose flags are then parsed
// exactly, and reads command lines that do not run the manager directly.
func scanFlags(args []Arg) map[string][]Flag {
	out := map[string][]Flag{}
	for i := 0; i < len(args); i++ {
		a := args[i].Value
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			continue
		}
		name := strings.TrimLeft(a, "-")
		f := Flag{Name: name, Field: args[i].Field, Index: i}
		if k, v, ok := strings.Cut(name, "="); ok {
			f.Name, f.Value, f.HasValue = k, v, true
		} else if !scanBool[name] && i+1 < len(args) && !strings.HasPrefix(args[i+1].Value, "-") {
			f.Value, f.HasValue, f.ValueField = args[i+1].Value, true, args[i+1].Field
			i++
		}
		out[f.Name] = append(out[f.Name], f)
	}
	return out
}

// scanBool: the boolean flags of every Gatekeeper version of the table.
var scanBool = func() map[string]bool {
	m := map[string]bool{}
	for _, row := range GatekeeperFlagTable {
		for _, t := range row.Types {
			if t.IsBool() {
				m[row.Name] = true
			}
		}
	}
	return m
}()

// Values returns every value given to a flag, with comma-separated values
// split (as --operation and --metrics-backend split them).
func Values(fs []Flag) []string {
	var out []string
	for _, f := range fs {
		if f.HasValue {
			out = append(out, strings.Split(f.Value, ",")...)
		}
	}
	return out
}
