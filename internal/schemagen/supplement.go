package schemagen

// Supplement returns facts for pubsub components that components-contrib
// v1.14.0 ships without a metadata.yaml. They were read by hand from the
// component's Go source at tag v1.14.0 (Apache-2.0):
//
// pubsub.jetstream, pubsub/jetstream/metadata.go: the keys are the
// mapstructure tags of the metadata struct, types follow the Go field types
// (int/uint64 -> number, bool -> bool, time.Duration -> duration;
// []time.Duration "backOff" is a comma-separated list, kept as string);
// parseMetadata requires natsURL, rejects deliverPolicy values other than
// all/last/new/sequence/time and defaults name to "dapr.io - pubsub.jetstream".
// ackPolicy falls back to explicit for unknown values: the allowed values
// are the ones it recognises. concurrencyMode is read by
// pubsub.Concurrency (single or parallel; jetstream defaults to single).
// jwt+seedKey and tls_client_cert+tls_client_key must be set in pairs; that
// is not expressed as profiles.
func Supplement() []Component {
	s := func(name string) Key { return Key{Name: name, Type: "string"} }
	secret := func(name string) Key { return Key{Name: name, Type: "string", Sensitive: true} }
	typed := func(name, typ string) Key { return Key{Name: name, Type: typ} }
	return []Component{{
		Type:    "pubsub.jetstream",
		Version: "v1",
		Title:   "NATS JetStream",
		From:    "pubsub/jetstream/metadata.go",
		Note:    "No metadata.yaml in v1.14.0: keys, types and checks read by hand from metadata.go (see internal/schemagen/supplement.go).",
		Metadata: []Key{
			{Name: "natsURL", Type: "string", Required: true},
			secret("jwt"),
			secret("seedKey"),
			secret("token"),
			s("tls_client_cert"),
			secret("tls_client_key"),
			{Name: "name", Type: "string", Default: `"dapr.io - pubsub.jetstream"`},
			s("streamName"),
			s("durableName"),
			s("queueGroupName"),
			typed("startSequence", "number"),
			typed("startTime", "number"),
			typed("flowControl", "bool"),
			typed("ackWait", "duration"),
			typed("maxDeliver", "number"),
			s("backOff"),
			typed("maxAckPending", "number"),
			typed("replicas", "number"),
			typed("memoryStorage", "bool"),
			typed("rateLimit", "number"),
			typed("heartbeat", "duration"),
			{Name: "deliverPolicy", Type: "string", AllowedValues: []string{"all", "last", "new", "sequence", "time"}, Default: `"all"`},
			{Name: "ackPolicy", Type: "string", AllowedValues: []string{"explicit", "all", "none"}, Default: `"explicit"`},
			s("domain"),
			s("apiPrefix"),
			{Name: "concurrencyMode", Type: "string", AllowedValues: []string{"single", "parallel"}, Default: `"single"`},
		},
	}}
}
