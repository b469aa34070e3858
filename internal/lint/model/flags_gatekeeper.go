package model

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The flags of Gatekeeper's manager binary, as its sources define them.
//
// Gatekeeper parses its command line once, in main.go, with Go's flag
// package (flag.Parse on flag.CommandLine, ExitOnError). The flags are the
// ones registered on flag.CommandLine by the packages linked into the
// manager: Gatekeeper's own (main.go and the packages named in the table),
// github.com/golang/glog (glog_flags.go, glog_file.go: linked as an
// indirect dependency) and sigs.k8s.io/controller-runtime's
// pkg/client/config (--kubeconfig). klog's and controller-runtime's zap
// flags are registered on their own FlagSets and are not flags of the
// manager.
//
// The table was read from the sources of the versions below, as the Go
// module proxy serves them (`go mod download -json
// github.com/open-policy-agent/gatekeeper/v3@VERSION` gives the directory):
// every flag.Bool/String/Int/Int64/Uint/Uint64/Duration(Var) and flag.Var
// call in the non-test files of the packages main.go imports, directly or
// not. For v3.17.0 and v3.23.1 it equals what the manager binaries built
// from those sources (bin/gatekeeper-v3.17.0, bin/gatekeeper-v3.23.1)
// print for -h, which TestGatekeeperFlagsMatchBinaries checks when they
// are built. For v3.13.0 the glog and --kubeconfig flags are taken from
// v3.17.0: its vendor/modules.txt lists the same packages
// (github.com/golang/glog v1.1.1, controller-runtime pkg/client/config).
//
// The module proxy's v3.18.0 (commit 0a29c0f, tagged 2024-09-12) is not
// used: its flags are v3.17.0's, but it has neither the generate operation
// nor --default-wait-for-vapb-generation, both of which Gatekeeper's
// v3.18.x documentation (website/versioned_docs/version-v3.18.x in
// v3.23.1) describes, so it is not what v3.18 releases run.
var GatekeeperSources = [3]Version{{3, 13, 0}, {3, 17, 0}, {3, 23, 1}}

// flagType says how a flag's value is parsed, and so whether it is
// boolean (takes only -x or -x=v) and what values make Set fail.
type flagType uint8

const (
	ftNone flagType = iota
	// Go's flag package types: Set parses as the package does.
	ftBool
	ftString
	ftInt
	ftInt64
	ftUint
	ftUint64
	ftDuration
	// ftOperation is pkg/operations' opSet: comma-separated operations,
	// each of which must be known; repeated flags accumulate.
	ftOperation
	// ftMetricsBackend is pkg/metrics/registry's exporterSet:
	// comma-separated exporter names (any case); repeated flags accumulate.
	ftMetricsBackend
	// ftStringSet is pkg/util.FlagSet: any value; repeated flags accumulate.
	ftStringSet
	// ftStringVar is pkg/drivers/k8scel/schema's synchronizedStringFlag:
	// any value, the last one wins.
	ftStringVar
	// glog's flag.Value types (glog_flags.go).
	ftGlogLevel
	ftGlogVModule
	ftGlogTraceLocation
	ftGlogSeverity
)

// IsBool says whether the flag package treats the type as boolean: only
// Go's bool does (none of the flag.Value types above has IsBoolFlag).
func (t flagType) IsBool() bool { return t == ftBool }

// Repeatable says whether repeated flags accumulate instead of the last
// one winning.
func (t flagType) Repeatable() bool {
	return t == ftOperation || t == ftMetricsBackend || t == ftStringSet
}

func (t flagType) String() string {
	switch t {
	case ftBool:
		return "bool"
	case ftString, ftStringVar:
		return "string"
	case ftInt:
		return "int"
	case ftInt64:
		return "int64"
	case ftUint:
		return "uint"
	case ftUint64:
		return "uint64"
	case ftDuration:
		return "duration"
	case ftNone:
		return "none"
	}
	return "value"
}

// gatekeeperFlagRow is one flag: its type in each version of
// GatekeeperSources (ftNone: not defined) and the file that registers it
// (in Gatekeeper's module unless another module is named).
type gatekeeperFlagRow struct {
	Name   string
	Types  [3]flagType
	Source string
}

