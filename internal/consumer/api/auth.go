package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/secretfile"
)

// maxTokenBytes bounds what is read of a token file.
const maxTokenBytes = 4096

// ReadTokenFile reads a bearer token from file (a mounted Secret): the
// whole file, surrounding white space trimmed. flag names the command-line
// flag in the errors. The token must be printable ASCII without spaces, as
// an Authorization header carries it.
func ReadTokenFile(flag, file string) (string, error) {
	tok, err := secretfile.Read(file, maxTokenBytes)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c > '~' {
			return "", fmt.Errorf("%s %s: the token has a space, line break or non-ASCII byte at offset %d; want printable ASCII only", flag, file, i)
		}
	}
	return tok, nil
}

// RequireToken answers 401 to a request without the token, else passes it
// on. An empty token guards nothing. The token comes as
// "Authorization: Bearer TOKEN" (the CLI, scripts, Prometheus), or as the
// password of HTTP basic authentication, any user name: a browser asks
// for that itself, so a person reaches the page without a proxy adding the
// header. Tokens are compared in constant time.
func RequireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, ok := presented(r); ok {
			// Hashing first makes the comparison's time independent of
			// the lengths too.
			h := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(h[:], want[:]) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Add("WWW-Authenticate", `Bearer realm="violations"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="violations", charset="UTF-8"`)
		w.Header().Set("Cache-Control", "no-store")
		msg := "this consumer needs its API token: send Authorization: Bearer TOKEN (violations --token-file FILE), or the token as the password a browser asks for"
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeJSON(w, http.StatusUnauthorized, Error{Error: msg})
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "401 Unauthorized: "+msg+"\n")
	})
}

// presented returns the token a request carries.
func presented(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return rest, rest != ""
	case strings.EqualFold(scheme, "Basic"):
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", false
		}
		_, pass, ok := strings.Cut(string(b), ":")
		return pass, ok && pass != ""
	}
	return "", false
}
