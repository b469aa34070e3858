package lint_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/serve"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/output"
)

// TestConsumerDefaults: what the linter assumes of `violations serve`
// without flags is what it does.
func TestConsumerDefaults(t *testing.T) {
	c := serve.DefaultConfig()
	for _, tt := range []struct{ name, lint, serve string }{
		{"store", model.DefaultConsumerStore, serve.DefaultStore},
		{"store in the config", model.DefaultConsumerStore, c.Store},
		{"topic", model.DefaultConsumerTopic, c.Topic},
		{"pubsub", model.DefaultConsumerPubsub, c.Pubsub},
	} {
		if tt.lint != tt.serve {
			t.Errorf("%s: the linter assumes %q, violations serve uses %q", tt.name, tt.lint, tt.serve)
		}
	}
}

// TestStorePasswordsNotPrinted: no output format shows a password of the
// consumer's store URL that the manifests hold.
func TestStorePasswordsNotPrinted(t *testing.T) {
	dir := filepath.Join("testdata", "cases", "consumer-store-plaintext", "bad")
	res, err := lint.Run(context.Background(), caseOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 3 {
		t.Fatalf("%d findings, want 3", len(res.Findings))
	}
	for format := range goldenExt {
		var buf bytes.Buffer
		if err := output.Write(format, &buf, res); err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{"S3cr3t-in-args", "S3cr3t-in-env", "S3cr3t-in-var"} {
			if bytes.Contains(buf.Bytes(), []byte(pw)) {
				t.Errorf("the %s output shows the password %s", format, pw)
			}
		}
	}
}