var GatekeeperFlagTable = []gatekeeperFlagRow{
	{"additional-mutating-webhook-configs-to-rotate-certs", [3]flagType{0, 0, ftString}, "pkg/webhook/common.go"},
	{"additional-validating-webhook-configs-to-rotate-certs", [3]flagType{0, 0, ftString}, "pkg/webhook/common.go"},
	{"admission-events-involved-namespace", [3]flagType{ftBool, ftBool, ftBool}, "pkg/webhook/common.go"},
	{"alsologtostderr", [3]flagType{ftBool, ftBool, ftBool}, "github.com/golang/glog glog_flags.go"},
	{"api-cache-dir", [3]flagType{ftString, ftString, ftString}, "pkg/audit/manager.go"},
	{"audit-channel", [3]flagType{ftString, ftString, ftString}, "pkg/audit/manager.go, v3.23.1: pkg/export/util/util.go"},
	{"audit-chunk-size", [3]flagType{ftUint64, ftUint64, ftInt}, "pkg/audit/manager.go"},
	{"audit-connection", [3]flagType{ftString, ftString, ftString}, "pkg/audit/manager.go, v3.23.1: pkg/export/util/util.go"},
	{"audit-events-involved-namespace", [3]flagType{ftBool, ftBool, ftBool}, "pkg/audit/manager.go"},
	{"audit-from-cache", [3]flagType{ftBool, ftBool, ftBool}, "pkg/audit/manager.go"},
	{"audit-interval", [3]flagType{ftUint, ftUint, ftInt64}, "pkg/audit/manager.go"},
	{"audit-match-kind-only", [3]flagType{ftBool, ftBool, ftBool}, "pkg/audit/manager.go"},
	{"cert-dir", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"cert-service-name", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"client-ca-name", [3]flagType{ftString, ftString, ftString}, "pkg/webhook/common.go"},
	{"client-cn-name", [3]flagType{ftString, ftString, ftString}, "pkg/webhook/common.go"},
	{"constraint-violations-limit", [3]flagType{ftUint, ftUint, ftInt}, "pkg/audit/manager.go"},
	{"debug-use-fake-pod", [3]flagType{ftBool, ftBool, ftBool}, "pkg/controller/controller.go"},
	{"default-create-vap-binding-for-constraints", [3]flagType{0, ftBool, ftBool}, "pkg/controller/constraint/constraint_controller.go"},
	{"default-create-vap-for-templates", [3]flagType{0, ftBool, ftBool}, "pkg/controller/constraint/constraint_controller.go"},
	{"default-k8s-native-validation-failure-policy", [3]flagType{0, 0, ftStringVar}, "pkg/drivers/k8scel/schema/schema.go"},
	{"default-wait-for-vapb-generation", [3]flagType{0, 0, ftInt}, "pkg/controller/constraint/constraint_controller.go"},
	{"disable-cert-rotation", [3]flagType{ftBool, ftBool, ftBool}, "main.go"},
	{"disable-enforcementaction-validation", [3]flagType{ftBool, ftBool, ftBool}, "pkg/webhook/common.go"},
	{"disable-opa-builtin", [3]flagType{ftStringSet, ftStringSet, ftStringSet}, "main.go"},
	{"emit-admission-events", [3]flagType{ftBool, ftBool, ftBool}, "pkg/webhook/common.go"},
	{"emit-audit-events", [3]flagType{ftBool, ftBool, ftBool}, "pkg/audit/manager.go"},
	{"enable-external-data", [3]flagType{ftBool, ftBool, ftBool}, "pkg/externaldata/externaldata.go"},
	{"enable-generator-resource-expansion", [3]flagType{ftBool, ftBool, ftBool}, "pkg/expansion/system.go"},
	{"enable-k8s-native-validation", [3]flagType{0, ftBool, ftBool}, "main.go"},
	{"enable-mutation", [3]flagType{ftBool, ftBool, ftBool}, "pkg/mutation/mutation.go"},
	{"enable-pprof", [3]flagType{ftBool, ftBool, ftBool}, "main.go"},
	{"enable-pub-sub", [3]flagType{ftBool, ftBool, 0}, "pkg/controller/pubsub/pubsub_config_controller.go"},
	{"enable-referential-rules", [3]flagType{0, 0, ftBool}, "main.go"},
	{"enable-remote-cluster", [3]flagType{0, 0, ftBool}, "pkg/controller/controller.go"},
	{"enable-tls-healthcheck", [3]flagType{ftBool, ftBool, ftBool}, "main.go"},
	{"enable-violation-export", [3]flagType{0, 0, ftBool}, "pkg/export/util/util.go"},
	{"exempt-namespace", [3]flagType{ftStringSet, ftStringSet, ftStringSet}, "pkg/webhook/namespacelabel.go"},
	{"exempt-namespace-prefix", [3]flagType{ftStringSet, ftStringSet, ftStringSet}, "pkg/webhook/namespacelabel.go"},
	{"exempt-namespace-suffix", [3]flagType{ftStringSet, ftStringSet, ftStringSet}, "pkg/webhook/namespacelabel.go"},
	{"experimental-enable-k8s-native-validation", [3]flagType{ftBool, 0, 0}, "main.go"},
	{"external-data-provider-response-cache-ttl", [3]flagType{ftDuration, ftDuration, ftDuration}, "main.go"},
	{"health-addr", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"host", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"kubeconfig", [3]flagType{ftString, ftString, ftString}, "sigs.k8s.io/controller-runtime pkg/client/config/config.go"},
	{"log-denies", [3]flagType{ftBool, ftBool, ftBool}, "pkg/webhook/common.go"},
	{"log-file", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"log-level", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"log-level-encoder", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"log-level-key", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"log-mutations", [3]flagType{ftBool, ftBool, ftBool}, "pkg/mutation/mutation.go"},
	{"log-stats-admission", [3]flagType{ftBool, ftBool, ftBool}, "pkg/webhook/common.go"},
	{"log-stats-audit", [3]flagType{ftBool, ftBool, ftBool}, "pkg/audit/manager.go"},
	{"log_backtrace_at", [3]flagType{ftGlogTraceLocation, ftGlogTraceLocation, ftGlogTraceLocation}, "github.com/golang/glog glog_flags.go"},
	{"log_dir", [3]flagType{ftString, ftString, ftString}, "github.com/golang/glog glog_file.go"},
	{"log_link", [3]flagType{ftString, ftString, ftString}, "github.com/golang/glog glog_file.go"},
	{"logbuflevel", [3]flagType{ftInt, ftInt, ftInt}, "github.com/golang/glog glog_file.go"},
	{"logtostderr", [3]flagType{ftBool, ftBool, ftBool}, "github.com/golang/glog glog_flags.go"},
	{"max-serving-threads", [3]flagType{ftInt, ftInt, ftInt}, "pkg/webhook/policy.go"},
	{"metrics-addr", [3]flagType{ftString, ftString, ftString}, "main.go"},
	{"metrics-backend", [3]flagType{ftMetricsBackend, ftMetricsBackend, ftMetricsBackend}, "pkg/metrics/registry/registry.go"},
	{"mutating-webhook-configuration-name", [3]flagType{ftString, ftString, ftString}, "pkg/webhook/common.go"},
	{"mutation-annotations", [3]flagType{ftBool, ftBool, ftBool}, "pkg/mutation/mutation.go"},
	{"operation", [3]flagType{ftOperation, ftOperation, ftOperation}, "pkg/operations/operations.go"},
	{"otlp-endpoint", [3]flagType{0, ftString, ftString}, "pkg/metrics/exporters/opentelemetry/opentelemetry.go"},
	{"otlp-metric-interval", [3]flagType{0, ftDuration, ftDuration}, "pkg/metrics/exporters/opentelemetry/opentelemetry.go"},
	{"port", [3]flagType{ftInt, ftInt, ftInt}, "main.go"},
	{"pprof-port", [3]flagType{ftInt, ftInt, ftInt}, "main.go"},
	{"prometheus-port", [3]flagType{ftInt, ftInt, ftInt}, "pkg/metrics/exporters/prometheus/prometheus_exporter.go"},
	{"readiness-retries", [3]flagType{ftInt, ftInt, ftInt}, "pkg/readiness/object_tracker.go"},
	{"shutdown-delay", [3]flagType{0, 0, ftInt}, "main.go"},
	{"stackdriver-metric-interval", [3]flagType{0, ftDuration, ftDuration}, "pkg/metrics/exporters/stackdriver/stackdriver.go"},
	{"stackdriver-only-when-available", [3]flagType{ftBool, ftBool, ftBool}, "pkg/metrics/exporters/stackdriver/stackdriver.go"},
	{"stderrthreshold", [3]flagType{ftGlogSeverity, ftGlogSeverity, ftGlogSeverity}, "github.com/golang/glog glog_flags.go"},
	{"sync-vap-enforcement-scope", [3]flagType{0, 0, ftBool}, "pkg/drivers/k8scel/transform/make_vap_objects.go"},
	{"tls-min-version", [3]flagType{ftString, ftString, ftString}, "pkg/webhook/common.go"},
	{"v", [3]flagType{ftGlogLevel, ftGlogLevel, ftGlogLevel}, "github.com/golang/glog glog_flags.go"},
	{"validating-webhook-configuration-name", [3]flagType{ftString, ftString, ftString}, "pkg/webhook/common.go"},
	{"vmodule", [3]flagType{ftGlogVModule, ftGlogVModule, ftGlogVModule}, "github.com/golang/glog glog_flags.go"},
}

