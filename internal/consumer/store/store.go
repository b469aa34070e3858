// Package store keeps what the violations consumer knows: the violations it
// received with their state and timeline, and the audit runs they arrived
// in. One implementation on database/sql serves two dialects: SQLite
// (embedded, the default) and PostgreSQL (several replicas, several
// clusters). Every statement is parameterised.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// State of a violation.
const (
	StateOpen     = "open"
	StateResolved = "resolved"
)

// Reasons a violation was resolved.
const (
	ReasonAbsent            = "absent"
	ReasonConstraintDeleted = "constraint-deleted"
)

// Run states.
const (
	RunPending    = "pending"    // messages arriving, not judged yet
	RunFinalized  = "finalized"  // complete: its effect on violations is applied
	RunHeld       = "held"       // complete, but it would resolve too many: waits for the next run to agree
	RunIncomplete = "incomplete" // never complete (why in Reason); resolves nothing
)

// Event kinds of a violation's timeline.
const (
	EventOpened   = "opened"
	EventResolved = "resolved"
	EventReopened = "reopened"
)

// ErrNotFound is returned for a violation or run that is not stored.
var ErrNotFound = errors.New("not found")

// Constraint names a constraint.
type Constraint struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
}

// Resource names the object in violation.
type Resource struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// Violation is one violation as the consumer keeps it.
type Violation struct {
	Key               string            `json:"key"`
	Cluster           string            `json:"cluster"`
	Constraint        Constraint        `json:"constraint"`
	Resource          Resource          `json:"resource"`
	Message           string            `json:"message"`
	EnforcementAction string            `json:"enforcementAction,omitempty"`
	Labels            map[string]string `json:"resourceLabels,omitempty"`
	State             string            `json:"state"`
	FirstSeen         time.Time         `json:"firstSeen"`
	LastSeen          time.Time         `json:"lastSeen"`
	ResolvedAt        *time.Time        `json:"resolvedAt,omitempty"`
	Reason            string            `json:"reason,omitempty"`
	RunCount          int               `json:"runCount"`
	// ID orders violations for paging.
	ID int64 `json:"-"`
}

// Event is one change of a violation's state.
type Event struct {
	At     time.Time `json:"at"`
	Run    time.Time `json:"run,omitzero"`
	Kind   string    `json:"kind"`
	Reason string    `json:"reason,omitempty"`
}

// ConstraintCount is what one run showed of one constraint.
type ConstraintCount struct {
	Constraint
	// Received is the number of distinct violations received.
	Received int `json:"received"`
	// Expected is the constraint's status.totalViolations for this run,
	// -1 when not known.
	Expected int `json:"expected"`
}

// Run is one audit run of one cluster.
type Run struct {
	Cluster string    `json:"cluster"`
	ID      time.Time `json:"id"`
	// Started and Completed: the run's markers arrived (Gatekeeper v3.20+).
	Started     bool       `json:"startedMarker"`
	CompletedAt *time.Time `json:"completedMarkerAt,omitempty"`
	// StatusAt is when the constraints' status was seen to agree with it.
	StatusAt     *time.Time        `json:"statusAt,omitempty"`
	State        string            `json:"state"`
	Reason       string            `json:"reason,omitempty"`
	Received     int               `json:"received"`
	New          int               `json:"new"`
	StillOpen    int               `json:"stillOpen"`
	Resolved     int               `json:"resolved"`
	WouldResolve int               `json:"wouldResolve,omitempty"`
	FinalizedAt  *time.Time        `json:"finalizedAt,omitempty"`
	Constraints  []ConstraintCount `json:"constraints,omitempty"`
}

// MessageKind says what a received message is.
type MessageKind int

// Kinds of received messages.
const (
	KindViolation MessageKind = iota
	KindStarted
	KindCompleted
)

// Message is one received message, decoded.
type Message struct {
	Kind      MessageKind
	Run       time.Time
	Violation violation.Violation
}

// RecordResult tells what a batch changed.
type RecordResult struct {
	// Opened and Reopened violations; Ignored messages of runs already
	// judged (redeliveries); Duplicates already recorded for their run.
	Opened, Reopened, Ignored, Duplicates int
}

