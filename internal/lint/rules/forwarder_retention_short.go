package rules

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

// defaultAuditInterval is Gatekeeper's --audit-interval default, in
// seconds (pkg/audit/manager.go defaultAuditInterval).
const defaultAuditInterval = 60

// maxAuditRuns is the most runs the disk driver keeps (pkg/export/disk
// maxAllowedAuditRuns).
const maxAuditRuns = 5

func init() {
	register(&Rule{
		ID:       "forwarder-retention-short",
		Severity: Warning,
		Category: CatForwarder,
		Summary:  "The disk driver keeps so few audit runs that pubsub-forward loses violations when it is down for a few minutes.",
		Doc: "After each audit run the disk driver deletes all but the newest `maxAuditResults` run " +
			"files (0 to " + strconv.Itoa(maxAuditRuns) + "), whether they were read or not. The audit " +
			"starts a run every `--audit-interval` seconds (default " + strconv.Itoa(defaultAuditInterval) +
			"; a run taking longer delays the next), so the files cover about `maxAuditResults` × " +
			"`--audit-interval`: when pubsub-forward is down (crash-looping, waiting for daprd) or " +
			"behind (the broker refuses) for longer, the runs it has not sent are deleted and their " +
			"violations never reach the broker (pubsub-forward counts them lost). With 0 every " +
			"run is deleted as soon as it is complete. The finding gives the figure when it is below " +
			"the threshold, by default " + model.DefaultForwarderMinRetention.String() + ": the longest " +
			"back-off the kubelet waits before restarting a crashing container. Set another threshold " +
			"in `.pubsub-lint.yaml`: `settings: {forwarderMinRetention: 10m}`.",
		Remediation: "Raise `maxAuditResults` (at most " + strconv.Itoa(maxAuditRuns) + ") or the audit's " +
			"`--audit-interval`, so that their product reaches the threshold.",
		Check:           checkForwarderRetentionShort,
		InputAuditsOnly: true,
	})
}

func checkForwarderRetentionShort(s *model.Setup, r *Reporter) {
	threshold := s.Options.ForwarderMinRetention
	for _, fa := range forwardedAudits(s) {
		a, c := fa.audit, fa.conn
		if c == nil || !c.IsDisk() || !c.KnownDriver() || !a.Publishes {
			continue
		}
		n, ok := c.DiskMaxAuditResults()
		if !ok || n < 0 {
			continue // connection-config-schema
		}
		interval := int64(defaultAuditInterval)
		if f, ok := a.Last("audit-interval"); ok {
			v, err := strconv.ParseInt(f.Value, 10, 64)
			if err != nil {
				continue // audit-start-requirements
			}
			interval = v
		}
		if interval <= 0 {
			continue // 0 turns the audit off: no runs
		}
		keeps := time.Duration(n) * time.Duration(interval) * time.Second
		if keeps >= threshold {
			continue
		}
		at := c.DiskConfigPath("maxAuditResults")
		who := Prose(describeForwarder(fa.forwarders[0]))
		fix := Prose(retentionFix(n, interval, threshold))
		if n == 0 {
			r.Report(c.Obj, at, "maxAuditResults 0 keeps no finished run: the disk driver deletes each audit run as soon as it is complete, so %s loses every run it has not read while it was written; %s to keep %s (settings.forwarderMinRetention in .pubsub-lint.yaml)",
				who, fix, threshold)
			continue
		}
		r.Report(c.Obj, at, "maxAuditResults %d with --audit-interval %ds keeps about %s of runs: when %s is down or behind for longer, the disk driver deletes runs it has not sent and their violations are lost; %s to keep %s (settings.forwarderMinRetention in .pubsub-lint.yaml)",
			n, interval, keeps, who, fix, threshold)
	}
}

// retentionFix says what keeps threshold: more runs, or when 5 are not
// enough at this interval, a longer interval too.
func retentionFix(n int, interval int64, threshold time.Duration) string {
	per := time.Duration(interval) * time.Second
	runs := int64((threshold + per - 1) / per)
	if runs <= maxAuditRuns {
		return fmt.Sprintf("raise maxAuditResults to %d", runs)
	}
	secs := (int64(threshold/time.Second) + maxAuditRuns - 1) / maxAuditRuns
	if n == maxAuditRuns {
		return fmt.Sprintf("set --audit-interval=%d or more", secs)
	}
	return fmt.Sprintf("set maxAuditResults to %d (the most the driver keeps) and --audit-interval=%d or more", maxAuditRuns, secs)
}
