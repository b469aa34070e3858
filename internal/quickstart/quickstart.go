// Package quickstart lays out the Gatekeeper pubsub quick start without
// Kubernetes: the Dapr resources of the audit's and the subscriber's
// sidecars (a local-file secret store standing in for the Kubernetes Secret
// "redis", and the pubsub.redis Component that reads redisPassword from it).
package quickstart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Names used by the quick start, as in the Gatekeeper documentation.
const (
	Component        = "pubsub"
	Connection       = connection.DefaultName
	Channel          = connection.DefaultChannel
	AuditAppID       = "audit"
	SubscriberAppID  = "subscriber"
	SecretStore      = "redis-secrets"
	SecretName       = "redis"
	SecretKey        = "redis-password"
	SubscriberPort   = 6002
	connectionConfig = `{"component": "pubsub"}`
)

// Resources returns the daprd resources (file name -> YAML) for a sidecar
// that reaches Redis at redisAddr with the password kept in secretsFile.
// scopes, if given, limits the pubsub Component to those app-ids.
func Resources(redisAddr, secretsFile string, scopes ...string) map[string]string {
	return ResourcesWith(redisAddr, secretsFile, nil, scopes...)
}

// ResourcesWith is Resources with extra pubsub.redis metadata (name ->
// value), for example redeliverInterval in fault tests.
func ResourcesWith(redisAddr, secretsFile string, metadata map[string]string, scopes ...string) map[string]string {
	store := fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: %q
  - name: multiValued
    value: "true"
`, SecretStore, secretsFile)
	pubsub := fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: %q
  - name: redisPassword
    secretKeyRef:
      name: %s
      key: %s
%sauth:
  secretStore: %s
`, Component, redisAddr, SecretName, SecretKey, extra(metadata), SecretStore)
	if len(scopes) > 0 {
		pubsub += "scopes:\n"
		for _, s := range scopes {
			pubsub += fmt.Sprintf("- %s\n", s)
		}
	}
	return map[string]string{"secretstore.yaml": store, "pubsub.yaml": pubsub}
}

func extra(metadata map[string]string) string {
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  - name: %s\n    value: %q\n", k, metadata[k])
	}
	return b.String()
}

// WriteSecrets writes the local secret store's file: secret "redis" with
// key "redis-password", as the Kubernetes Secret of the quick start.
func WriteSecrets(dir, password string) (string, error) {
	b, err := json.Marshal(map[string]map[string]string{SecretName: {SecretKey: password}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "redis-secrets.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("writing secrets file: %w", err)
	}
	return path, nil
}

// ConnectionConfigMap returns the quick start's connection ConfigMap.
func ConnectionConfigMap() string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: gatekeeper-system
data:
  provider: "dapr"
  config: |
    %s
`, Connection, connectionConfig)
}
