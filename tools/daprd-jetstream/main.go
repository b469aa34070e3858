// Command daprd is Dapr's daprd v1.14.0 (the same app.Run as
// github.com/dapr/dapr/cmd/daprd) with pubsub.jetstream registered besides
// the stable components: cmd/daprd/components/pubsub_jetstream.go, which
// registers it, is built only with -tags allcomponents, and building every
// component costs far more than this one.
package main

import (
	"github.com/dapr/components-contrib/pubsub/jetstream"
	"github.com/dapr/dapr/cmd/daprd/app"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
)

func init() {
	// As cmd/daprd/components/pubsub_jetstream.go does.
	pubsubLoader.DefaultRegistry.RegisterComponent(jetstream.NewJetStream, "jetstream")
}

func main() { app.Run() }
