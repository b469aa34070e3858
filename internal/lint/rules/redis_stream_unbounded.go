package rules

import (
	"strconv"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "redis-stream-unbounded",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "The pubsub.redis Component the audit publishes through has no maxLenApprox, so its stream grows by every violation every audit until Redis runs out of memory.",
		Doc: "Dapr's Redis pubsub adds each message to a Redis stream (`XADD`) and, once delivered, only " +
			"acknowledges it (`XACK`): nothing is ever deleted unless the Component sets `maxLenApprox`, which " +
			"trims the stream to about that many entries at each publish (components-contrib v1.14.0, " +
			"`pubsub/redis`). Gatekeeper publishes every violation again at every audit (`--audit-interval`, " +
			"60 s by default), so the stream grows by all violations every interval: measured with " +
			"Gatekeeper's real audit (`make bench`, `redis-stream` lines), each entry takes about 830 bytes of " +
			"Redis memory, and 10,000 violations at 60 s are some 14 million entries and 12 GB a day. The " +
			"Component of Gatekeeper's pubsub documentation has no bound. A `maxLenApprox` of 0 or less is " +
			"no bound either.\n\n" +
			"The trade-off of a bound: entries past it are trimmed even if no subscriber has read them, so a " +
			"subscriber down for longer than the bound's worth of audits loses the oldest runs (the " +
			"`violations` consumer resolves nothing from a run it got only part of). A `maxLenApprox` read " +
			"from a secretKeyRef or an envRef is not known here and is not reported.",
		Remediation: "Add `{name: maxLenApprox, value: \"N\"}` to the Component, N = (violations per audit + 2 " +
			"markers) × audits a subscriber may fall behind; the chart does so from " +
			"`component.redisStream.violationsPerAudit` and `auditsBehind` (2,000 × 60 by default), the " +
			"kustomize component `audit-pubsub` sets 120120.",
		Check: checkRedisStreamUnbounded,
	})
}

func checkRedisStreamUnbounded(s *model.Setup, r *Reporter) {
	seen := map[*model.Component]bool{}
	for _, a := range s.Audits {
		c := s.ComponentOf(a)
		if c == nil || seen[c] || c.Type != "pubsub.redis" {
			continue
		}
		seen[c] = true
		interval := auditInterval(a)
		perDay := int64(24*time.Hour/time.Second) / int64(interval/time.Second)
		it, ok := c.Item("maxLenApprox")
		switch {
		case !ok:
			r.Report(c.Obj, model.P("spec", "metadata"), "pubsub.redis Component %q has no maxLenApprox: Dapr never deletes a delivered message from the Redis stream, and the audit of %s republishes every violation every %s, so the stream grows by %d copies of each violation a day (about 830 bytes each) until Redis runs out of memory; add {name: maxLenApprox, value: \"N\"}, N = (violations per audit + 2) x audits a subscriber may fall behind",
				c.Name, a.Obj, interval, perDay)
		case it.HasValue:
			n, err := strconv.ParseInt(strings.TrimSpace(it.Value), 10, 64)
			if err == nil && n <= 0 {
				r.Report(c.Obj, c.ItemPath(it.Index, "value"), "pubsub.redis Component %q sets maxLenApprox to %q, which Dapr reads as no bound: the stream grows by %d copies of each violation a day (the audit of %s republishes them every %s) until Redis runs out of memory; set it to (violations per audit + 2) x audits a subscriber may fall behind",
					c.Name, it.Value, perDay, a.Obj, interval)
			}
		}
	}
}

// auditInterval is the audit's --audit-interval, Gatekeeper's default 60 s
// when absent, unreadable or not positive.
func auditInterval(a *model.Audit) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(a.FlagString("audit-interval", "60")), 0, 64)
	if err != nil || n <= 0 {
		n = 60
	}
	return time.Duration(n) * time.Second
}
