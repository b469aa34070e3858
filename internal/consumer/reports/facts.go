package reports

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// DefaultSeverityKey is the constraint label (else annotation) a result's
// severity is read from by default: a key of this project, so that no
// other tool's meaning is borrowed.
const DefaultSeverityKey = "gatekeeper-pubsub.io/severity"

// ConstraintsGroup is Gatekeeper's group of constraint kinds, assumed for a
// stored constraint without a group.
const ConstraintsGroup = "constraints.gatekeeper.sh"

// Severities are the values a result's severity may take, as OpenReports
// defines them.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// ValidSeverity reports whether s is one of Severities.
func ValidSeverity(s string) bool {
	for _, v := range Severities {
		if s == v {
			return true
		}
	}
	return false
}

// Facts are what the API server says, at one sync, of the violations'
// constraints and resources. The zero value uses Options.Severity and no
// subject UID.
type Facts struct {
	// Severity of a constraint, from its label (else annotation)
	// Options.SeverityKey; absent: Options.Severity.
	Severity map[store.Constraint]string
	// UID of a resource that exists and may be read.
	UID map[store.Resource]types.UID
}

// UIDStats counts a sync's look-ups of the resources' UIDs.
type UIDStats struct {
	// Found resources have a UID in their results; the others have none:
	// Gone (not found), Forbidden (the consumer may not read them),
	// UnknownKind (the API server serves no such kind), Failed (another
	// error).
	Found, Gone, Forbidden, UnknownKind, Failed int
	// Gets and Lists (pages) are the requests made.
	Gets, Lists int
}

// Missing is the number of resources without a UID.
func (s UIDStats) Missing() int { return s.Gone + s.Forbidden + s.UnknownKind + s.Failed }

func (s UIDStats) String() string {
	return fmt.Sprintf("%d found, %d gone, %d forbidden, %d of unknown kinds, %d failed (%d gets, %d list pages)",
		s.Found, s.Gone, s.Forbidden, s.UnknownKind, s.Failed, s.Gets, s.Lists)
}

// Mapper maps kinds to resources through discovery, and forgets what it
// discovered on Reset (meta.ResettableRESTMapper, for example
// restmapper.NewDeferredDiscoveryRESTMapper).
type Mapper interface {
	RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error)
	Reset()
}

// maxGetsPerGroup: the resources of one kind in one namespace are read
// with one GET each up to this many, with a paged List beyond.
const maxGetsPerGroup = 4

// listPage is the page size of a List.
const listPage = 500

// lookup reads the facts of one sync: metadata only, each distinct object
// at most once, a kind's mapping once (discovery is read again at most
// once per sync, for a kind it does not know).
type lookup struct {
	meta     metadata.Interface
	mapper   Mapper
	log      *slog.Logger
	reset    bool
	mappings map[schema.GroupVersionKind]mappingResult
}

type mappingResult struct {
	m   *meta.RESTMapping
	err error
}

func newLookup(md metadata.Interface, mapper Mapper, log *slog.Logger) *lookup {
	return &lookup{meta: md, mapper: mapper, log: log, mappings: map[schema.GroupVersionKind]mappingResult{}}
}

func (l *lookup) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	if r, ok := l.mappings[gvk]; ok {
		return r.m, r.err
	}
	var versions []string
	if gvk.Version != "" {
		versions = []string{gvk.Version}
	}
	m, err := l.mapper.RESTMapping(gvk.GroupKind(), versions...)
	if meta.IsNoMatchError(err) && !l.reset {
		// A kind made since discovery was read (a new ConstraintTemplate,
		// a new CRD): read it again, once per sync.
		l.reset = true
		l.mapper.Reset()
		m, err = l.mapper.RESTMapping(gvk.GroupKind(), versions...)
	}
	l.mappings[gvk] = mappingResult{m, err}
	return m, err
}

// severity is one constraint's severity value under the key: its label,
// else its annotation; ok is false when it has neither.
func severityOf(o metav1.PartialObjectMetadata, key string) (value string, from string, ok bool) {
	if v, ok := o.Labels[key]; ok {
		return v, "label", true
	}
	if v, ok := o.Annotations[key]; ok {
		return v, "annotation", true
	}
	return "", "", false
}

// invalidSeverity is a constraint whose severity value is not one of
// Severities.
type invalidSeverity struct {
	Constraint store.Constraint
	From       string // label or annotation
	Value      string
}

