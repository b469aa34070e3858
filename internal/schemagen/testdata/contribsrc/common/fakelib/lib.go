// Test fixture written for schemagen's tests: shared code a component calls.
package fakelib

import (
	"errors"
	"strings"
	"time"

	"github.com/dapr/components-contrib/metadata"
	kitmd "github.com/dapr/kit/metadata"
)

const (
	ClusterType = "cluster"
	NodeType    = "node"
	otherKey    = "stateOnlyKey"
)

// Settings are decoded from the metadata.
type Settings struct {
	Host      string        `mapstructure:"libHost"`
	Kind      string        `mapstructure:"kind"`
	Timeout   time.Duration `mapstructure:"timeout"`
	UseAAD    bool          `mapstructure:"useEntraID" mapstructurealiases:"useAzureAD"`
	StateOnly string        `mapstructure:"stateOnly" mdonly:"state"`
	Legacy    string        `mapstructure:"legacy" mddeprecated:"true"`
	Auth      string        `mapstructure:"auth"`
	internal  string
}

// Parse decodes the metadata; a state store reads more keys.
func Parse(props map[string]string, componentType string) (*Settings, error) {
	s := &Settings{}
	switch componentType {
	case metadata.StateStoreType:
		_ = props[otherKey]
	case metadata.PubSubType:
		_, _ = metadata.TryGetTTL(props)
	}
	if err := kitmd.DecodeMetadata(props, s); err != nil {
		return nil, err
	}
	switch strings.ToLower(s.Auth) {
	case "password", "none":
	default:
		return nil, errors.New("invalid auth")
	}
	return s, nil
}

// IsCluster compares kind with one constant: other values silently mean
// a node.
func (s *Settings) IsCluster() bool { return s.Kind == ClusterType }
