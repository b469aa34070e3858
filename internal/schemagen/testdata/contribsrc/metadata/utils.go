// Test fixture written for schemagen's tests.
package metadata

import kitmd "github.com/dapr/kit/metadata"

const (
	TTLMetadataKey          = "ttl"
	TTLInSecondsMetadataKey = "ttlInSeconds"
	StateStoreType          = "state"
	PubSubType              = "pubsub"
)

// TryGetTTL reads ttl or its alias ttlInSeconds.
func TryGetTTL(props map[string]string) (string, bool) {
	return kitmd.GetMetadataProperty(props, TTLMetadataKey, TTLInSecondsMetadataKey)
}
