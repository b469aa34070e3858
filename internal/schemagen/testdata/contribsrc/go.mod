// Test fixture written for schemagen's tests: a stand-in for the
// components-contrib module, read by gosource.Keys (never built).
module github.com/dapr/components-contrib

go 1.22

require (
	example.com/amqp v1.2.0
	github.com/dapr/kit v0.13.0
)