// gatekeeperOperations are the values --operation accepts
// (pkg/operations/operations.go, allOperations), with the first version
// that has each. generate is in v3.23.1's sources and not in v3.17.0's;
// Gatekeeper's documentation of operations describes it from v3.18.x
// (website/versioned_docs/version-v3.18.x/operations.md: "This operation
// enables CRD and VAP/VAPB generation").
var gatekeeperOperations = map[string]Version{
	"audit":               {3, 0, 0},
	"mutation-controller": {3, 0, 0},
	"mutation-status":     {3, 0, 0},
	"mutation-webhook":    {3, 0, 0},
	"status":              {3, 0, 0},
	"webhook":             {3, 0, 0},
	OperationGenerate:     {3, 18, 0},
}

// OperationGenerate is the operation that creates the constraint CRDs from
// ConstraintTemplates (v3.18 and later).
const OperationGenerate = "generate"

// gatekeeperExporters are the values --metrics-backend accepts
// (pkg/metrics/registry/registry.go, registered from
// pkg/metrics/exporters/*: the Name constants), per version of
// GatekeeperSources.
var gatekeeperExporters = map[string][3]bool{
	"opencensus":    {true, false, false},
	"opentelemetry": {false, true, true},
	"prometheus":    {true, true, true},
	"stackdriver":   {true, true, true},
}

