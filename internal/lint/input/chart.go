package input

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// chartValues says whether Helm values are given (--values, --set,
// --set-string, --set-file).
func (o Options) chartValues() bool {
	return len(o.ValueFiles)+len(o.Set)+len(o.SetString)+len(o.SetFile) > 0
}

// checkChartFlags checks the Helm flags against the planned jobs. Its
// error is a usage error: Helm values without a chart (ErrNoChart),
// standard input read both as a PATH and as a values file. valuesErr is a
// values file that cannot be read (a FIFO, a device, too large): every
// chart fails with it. A flag that has no effect gets a note.
func checkChartFlags(opts Options, jobs []job, notes *[]string) (valuesErr, err error) {
	charts, failed, stdin := false, false, false
	for _, j := range jobs {
		switch j.kind {
		case jobChart:
			charts = true
		case jobError:
			failed = true
		case jobStdin:
			stdin = true
		}
	}
	if !charts {
		// When a PATH failed, its error says more than that no chart was
		// found (it may have been the chart).
		if opts.chartValues() && !failed {
			return nil, fmt.Errorf("%w: Helm values (--values, --set, --set-string, --set-file) apply only to charts (directories with a Chart.yaml)", ErrNoChart)
		}
		if opts.KubeVersion != "" && !failed {
			*notes = append(*notes, fmt.Sprintf("--kube-version %s has no effect: no Helm chart among the inputs", opts.KubeVersion))
		}
		return nil, nil
	}
	var errs []error
	check := func(flag, path string) {
		path = strings.TrimSpace(path)
		if path == "-" {
			if stdin {
				errs = append(errs, fmt.Errorf("%s -: standard input is already a PATH (-)", flag))
			}
			return
		}
		if strings.Contains(path, "://") {
			return // Helm's getters report what they cannot fetch.
		}
		fi, statErr := os.Stat(path)
		switch {
		case statErr != nil:
			// Helm reports a file that does not exist.
		case !fi.Mode().IsRegular():
			valuesErr = errors.Join(valuesErr, fmt.Errorf("%s %s: %w but %s", flag, path, ErrNotRegular, describeMode(fi.Mode())))
		case fi.Size() > opts.maxInput():
			valuesErr = errors.Join(valuesErr, fmt.Errorf("%s %s: %w: more than %s, the --max-input-bytes limit", flag, path, ErrInputTooLarge, limitText(opts.maxInput())))
		}
	}
	for _, f := range opts.ValueFiles {
		check("--values", f)
	}
	for _, sf := range opts.SetFile {
		for _, kv := range splitUnescaped(sf, ',') {
			if _, p, ok := strings.Cut(kv, "="); ok {
				check("--set-file", p)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return valuesErr, nil
}

// splitUnescaped splits s at each sep not preceded by a backslash, as
// Helm's --set parser does.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
