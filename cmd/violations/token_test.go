package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenFiles: a token file that cannot be used is a usage error (exit
// 2) naming the flag and the file; the CLI sends a good one as a bearer
// token, and --search as ?search=.
func TestTokenFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	good := filepath.Join(dir, "token")
	for p, content := range map[string]string{empty: "\n", good: "cli-t0ken\n"} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var gotAuth, gotSearch string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotSearch = r.Header.Get("Authorization"), r.URL.Query().Get("search")
		_, _ = w.Write([]byte(`{"items": []}`))
	}))
	defer srv.Close()
	missing := filepath.Join(dir, "absent")
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"serve", "--store", "sqlite:///tmp/x.db", "--api-token-file", missing}, 2, "", "--api-token-file: open " + missing},
		{[]string{"serve", "--store", "sqlite:///tmp/x.db", "--api-token-file", empty}, 2, "", "--api-token-file: " + empty + " is empty"},
		{[]string{"list", "--token-file", empty, "--server", srv.URL}, 2, "", "--token-file: " + empty + " is empty"},
		{[]string{"runs", "--token-file", missing, "--server", srv.URL}, 2, "", "--token-file: open " + missing},
		{[]string{"list", "--token-file", good, "--search", "100% <b>", "--server", srv.URL}, 0, "No violations found.", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
				t.Fatalf("stdout %q stderr %q, want %q and %q", out.String(), errb.String(), tc.out, tc.err)
			}
		})
	}
	if gotAuth != "Bearer cli-t0ken" || gotSearch != "100% <b>" {
		t.Errorf("the server got Authorization %q and search %q", gotAuth, gotSearch)
	}
}
