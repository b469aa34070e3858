// Package cli holds the flag conventions the project's commands share with
// helm and kubeconform: help on standard output with exit 0, a bad flag or
// a stray argument on standard error with exit 2.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Continue is what Parse returns when the command goes on.
const Continue = -1

// Parse parses args into fs (named as the command, its output standard
// error). It returns Continue, or the exit code to end with: 0 after
// printing usage and the flags on stdout for --help; 2 for a bad flag
// (the flag package has said which) or an argument that is not a flag,
// named on stderr with stray saying what the command takes instead.
func Parse(fs *flag.FlagSet, args []string, usage, stray string, stdout, stderr io.Writer) int {
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usage+"\n\nflags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(stderr)
			return 0
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", fs.Name())
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q: %s\n", fs.Name(), fs.Args(), stray)
		return 2
	}
	return Continue
}
