// Test fixture written for schemagen's tests: the Supplement's package.
package jetstream