// defStatus says whether a Gatekeeper version defines a flag.
type defStatus uint8

const (
	// undefined: the version does not define the flag (or, for versions
	// outside GatekeeperSources and unknown versions, no version does).
	undefined defStatus = iota
	// defined: the version defines the flag.
	defined
	// maybeDefined: the version is between two sources of which one
	// defines the flag, or beyond them; it is parsed as defined.
	maybeDefined
)

// FlagDefs are the flags of one Gatekeeper version.
type FlagDefs struct {
	// Version is the Gatekeeper version (nil: unknown, every source counts).
	Version *Version
	// Exact: Version is one of GatekeeperSources.
	Exact bool
	defs  map[string]flagDef
	ops   map[string]defStatus
	exps  map[string]defStatus
}

type flagDef struct {
	status defStatus
	// types are the types the flag may have (one unless the sources
	// around the version differ); the first is used for messages.
	types []flagType
}

// Sources names the Gatekeeper versions the flag facts come from.
func (d *FlagDefs) Sources() string {
	return fmt.Sprintf("%s, %s and %s", GatekeeperSources[0], GatekeeperSources[1], GatekeeperSources[2])
}

// lookup returns the flag's definition; ok is false when the version does
// not define it.
func (d *FlagDefs) lookup(name string) (flagDef, bool) {
	def, ok := d.defs[name]
	if !ok || def.status == undefined {
		return flagDef{}, false
	}
	return def, true
}

