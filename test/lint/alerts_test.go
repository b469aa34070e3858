package lint_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/output"
)

// TestAlertCredentialsNotPrinted: no output format shows the credentials
// of the alert URLs that consumer-alert-url-plain reports.
func TestAlertCredentialsNotPrinted(t *testing.T) {
	dir := filepath.Join("testdata", "cases", "consumer-alert-url-plain", "bad")
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
		for _, secret := range []string{"S3cr3t-slack", "S3cr3t-query", "S3cr3t-userinfo", "/services/", "/hooks/gatekeeper"} {
			if bytes.Contains(buf.Bytes(), []byte(secret)) {
				t.Errorf("the %s output shows %s", format, secret)
			}
		}
	}
}
