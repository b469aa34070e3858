package lint

import (
	"context"
	"errors"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/input"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// The names of package input that Options, Run and Result use.
const (
	// StdinPath is the PATH that reads objects from standard input.
	StdinPath = input.StdinPath
	// StdinSource is the Source (and a finding's File) of objects read
	// from standard input.
	StdinSource = input.StdinSource
	// DefaultMaxInputBytes is Options.MaxInputBytes' default.
	DefaultMaxInputBytes = input.DefaultMaxInputBytes
	// LiveRBAC, LiveNamespacedRBAC and LiveSecretRBAC are what live mode
	// needs (input.LiveRBAC).
	LiveRBAC           = input.LiveRBAC
	LiveNamespacedRBAC = input.LiveNamespacedRBAC
	LiveSecretRBAC     = input.LiveSecretRBAC
)

// Live selects a cluster whose deployed setup is linted.
type Live = input.Live

// InputError is one input that could not be loaded (Result.Errors).
type InputError = input.Error

// Errors that Run returns or that Result.Errors wrap.
var (
	ErrInputTooLarge = input.ErrInputTooLarge
	ErrNotRegular    = input.ErrNotRegular
	ErrNoChart       = input.ErrNoChart
)

// input is what opts say to read, through sink.
func (o Options) input(sink input.Sink) input.Options {
	return input.Options{
		Paths: o.Paths, Exclude: o.Exclude, Stdin: o.Stdin,
		ValueFiles: o.ValueFiles, Set: o.Set, SetString: o.SetString, SetFile: o.SetFile,
		KubeVersion: o.KubeVersion, Namespace: o.Namespace, MaxInputBytes: o.MaxInputBytes,
		Live: o.Live, Workers: o.Workers, Sink: sink,
	}
}

// Load reads every PATH of opts into objects (input.Load without a Sink),
// in the order of the paths, without linting them. An input that cannot be
// loaded does not stop the others: the objects of all the others are
// returned, with the input errors joined (each an *InputError naming its
// path).
func Load(ctx context.Context, opts Options) ([]render.Object, int, error) {
	o := opts.input(nil)
	o.Live = nil
	in, err := input.Load(ctx, o)
	if err != nil {
		return nil, 0, err
	}
	return in.Objects, in.Files, errors.Join(in.Errs...)
}

// sink turns objects into Setup entries as they are read, so memory holds
// only what the rules need: it classifies each object (model.Classify),
// drops the irrelevant ones, runs the per-object rules (Rule.CheckObject)
// while the object's tree is there, then releases the trees of Components,
// whose model holds what the other rules read.
func sink(opts Options) input.Sink {
	namespace := opts.Namespace
	if namespace == "" {
		namespace = model.DefaultOptions().Namespace
	}
	var objRules []*rules.Rule
	for _, r := range rules.All() {
		if r.CheckObject != nil && opts.Config.severity(r) != rules.None {
			objRules = append(objRules, r)
		}
	}
	return func(o render.Object) (model.Entry, []rules.Finding, error) {
		e := model.Classify(o, namespace)
		if e.Class == model.Irrelevant {
			return e, nil, nil
		}
		var found []rules.Finding
		for _, r := range objRules {
			fs, err := runObjectRule(r, e)
			if err != nil {
				return e, nil, err
			}
			found = append(found, fs...)
		}
		if e.Class == model.ClassComponent {
			e.Obj.Release()
		}
		return e, found, nil
	}
}