// IsBool says whether the flag is boolean in this version.
func (d *FlagDefs) IsBool(name string) bool {
	def, ok := d.lookup(name)
	return ok && def.types[0].IsBool()
}

// Knows says whether any source version defines the flag.
func (d *FlagDefs) Knows(name string) bool {
	_, ok := d.defs[name]
	return ok
}

// flagDefsCache holds the FlagDefs by version ({-1,-1,-1}: unknown); the
// loader's workers ask for them concurrently (Relevant).
var flagDefsCache sync.Map

// GatekeeperFlags returns the flags of Gatekeeper version v (nil: unknown).
// The sources are the versions in GatekeeperSources: for a version between
// two of them, a flag both define is defined, one neither defines is not,
// and one only one of them defines may be; for a version before the first
// or after the last, the nearest source's flags are defined and the other
// flags of the sources may be; for an unknown version every flag of a
// source may be. Flags no source defines are never defined. Operations and
// exporters follow the same rules.
func GatekeeperFlags(v *Version) *FlagDefs {
	key := Version{-1, -1, -1}
	if v != nil {
		key = *v
	}
	if d, ok := flagDefsCache.Load(key); ok {
		return d.(*FlagDefs)
	}
	d := &FlagDefs{Version: v, defs: map[string]flagDef{}, ops: map[string]defStatus{}, exps: map[string]defStatus{}}
	lo, hi := -1, -1 // indexes of the neighbouring sources
	if v != nil {
		for i, s := range GatekeeperSources {
			switch c := CompareVersions(s, *v); {
			case c == 0:
				lo, hi, d.Exact = i, i, true
			case c < 0:
				lo = i
			case c > 0 && hi < 0 && !d.Exact:
				hi = i
			}
		}
	}
	status := func(in [3]bool) defStatus {
		any := in[0] || in[1] || in[2]
		switch {
		case !any:
			return undefined
		case lo >= 0 && hi >= 0:
			switch {
			case in[lo] && in[hi]:
				return defined
			case in[lo] || in[hi]:
				return maybeDefined
			}
			return undefined
		case lo >= 0 && in[lo], hi >= 0 && in[hi]:
			return defined
		}
		return maybeDefined
	}
	for _, row := range GatekeeperFlagTable {
		var in [3]bool
		var types []flagType
		for i, t := range row.Types {
			in[i] = t != ftNone
		}
		// The neighbours' types; any source's when no neighbour has one.
		var order []int
		for _, i := range []int{hi, lo} {
			if i >= 0 {
				order = append(order, i)
			}
		}
		neighbours := len(order)
		order = append(order, 2, 1, 0)
		for k, i := range order {
			t := row.Types[i]
			if t == ftNone || slices.Contains(types, t) || k >= neighbours && len(types) > 0 && neighbours > 0 {
				continue
			}
			types = append(types, t)
		}
		d.defs[row.Name] = flagDef{status: status(in), types: types}
	}
	for op, since := range gatekeeperOperations {
		var in [3]bool
		for i, s := range GatekeeperSources {
			in[i] = CompareVersions(s, since) >= 0
		}
		st := status(in)
		if v != nil && !d.Exact && CompareVersions(*v, since) >= 0 && st != undefined {
			st = defined // documented from since on
		}
		if v != nil && CompareVersions(*v, since) < 0 {
			st = undefined
		}
		d.ops[op] = st
	}
	for name, in := range gatekeeperExporters {
		d.exps[name] = status(in)
	}
	actual, _ := flagDefsCache.LoadOrStore(key, d)
	return actual.(*FlagDefs)
}

func CompareVersions(a, b Version) int {
	switch {
	case a.Major != b.Major:
		return a.Major - b.Major
	case a.Minor != b.Minor:
		return a.Minor - b.Minor
	}
	return a.Patch - b.Patch
}

// The errors of Go's flag package's own Value types (flag.go: errParse,
// errRange, numError).
var (
	errFlagParse = errors.New("parse error")
	errFlagRange = errors.New("value out of range")
)

func numError(err error) error {
	var ne *strconv.NumError
	if !errors.As(err, &ne) {
		return err
	}
	switch {
	case errors.Is(ne.Err, strconv.ErrSyntax):
		return errFlagParse
	case errors.Is(ne.Err, strconv.ErrRange):
		return errFlagRange
	}
	return err
}

