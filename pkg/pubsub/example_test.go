package pubsub_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// Example publishes one violation through the connection of
// audit-connection.yaml (a ConfigMap or a Connection) and the Dapr sidecar
// of the process. It has no output: it needs a sidecar, so it is compiled,
// not run. publish is the README's example, verbatim (TestREADMEExample).
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data, err := os.ReadFile("audit-connection.yaml")
	if err == nil {
		err = publish(ctx, data, violation.Example(time.Now()))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

func publish(ctx context.Context, data []byte, v violation.Violation) error {
	// README begin
	sys := pubsub.NewSystem(dapr.Driver(dapr.Options{}))             // finds the sidecar as the Dapr SDK does
	cc, err := pubsub.ParseConnection("audit-connection.yaml", data) // ConfigMap or Connection, validated against schemas/
	if err != nil {
		return err // names the file, the object and the field
	}
	if err := sys.UpsertConnection(ctx, cc.Config, cc.Name, cc.Driver); err != nil {
		return err
	}
	err = sys.Publish(ctx, cc.Name, "audit-channel", v) // queued
	if err == nil {
		err = sys.Flush(ctx, cc.Name) // wait until accepted or failed
	}
	return errors.Join(err, sys.Close(ctx)) // drain within ctx, report what was not sent
	// README end
}
