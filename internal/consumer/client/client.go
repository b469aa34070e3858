// Package client is the violations CLI's side of the API: it fetches
// violations, runs and timelines from `violations serve` and prints them as
// a table (as kubectl does, with ages), JSON or YAML.
package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// maxResponse caps what is read of one answer.
const maxResponse = 64 << 20

// Client talks to one server.
type Client struct {
	Base string
	HTTP *http.Client
	// Token, if set, is sent as a bearer token (serve --api-token-file).
	Token string
}

// New checks the server URL.
func New(server string) (*Client, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want http://host:port or https://host:port", server)
	}
	return &Client{Base: strings.TrimRight(server, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (c *Client) get(ctx context.Context, path string, q url.Values, into any) error {
	u := c.Base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", u, err)
	}
	if len(body) > maxResponse {
		return fmt.Errorf("the answer of %s is over %d bytes", u, maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		var e api.Error
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s", resp.Status, e.Error)
		}
		return fmt.Errorf("%s from %s", resp.Status, u)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("decoding the answer of %s: %w", u, err)
	}
	return nil
}

// ListOptions select violations.
type ListOptions struct {
	State, Cluster, Namespace, ConstraintKind, ConstraintName, ResourceKind, EnforcementAction string
	// Search keeps violations whose message, resource name or namespace or
	// constraint name contains it (ignoring case).
	Search string
	// Limit caps how many are returned (0: all).
	Limit int
}

// Violations fetches every page.
func (c *Client) Violations(ctx context.Context, o ListOptions) ([]store.Violation, error) {
	q := url.Values{}
	for k, v := range map[string]string{"state": o.State, "cluster": o.Cluster, "namespace": o.Namespace, "constraintKind": o.ConstraintKind,
		"constraintName": o.ConstraintName, "resourceKind": o.ResourceKind, "enforcementAction": o.EnforcementAction, "search": o.Search} {
		if v != "" {
			q.Set(k, v)
		}
	}
	out := []store.Violation{}
	for {
		page := 500
		if o.Limit > 0 && o.Limit-len(out) < page {
			page = o.Limit - len(out)
		}
		q.Set("limit", strconv.Itoa(page))
		var l api.ViolationList
		if err := c.get(ctx, "/api/v1/violations", q, &l); err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.Continue == "" || (o.Limit > 0 && len(out) >= o.Limit) {
			return out, nil
		}
		q.Set("continue", l.Continue)
	}
}

// Runs fetches the newest runs.
func (c *Client) Runs(ctx context.Context, cluster string, limit int) ([]store.Run, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cluster != "" {
		q.Set("cluster", cluster)
	}
	var l api.RunList
	err := c.get(ctx, "/api/v1/runs", q, &l)
	return l.Items, err
}

// Violation fetches one violation and its timeline.
func (c *Client) Violation(ctx context.Context, key string) (api.ViolationDetail, error) {
	var d api.ViolationDetail
	if !store.ValidKey(key) {
		return d, fmt.Errorf("violation key %q: want the 32 hexadecimal characters of the KEY column of `violations list`", key)
	}
	err := c.get(ctx, "/api/v1/violations/"+key, nil, &d)
	return d, err
}

// Clean makes a value safe for a terminal: control characters (escape
// sequences among them) are shown escaped, and it is cut at max runes.
func Clean(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if max > 0 && n >= max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
		} else {
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}
