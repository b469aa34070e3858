#!/bin/sh
# The Helm plugin's command (plugin.yaml): `helm pubsub-lint CHART [flags]`.
#
# Helm runs it with HELM_PLUGIN_DIR set and the arguments after
# `helm pubsub-lint`, minus Helm's own global flags: Helm takes
# -n/--namespace itself and exports it as HELM_NAMESPACE (the kubeconfig
# context's namespace, else default, when -n is not given), which becomes
# pubsub-lint's release namespace, as for `helm template`. Every other flag
# (-f/--values, --set, --set-string, --set-file, --kube-version, --format,
# --fail-on...) is passed to pubsub-lint unchanged.
#
# With --install (the plugin's install and update hooks) it builds
# pubsub-lint from the plugin's checkout into $HELM_PLUGIN_DIR/bin.
set -eu
dir=${HELM_PLUGIN_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
bin="$dir/bin/pubsub-lint"

if [ "${1:-}" = "--install" ]; then
	(cd "$dir" && GOBIN="$dir/bin" GOFLAGS=-mod=mod go install ./cmd/pubsub-lint)
	"$bin" version
	exit 0
fi
if [ ! -x "$bin" ]; then
	if command -v pubsub-lint >/dev/null 2>&1; then
		bin=pubsub-lint
	else
		echo "helm pubsub-lint: $bin is missing: run 'helm plugin update pubsub-lint' (needs Go) or put pubsub-lint on PATH" >&2
		exit 2
	fi
fi
exec "$bin" --namespace "${HELM_NAMESPACE:-default}" "$@"