// FinalizeOptions steer how a complete run changes violations.
type FinalizeOptions struct {
	// ResolveAfter is how many consecutive complete runs a violation must
	// be absent from before it is resolved (at the first of them).
	ResolveAfter int
	// MaxResolveShare holds a run that would resolve more than this share
	// of the open violations (0 < share <= 1; 1 never holds).
	MaxResolveShare float64
	// Now is the finalisation time.
	Now time.Time
}

// Filter selects violations.
type Filter struct {
	Cluster           string
	State             string // open, resolved, or "" for all
	Namespace         string
	ConstraintKind    string
	ConstraintName    string
	ResourceKind      string
	EnforcementAction string
	// Search, when set, keeps the violations whose message, resource name,
	// resource namespace or constraint name contains it, ignoring case
	// (SQLite folds ASCII letters only). % and _ match themselves.
	Search string
	// After is the cursor: only violations ordered after it.
	After int64
	// Limit is the page size (1..1000).
	Limit int
}

// OpenCount is the number of open violations per label set of the
// gatekeeper_violations_open metric.
type OpenCount struct {
	Cluster, ConstraintKind, ConstraintName, Namespace, EnforcementAction string
	Count                                                                 int
}

// StatusObservation is what the constraints' status says of one run.
type StatusObservation struct {
	Run         time.Time
	Constraints map[Constraint]int // totalViolations per constraint
}

// Store is what the consumer keeps.
type Store interface {
	// Record commits a batch of received messages in one transaction.
	Record(ctx context.Context, cluster string, batch []Message) (RecordResult, error)
	// ObserveStatus records the constraints' status of a run, creating the
	// run if no message of it arrived (a run with no violations).
	ObserveStatus(ctx context.Context, cluster string, obs StatusObservation, at time.Time) error
	// PendingRuns lists the runs not judged yet, oldest first.
	PendingRuns(ctx context.Context, cluster string) ([]Run, error)
	// Finalize applies a complete run: violations received are still open,
	// those absent long enough are resolved. Runs older than it that are
	// still pending become incomplete. Only one caller finalises a cluster
	// at a time (a lock in the database).
	Finalize(ctx context.Context, cluster string, run time.Time, opts FinalizeOptions) (Run, error)
	// MarkIncomplete judges a run incomplete.
	MarkIncomplete(ctx context.Context, cluster string, run time.Time, reason string) error
	// ResolveConstraint resolves the open violations of a constraint that
	// no longer exists.
	ResolveConstraint(ctx context.Context, cluster string, c Constraint, at time.Time) (int, error)
	// OpenConstraints lists the constraints with open violations.
	OpenConstraints(ctx context.Context, cluster string) ([]Constraint, error)
	// Violations lists violations in a stable order (by ID), a page at a
	// time.
	Violations(ctx context.Context, f Filter) ([]Violation, error)
	// Violation returns one violation with its timeline.
	Violation(ctx context.Context, key string) (Violation, []Event, error)
	// Runs lists the newest runs first.
	Runs(ctx context.Context, cluster string, limit int) ([]Run, error)
	// OpenCounts groups the open violations for the metrics.
	OpenCounts(ctx context.Context) ([]OpenCount, error)
	// LastComplete returns the time of the newest finalized run per cluster.
	LastComplete(ctx context.Context) (map[string]time.Time, error)
	// Prune deletes resolved violations resolved before t, with their
	// events, runs older than t and alerts sent before t.
	Prune(ctx context.Context, t time.Time) (int, error)
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	Close() error
	Alerts
}

// Key is a violation's identity: cluster, constraint, resource and message,
// hashed (hex, 32 characters).
func Key(cluster string, v violation.Violation) string {
	h := sha256.New()
	for _, s := range []string{cluster, v.Group, v.Kind, v.Name, v.ResourceGroup, v.ResourceAPIVersion,
		v.ResourceKind, v.ResourceNamespace, v.ResourceName, v.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ValidKey reports whether s has the shape of a key.
func ValidKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