// set checks a value as the flag's Value.Set does in this version; with
// several possible types, a value any of them takes is taken.
func (d *FlagDefs) set(def flagDef, value string) error {
	var first error
	for _, t := range def.types {
		err := d.setType(t, value)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (d *FlagDefs) setType(t flagType, s string) error {
	switch t {
	case ftBool:
		if _, err := strconv.ParseBool(s); err != nil {
			return errFlagParse
		}
	case ftInt:
		_, err := strconv.ParseInt(s, 0, strconv.IntSize)
		return numError(err)
	case ftInt64:
		_, err := strconv.ParseInt(s, 0, 64)
		return numError(err)
	case ftUint:
		_, err := strconv.ParseUint(s, 0, strconv.IntSize)
		return numError(err)
	case ftUint64:
		_, err := strconv.ParseUint(s, 0, 64)
		return numError(err)
	case ftDuration:
		if _, err := time.ParseDuration(s); err != nil {
			return errFlagParse
		}
	case ftOperation:
		// opSet.Set: strings.Split(s, ","), every part a valid operation.
		for _, op := range strings.Split(s, ",") {
			if d.ops[op] == undefined {
				return fmt.Errorf("operation %s is not a valid operation: %v", op, d.validOps())
			}
		}
	case ftMetricsBackend:
		// exporterSet.Set: strings.Split(s, ","), each lower-cased.
		for _, e := range strings.Split(s, ",") {
			if d.exps[strings.ToLower(e)] == undefined {
				return fmt.Errorf("exporter %s is not a valid exporter: %v", e, d.validExporters())
			}
		}
	case ftGlogLevel:
		_, err := strconv.Atoi(s)
		return err
	case ftGlogVModule:
		for _, pat := range strings.Split(s, ",") {
			if pat == "" {
				continue
			}
			pl := strings.Split(pat, "=")
			if len(pl) != 2 || pl[0] == "" || pl[1] == "" {
				return errVmoduleSyntax
			}
			if _, err := strconv.Atoi(pl[1]); err != nil {
				return errVmoduleSyntax
			}
		}
	case ftGlogTraceLocation:
		for _, loc := range strings.Split(s, ",") {
			if loc == "" {
				continue
			}
			fields := strings.Split(loc, ":")
			if len(fields) != 2 || !strings.Contains(fields[0], ".") {
				return errTraceSyntax
			}
			line, err := strconv.Atoi(fields[1])
			if err != nil {
				return errTraceSyntax
			}
			if line < 0 {
				return errors.New("negative value for line")
			}
		}
	case ftGlogSeverity:
		up := strings.ToUpper(s)
		for _, name := range []string{"INFO", "WARNING", "ERROR", "FATAL"} {
			if up == name {
				return nil
			}
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		// severityFlag.Set: logsink.Severity(v) is an int8.
		if sev := int8(v); sev < 0 || sev > 3 { //nolint:gosec // G115: the overflow is Gatekeeper's own (logsink.Severity is an int8), reproduced
			return fmt.Errorf("Severity %d out of range (min %d, max %d).", v, 0, 3) //nolint:staticcheck // ST1005: klog's own message, word for word
		}
	}
	return nil
}

// glog's syntax errors (glog_flags.go).
var (
	errVmoduleSyntax = errors.New("syntax error: expect comma-separated list of filename=N")
	errTraceSyntax   = errors.New("syntax error: expect file.go:234")
)

// validOps is opSet's validOperations as its error message prints it.
func (d *FlagDefs) validOps() string {
	var ops []string
	for op, st := range d.ops {
		if st != undefined {
			ops = append(ops, op+":true")
		}
	}
	sort.Strings(ops)
	return "map[" + strings.Join(ops, " ") + "]"
}

func (d *FlagDefs) validExporters() string {
	var names []string
	for n, st := range d.exps {
		if st != undefined {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return "[" + strings.Join(names, " ") + "]"
}

// OperationValid says whether the version accepts an --operation value.
func (d *FlagDefs) OperationValid(op string) bool { return d.ops[op] != undefined }
