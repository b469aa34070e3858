package connection

// Gatekeeper's defaults for where its audit runs and what it publishes
// through, defined once for the publisher, the linter, the commands and
// their documentation.
const (
	// DefaultName is the connection the audit uses without
	// --audit-connection.
	DefaultName = "audit-connection"
	// DefaultChannel is the channel (topic) the audit publishes to without
	// --audit-channel.
	DefaultChannel = "audit-channel"
	// DefaultNamespace is the namespace Gatekeeper, and so its audit and
	// the connection config, run in.
	DefaultNamespace = "gatekeeper-system"
)
