// Test fixture written for schemagen's tests: the pubsub.fake.queue
// component of testdata/contrib.
package fake

import (
	"errors"

	"example.com/amqp"
	"github.com/dapr/components-contrib/common/fakelib"
	"github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/kit/logger"
	kitmd "github.com/dapr/kit/metadata"
)

type fakeMetadata struct {
	pubsub.TLSProperties `mapstructure:",squash"`
	Host                 string `mapstructure:"host"`
	Retries              int    `mapstructure:"retries"`
	Mode                 string `mapstructure:"mode"`
	Exchange             string `mapstructure:"exchange"`
	Ignored              string `mapstructure:"-"`
}

const (
	hostKey    = "host"
	oldHostKey = "server"
)

type Fake struct{ log logger.Logger }

// Init parses the metadata.
func (f *Fake) Init(meta pubsub.Metadata) error {
	m := fakeMetadata{Exchange: amqp.ExchangeFanout}
	if val, ok := meta.Properties[hostKey]; !ok || val == "" {
		if old, ok := meta.Properties[oldHostKey]; ok && old != "" {
			meta.Properties[hostKey] = old
			f.log.Warn("The 'server' key is deprecated, use 'host' instead")
		}
	}
	if err := kitmd.DecodeMetadata(meta.Properties, &m); err != nil {
		return err
	}
	if m.Mode == "fast" {
		return nil
	} else if m.Mode == "slow" {
		return nil
	} else {
		return errors.New("bad mode")
	}
}

// Setup reads more keys.
func (f *Fake) Setup(meta pubsub.Metadata) error {
	props := meta.Properties
	if _, err := pubsub.Concurrency(props); err != nil {
		return err
	}
	if _, err := fakelib.Parse(props, "pubsub"); err != nil {
		return err
	}
	if !validExchange(props["exchange"]) {
		return errors.New("bad exchange")
	}
	for k := range props {
		if k == "extraKey" {
			return nil
		}
	}
	return nil
}

func validExchange(kind string) bool {
	return kind == amqp.ExchangeFanout || kind == amqp.ExchangeDirect
}

// Publish reads per-request metadata, not the component's.
func (f *Fake) Publish(req map[string]string) string { return req["perRequestKey"] }
