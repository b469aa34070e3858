package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Open opens (and migrates) the store a URL names:
//
//	sqlite:///var/lib/violations/violations.db   an SQLite file (made if missing)
//	postgres://user@host:5432/db?sslmode=verify-full   a PostgreSQL database
//
// postgresql:// is taken as postgres://.
func Open(ctx context.Context, rawURL string) (Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("store URL %q: want sqlite:///path/file.db or postgres://…", Redact(rawURL))
	}
	switch scheme {
	case "sqlite":
		if rest == "" || rest == "/" {
			return nil, fmt.Errorf("store URL %q: no file path (want sqlite:///path/file.db)", rawURL)
		}
		p := rest
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return OpenSQLite(ctx, p)
	case "postgres", "postgresql":
		return OpenPostgres(ctx, rawURL)
	default:
		return nil, fmt.Errorf("store URL %q: scheme %q is not sqlite or postgres", Redact(rawURL), scheme)
	}
}

// Redact hides the password of a URL, for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(raw, "@") {
			return "(unparsable URL)"
		}
		return raw
	}
	return u.Redacted()
}