// severities reads the severity of every constraint of vs: one List (of
// metadata, paged) per constraint kind. A kind or constraint that no
// longer exists has none (its violations go at the next run); a value not
// in Severities is returned in invalid and not used.
func (l *lookup) severities(ctx context.Context, vs []store.Violation, key string) (map[store.Constraint]string, []invalidSeverity, error) {
	byKind := map[schema.GroupKind]map[string]store.Constraint{}
	for _, v := range vs {
		c := v.Constraint
		group := c.Group
		if group == "" {
			group = ConstraintsGroup
		}
		gk := schema.GroupKind{Group: group, Kind: c.Kind}
		if byKind[gk] == nil {
			byKind[gk] = map[string]store.Constraint{}
		}
		byKind[gk][c.Name] = c
	}
	kinds := make([]schema.GroupKind, 0, len(byKind))
	for gk := range byKind {
		kinds = append(kinds, gk)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	out := map[store.Constraint]string{}
	var invalid []invalidSeverity
	for _, gk := range kinds {
		m, err := l.mapping(gk.WithVersion(""))
		if meta.IsNoMatchError(err) {
			continue // the ConstraintTemplate was deleted
		}
		if err != nil {
			return nil, nil, fmt.Errorf("finding the resource of constraint kind %s: %w", gk, err)
		}
		names := byKind[gk]
		opts := metav1.ListOptions{Limit: listPage}
		for {
			page, err := l.meta.Resource(m.Resource).List(ctx, opts)
			if apierrors.IsNotFound(err) {
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("listing %s constraints to read their %s label: %w (the consumer needs list on %s; --report-severity-key=\"\" reads none)",
					gk.Kind, key, err, m.Resource.GroupResource())
			}
			for _, o := range page.Items {
				c, ok := names[o.Name]
				if !ok {
					continue
				}
				value, from, ok := severityOf(o, key)
				if !ok {
					continue
				}
				if !ValidSeverity(value) {
					invalid = append(invalid, invalidSeverity{Constraint: c, From: from, Value: value})
					continue
				}
				out[c] = value
			}
			if page.Continue == "" {
				break
			}
			opts.Continue = page.Continue
		}
	}
	return out, invalid, nil
}

// groupKey is one kind in one namespace, as stored.
type groupKey struct {
	group, version, kind, namespace string
}

// uids reads the UID of every resource of vs: one GET per distinct
// resource, or one paged List per kind and namespace with more than
// maxGetsPerGroup of them. A resource it cannot read has no UID; the
// reasons are counted and logged at debug, never an error.
func (l *lookup) uids(ctx context.Context, vs []store.Violation) (map[store.Resource]types.UID, UIDStats) {
	var st UIDStats
	groups := map[groupKey]map[string]store.Resource{}
	for _, v := range vs {
		r := v.Resource
		k := groupKey{r.Group, r.Version, r.Kind, r.Namespace}
		if groups[k] == nil {
			groups[k] = map[string]store.Resource{}
		}
		groups[k][r.Name] = r
	}
	keys := make([]groupKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return strings.Join([]string{a.group, a.version, a.kind, a.namespace}, "\x00") < strings.Join([]string{b.group, b.version, b.kind, b.namespace}, "\x00")
	})
	out := map[store.Resource]types.UID{}
	for _, k := range keys {
		members := groups[k]
		names := make([]string, 0, len(members))
		for n := range members {
			names = append(names, n)
		}
		sort.Strings(names)
		miss := func(reason string, err error, names ...string) {
			switch reason {
			case "gone":
				st.Gone += len(names)
			case "forbidden":
				st.Forbidden += len(names)
			case "unknown kind":
				st.UnknownKind += len(names)
			default:
				st.Failed += len(names)
			}
			for _, n := range names {
				l.log.Debug("no UID for an OpenReports subject", "kind", k.kind, "group", k.group, "namespace", k.namespace, "name", n, "reason", reason, "error", err)
			}
		}
		gvk := schema.GroupVersionKind{Group: k.group, Version: k.version, Kind: k.kind}
		if gv, err := schema.ParseGroupVersion(k.version); err == nil && gv.Group != "" {
			gvk.Group, gvk.Version = gv.Group, gv.Version // an apiVersion in the version field
		}
		m, err := l.mapping(gvk)
		if meta.IsNoMatchError(err) && gvk.Version != "" {
			// A version no longer served: the object, and its UID, is the
			// same in the versions that are.
			m, err = l.mapping(schema.GroupVersionKind{Group: gvk.Group, Kind: gvk.Kind})
		}
		if meta.IsNoMatchError(err) {
			miss("unknown kind", err, names...)
			continue
		}
		if err != nil {
			miss("failed", err, names...)
			continue
		}
		ns := k.namespace
		if m.Scope.Name() != meta.RESTScopeNameNamespace {
			ns = ""
		} else if ns == "" {
			miss("failed", fmt.Errorf("%s is namespaced and the violation names no namespace", k.kind), names...)
			continue
		}
		client := l.meta.Resource(m.Resource).Namespace(ns)
		if len(names) <= maxGetsPerGroup {
			for _, n := range names {
				st.Gets++
				o, err := client.Get(ctx, n, metav1.GetOptions{})
				if err != nil {
					miss(reasonOf(err), err, n)
					continue
				}
				out[members[n]] = o.UID
				st.Found++
			}
			continue
		}
		left := len(names)
		opts := metav1.ListOptions{Limit: listPage}
		var listErr error
		for left > 0 {
			st.Lists++
			page, err := client.List(ctx, opts)
			if err != nil {
				listErr = err
				break
			}
			for _, o := range page.Items {
				if r, ok := members[o.Name]; ok {
					if _, done := out[r]; !done {
						out[r] = o.UID
						st.Found++
						left--
					}
				}
			}
			if page.Continue == "" {
				break
			}
			opts.Continue = page.Continue
		}
		var rest []string
		for _, n := range names {
			if _, ok := out[members[n]]; !ok {
				rest = append(rest, n)
			}
		}
		switch {
		case listErr != nil:
			miss(reasonOf(listErr), listErr, rest...)
		case len(rest) > 0:
			miss("gone", nil, rest...)
		}
	}
	return out, st
}

func reasonOf(err error) string {
	switch {
	case apierrors.IsNotFound(err):
		return "gone"
	case apierrors.IsForbidden(err):
		return "forbidden"
	}
	return "failed"
}
