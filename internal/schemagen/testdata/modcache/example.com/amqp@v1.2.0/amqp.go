// Test fixture written for schemagen's tests: a dependency whose constants
// gosource.Keys resolves from the module cache.
package amqp

const (
	ExchangeFanout = "fanout"
	ExchangeDirect = "direct"
)
