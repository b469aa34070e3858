// Command pubsub-send sends violations through a connection, to check a
// pubsub setup end to end:
//
//	pubsub-send --connection PATH --channel NAME [--count N] [--file violations.json]
//	pubsub-send --driver dapr --config '{"component":"pubsub"}' [flags]
//
// PATH is a YAML or JSON file holding a connection ConfigMap or (Gatekeeper
// v3.20+) a Connection, or a mounted ConfigMap directory (files provider or
// driver, and config). --driver with --config gives the same inline
// (--provider is a deprecated spelling of --driver: it works and prints a
// note on stderr). Without --file it sends the documentation's example
// violation. The Dapr sidecar is found as the Dapr
// SDK finds it (DAPR_GRPC_ENDPOINT, DAPR_GRPC_PORT, DAPR_API_TOKEN); when
// nothing accepts connections there within --sidecar-wait (20s) it fails,
// naming the address. --file is checked against
// schemas/violation.schema.json. It waits until every message is accepted
// or has failed, reports the counts and the rate, and exits 1 when any was
// lost or the sidecar was not there, 2 on bad input (an unknown driver, a
// missing --config, stray arguments).
package main

import (
	"os"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/sendcmd"
)

func main() {
	os.Exit(sendcmd.Run(os.Args[1:], os.Stdout, os.Stderr))
}
