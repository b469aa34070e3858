package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
)

func TestRequireToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("inside")) })
	basic := func(user, pass string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	for _, tc := range []struct {
		name, token, auth, path string
		code                    int
		body                    string
	}{
		{"no token configured guards nothing", "", "", "/", 200, "inside"},
		{"missing", "tok-1", "", "/", 401, "401 Unauthorized"},
		{"missing, API answers JSON", "tok-1", "", "/api/v1/violations", 401, `"error": "this consumer needs its API token`},
		{"wrong", "tok-1", "Bearer tok-2", "/", 401, ""},
		{"longer", "tok-1", "Bearer tok-10", "/", 401, ""},
		{"empty bearer", "tok-1", "Bearer ", "/", 401, ""},
		{"right", "tok-1", "Bearer tok-1", "/", 200, "inside"},
		{"scheme in lower case", "tok-1", "bearer tok-1", "/", 200, "inside"},
		{"other scheme", "tok-1", "Token tok-1", "/", 401, ""},
		{"basic, token as password", "tok-1", basic("me", "tok-1"), "/", 200, "inside"},
		{"basic, token as user", "tok-1", basic("tok-1", ""), "/", 401, ""},
		{"basic, not base64", "tok-1", "Basic %%%", "/", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			api.RequireToken(tc.token, ok).ServeHTTP(w, r)
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
				t.Fatalf("%d %q, want %d with %q", w.Code, w.Body.String(), tc.code, tc.body)
			}
			if tc.code == 401 {
				ch := w.Result().Header.Values("WWW-Authenticate")
				if len(ch) == 0 || !strings.HasPrefix(ch[0], "Bearer") {
					t.Errorf("WWW-Authenticate %q, want Bearer first", ch)
				}
				if strings.Contains(w.Body.String(), "inside") {
					t.Error("the guarded handler ran")
				}
			}
		})
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, file, want, err string
	}{
		{"trimmed", write("ok", "  s3cret-Token_1/+=\n"), "s3cret-Token_1/+=", ""},
		{"missing", filepath.Join(dir, "absent"), "", "--api-token-file: open " + filepath.Join(dir, "absent")},
		{"empty", write("empty", " \n\t"), "", "--api-token-file: " + filepath.Join(dir, "empty") + " is empty"},
		{"too large", write("big", strings.Repeat("a", 5000)), "", "over 4096 bytes"},
		{"space inside", write("space", "two words"), "", "a space, line break or non-ASCII byte at offset 3"},
		{"two lines", write("lines", "a\nb\n"), "", "offset 1"},
		{"a directory", dir, "", "--api-token-file: read " + dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := api.ReadTokenFile("--api-token-file", tc.file)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("%q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one with %q", err, tc.err)
			}
		})
	}
}
