package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// TestRefusesWhatDaprdWouldNotSend runs fake-subscriber as a process with
// an app API token and sends it what only an attacker would: deliveries
// without the token or with a wrong one, a body over the cap, headers that
// never end. None of them is printed as a violation; the real delivery is.
func TestRefusesWhatDaprdWouldNotSend(t *testing.T) {
	dir := t.TempDir()
	if err := procs.GoBuild(context.Background(), dir, "./cmd/fake-subscriber"); err != nil {
		t.Fatal(err)
	}
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	app, err := procs.StartAppWith(procs.AppOptions{Name: "fake-subscriber", Path: filepath.Join(dir, "fake-subscriber"),
		Args: []string{"--port", fmt.Sprint(port)}, Env: []string{"APP_API_TOKEN=s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Stop)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake-subscriber not serving: %v\n%s", err, app.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(app.Logs(), fmt.Sprintf("addr=127.0.0.1:%d", port)) {
		t.Errorf("not listening on loopback only:\n%s", app.Logs())
	}
	v := violation.Example(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	inner, _ := json.Marshal(v)
	event := func(data string) string {
		b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "1", "datacontenttype": "text/plain", "data": data})
		return string(b)
	}
	post := func(body, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/violations", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		if token != "" {
			req.Header.Set("dapr-api-token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	forged := v
	forged.ResourceName = "forged"
	forgedJSON, _ := json.Marshal(forged)
	for _, tc := range []struct {
		name, body, token string
		code              int
		answer            string
	}{
		{"no token", event(string(forgedJSON)), "", http.StatusUnauthorized, ""},
		{"wrong token", event(string(forgedJSON)), "guess", http.StatusUnauthorized, ""},
		{"over the size cap", event(strings.Repeat("x", 1<<20)), "s3cret", http.StatusOK, `{"status":"DROP"}`},
		{"not a violation", event("hello"), "s3cret", http.StatusOK, `{"status":"DROP"}`},
		{"a real delivery", event(string(inner)), "s3cret", http.StatusOK, `{"status":"SUCCESS"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := post(tc.body, tc.token)
			if code != tc.code || (tc.answer != "" && got != tc.answer) {
				t.Fatalf("answered %d %s, want %d %s", code, got, tc.code, tc.answer)
			}
		})
	}
	// Headers that never end: the connection is closed by the server.
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /violations HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := bufio.NewReader(conn).ReadString('\n'); err == nil || os.IsTimeout(err) {
		t.Errorf("a request with unfinished headers was held open (%v)", err)
	}
	out := app.Logs()
	if strings.Contains(out, `"resourceName":"forged"`) || !strings.Contains(out, `"resourceName":"`+v.ResourceName+`"`) {
		t.Fatalf("output:\n%s\nwant the real violation and no forged one", out)
	}
}

// TestHealthPort: with HEALTH_PORT the kubelet's probes reach /healthz on
// every interface, while that port serves nothing else (the app port stays
// loopback).
func TestHealthPort(t *testing.T) {
	dir := t.TempDir()
	if err := procs.GoBuild(context.Background(), dir, "./cmd/fake-subscriber"); err != nil {
		t.Fatal(err)
	}
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	health, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	app, err := procs.StartAppWith(procs.AppOptions{Name: "fake-subscriber", Path: filepath.Join(dir, "fake-subscriber"),
		Args: []string{"--port", fmt.Sprint(port)}, Env: []string{fmt.Sprintf("HEALTH_PORT=%d", health), "APP_API_TOKEN=s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Stop)
	base := fmt.Sprintf("http://127.0.0.1:%d", health)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /healthz on the health port: %s", resp.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake-subscriber's health port not serving: %v\n%s", err, app.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The log shows the bound address: every interface is [::] (or
	// 0.0.0.0 without IPv6).
	if logs := app.Logs(); !strings.Contains(logs, fmt.Sprintf("healthAddr=[::]:%d", health)) && !strings.Contains(logs, fmt.Sprintf("healthAddr=0.0.0.0:%d", health)) {
		t.Errorf("the health port does not listen on every interface:\n%s", app.Logs())
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/violations"},
		{http.MethodGet, "/dapr/subscribe"},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader("{}"))
		req.Header.Set("dapr-api-token", "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s on the health port: %s, want it refused", tc.method, tc.path, resp.Status)
		}
	}
}
