package schemas

import (
	"slices"
	"strings"
)

// Facts about Dapr's runtime (not its components' metadata): what daprd
// and its sidecar injector of DaprRelease accept. They are copied from the
// dapr/dapr module (cmd/daprd/components/pubsub_*.go and
// pkg/injector/annotations/annotations.go); TestDaprFacts checks the copy
// against the module, so a new Dapr release is one version bump and a
// failing test away. Nothing reads the module at run time.

// DaprRelease is the Dapr release the facts describe.
const DaprRelease = "v1.14.0"

// daprPubsubTypes are the pubsub component types daprd registers, aliases
// included ("pubsub.snssqs", "pubsub.azure.servicebus", "pubsub.mqtt").
var daprPubsubTypes = []string{
	"pubsub.aws.snssqs",
	"pubsub.azure.eventhubs",
	"pubsub.azure.servicebus",
	"pubsub.azure.servicebus.queues",
	"pubsub.azure.servicebus.topics",
	"pubsub.gcp.pubsub",
	"pubsub.in-memory",
	"pubsub.jetstream",
	"pubsub.kafka",
	"pubsub.kubemq",
	"pubsub.mqtt",
	"pubsub.mqtt3",
	"pubsub.pulsar",
	"pubsub.rabbitmq",
	"pubsub.redis",
	"pubsub.rocketmq",
	"pubsub.snssqs",
	"pubsub.solace.amqp",
}

// DaprPubsubTypes lists the pubsub component types daprd DaprRelease
// loads, sorted. daprd compares types in any letter case.
func DaprPubsubTypes() []string { return slices.Clone(daprPubsubTypes) }

// IsDaprPubsubType says whether daprd loads a Component of that type.
func IsDaprPubsubType(typ string) bool {
	return slices.Contains(daprPubsubTypes, strings.ToLower(typ))
}

// DaprPubsubVersions lists the spec.version values daprd accepts for a
// pubsub type it loads: every pubsub component of DaprRelease is
// registered without a version, which daprd's registry
// (pkg/components/pubsub/registry.go) matches for "", "v0" and "v1" only,
// in any letter case (components.IsInitialVersion).
func DaprPubsubVersions(typ string) []string {
	if !IsDaprPubsubType(typ) {
		return nil
	}
	return []string{"v1", "v0", ""}
}

// daprAnnotations are the dapr.io/* annotation keys Dapr's sidecar
// injector reads from a pod.
var daprAnnotations = []string{
	"dapr.io/api-token-secret",
	"dapr.io/app-channel-address",
	"dapr.io/app-health-check-path",
	"dapr.io/app-health-probe-interval",
	"dapr.io/app-health-probe-timeout",
	"dapr.io/app-health-threshold",
	"dapr.io/app-id",
	"dapr.io/app-max-concurrency",
	"dapr.io/app-port",
	"dapr.io/app-protocol",
	"dapr.io/app-ssl",
	"dapr.io/app-token-secret",
	"dapr.io/block-shutdown-duration",
	"dapr.io/component-container",
	"dapr.io/config",
	"dapr.io/debug-port",
	"dapr.io/disable-builtin-k8s-secret-store",
	"dapr.io/enable-api-logging",
	"dapr.io/enable-app-health-check",
	"dapr.io/enable-debug",
	"dapr.io/enable-metrics",
	"dapr.io/enable-profiling",
	"dapr.io/enabled",
	"dapr.io/env",
	"dapr.io/graceful-shutdown-seconds",
	"dapr.io/http-max-request-size",
	"dapr.io/http-read-buffer-size",
	"dapr.io/inject-pluggable-components",
	"dapr.io/log-as-json",
	"dapr.io/log-level",
	"dapr.io/max-body-size",
	"dapr.io/metrics-port",
	"dapr.io/placement-host-address",
	"dapr.io/pluggable-components",
	"dapr.io/pluggable-components-sockets-folder",
	"dapr.io/read-buffer-size",
	"dapr.io/scheduler-host-address",
	"dapr.io/sidecar-cpu-limit",
	"dapr.io/sidecar-cpu-request",
	"dapr.io/sidecar-image",
	"dapr.io/sidecar-listen-addresses",
	"dapr.io/sidecar-liveness-probe-delay-seconds",
	"dapr.io/sidecar-liveness-probe-period-seconds",
	"dapr.io/sidecar-liveness-probe-threshold",
	"dapr.io/sidecar-liveness-probe-timeout-seconds",
	"dapr.io/sidecar-memory-limit",
	"dapr.io/sidecar-memory-request",
	"dapr.io/sidecar-readiness-probe-delay-seconds",
	"dapr.io/sidecar-readiness-probe-period-seconds",
	"dapr.io/sidecar-readiness-probe-threshold",
	"dapr.io/sidecar-readiness-probe-timeout-seconds",
	"dapr.io/sidecar-seccomp-profile-type",
	"dapr.io/unix-domain-socket-path",
	"dapr.io/volume-mounts",
	"dapr.io/volume-mounts-rw",
}

// DaprAnnotations lists the dapr.io/* pod annotation keys the sidecar
// injector of DaprRelease reads, sorted. The injector ignores any other
// dapr.io/ key without a word.
func DaprAnnotations() []string { return slices.Clone(daprAnnotations) }

// DaprDeprecatedAnnotations maps deprecated annotation keys to what
// replaces them.
var DaprDeprecatedAnnotations = map[string]string{
	"dapr.io/app-ssl": `dapr.io/app-protocol: "https" or "grpcs"`,
}
