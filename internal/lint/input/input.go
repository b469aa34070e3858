// Package input reads what pubsub-lint lints: files, directories, Helm
// charts and kustomizations (rendered in-process through internal/render),
// standard input (spooled so that positions can be found again) and a live
// cluster (read-only). It knows nothing of rules: the engine (package lint)
// passes a Sink that classifies each object as it is read.
package input

import "io"

// Options say what to read, named as the CLI's flags.
type Options struct {
	// Paths are files, directories, charts, kustomizations or StdinPath.
	Paths []string
	// Exclude are globs of paths not to read (--exclude; see CheckExclude):
	// files, or directories, charts and kustomizations whole.
	Exclude []string
	// Stdin is read for StdinPath (default os.Stdin).
	Stdin io.Reader
	// ValueFiles, Set, SetString and SetFile are Helm's -f/--values,
	// --set, --set-string and --set-file for charts. Load fails with
	// ErrNoChart when one is given and no chart is among the inputs.
	ValueFiles, Set, SetString, SetFile []string
	// KubeVersion is Helm's --kube-version for charts (empty:
	// render.DefaultKubeVersion).
	KubeVersion string
	// Namespace is the Helm release namespace.
	Namespace string
	// MaxInputBytes is the most read of one file or of standard input
	// (0: DefaultMaxInputBytes). More is an input error.
	MaxInputBytes int64
	// Live, when set, reads what is deployed in a cluster, after the Paths
	// (which may then be empty).
	Live *Live
	// Workers loading files in parallel (0: GOMAXPROCS).
	Workers int
	// Sink takes each object as it is read; nil keeps them all in
	// Loaded.Objects.
	Sink Sink
}
