package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestExitCodes: usage errors exit 2 with the flag named on stderr, help
// goes to stdout with 0, a server that does not answer is 1.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{nil, 2, "", "Usage:"},
		{[]string{"bogus"}, 2, "", `unknown command "bogus"`},
		{[]string{"version"}, 0, "violations v", ""},
		{[]string{"list", "--help"}, 0, "-state", ""},
		{[]string{"serve", "-h"}, 0, "-resolve-after", ""},
		{[]string{"list", "--state", "closed"}, 2, "", `--state "closed"`},
		{[]string{"list", "-o", "xml"}, 2, "", `-o "xml"`},
		{[]string{"list", "--server", "ftp://x"}, 2, "", `--server "ftp://x"`},
		{[]string{"list", "--nope"}, 2, "", "-nope"},
		{[]string{"runs", "--limit", "0"}, 2, "", "--limit 0"},
		{[]string{"show"}, 2, "", "one violation KEY"},
		{[]string{"show", "not-a-key"}, 2, "", `violation key "not-a-key"`},
		{[]string{"serve", "--resolve-after", "0", "--store", "sqlite:///tmp/x.db"}, 2, "", "--resolve-after is 0"},
		{[]string{"serve", "--max-resolve-share", "2", "--store", "sqlite:///tmp/x.db"}, 2, "", "--max-resolve-share is 2"},
		{[]string{"serve", "--store", "x", "--store-file", "y"}, 2, "", "--store and --store-file both given"},
		{[]string{"serve", "--topic", "t", "--dead-letter-topic", "t", "--store", "sqlite:///tmp/x.db"}, 2, "", "--dead-letter-topic is the subscribed topic"},
		{[]string{"serve", "-h"}, 0, "-report-resource-uids", ""},
		{[]string{"serve", "--report-severity-key", "team severity", "--store", "sqlite:///tmp/x.db"}, 2, "", `--report-severity-key "team severity" is not a label key`},
		{[]string{"serve", "--report-severity", "urgent", "--store", "sqlite:///tmp/x.db"}, 2, "", `--report-severity "urgent"`},
		{[]string{"serve", "--reports", "--cluster", "Prod_EU", "--store", "sqlite:///tmp/x.db"}, 2, "", `"violations-reports-Prod_EU" is not a Lease name`},
		{[]string{"serve", "--report-lease-name", "a b", "--store", "sqlite:///tmp/x.db"}, 2, "", `--report-lease-name "a b" is not a Lease name`},
		{[]string{"serve", "--report-lease-namespace", "Team_A", "--store", "sqlite:///tmp/x.db"}, 2, "", `--report-lease-namespace "Team_A" is not a namespace name`},
		{[]string{"list", "--server", "http://127.0.0.1:1"}, 1, "", "connection refused"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
				t.Fatalf("stdout %q stderr %q, want %q and %q", out.String(), errb.String(), tc.out, tc.err)
			}
		})
	}
}
