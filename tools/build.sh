#!/usr/bin/env bash
# tools/build.sh NAME VERSION MODULE_DIR PACKAGE [GO BUILD FLAGS...]
#
# Builds one tool from its own module under tools/ into a cache outside the
# checkout, keyed by tool, version and a hash of the module's go.mod and go.sum,
# and links it into bin/. A tool already in the cache is reused (nothing is
# compiled or linked); the first build prints its progress.
#
# TOOLS_CACHE (default ~/.cache/gatekeeper-pubsub/tools) is where built tools live.
set -euo pipefail

name=$1 version=$2 moddir=$3 pkg=$4
shift 4
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatekeeper-pubsub/tools}
go=${GO:-go}

sum=$(cat "$root/$moddir/go.mod" "$root/$moddir/go.sum" | sha256sum | cut -c1-10)
dir="$cache/$name-$version-$sum"
out="$dir/$name"
mkdir -p "$root/bin"

if [ -x "$out" ]; then
	echo ">> $name $version: reusing $out"
else
	mkdir -p "$dir"
	log="$dir/build.log"
	echo ">> building $name $version from source ($moddir, $pkg)"
	echo "   into $out; progress every 100 packages, full log in $log"
	start=$(date +%s)
	if ! (cd "$root/$moddir" && "$go" build -v "$@" -o "$out.tmp" "$pkg") 2>&1 | tee "$log" |
		awk '{ n++ } n % 100 == 0 { printf "   ... %d packages (%s)\n", n, $0; fflush() }'; then
		echo "$name build failed; last lines of $log:" >&2
		tail -40 "$log" >&2
		exit 1
	fi
	if [ ! -x "$out.tmp" ]; then
		echo "$name build produced no binary; last lines of $log:" >&2
		tail -40 "$log" >&2
		exit 1
	fi
	mv "$out.tmp" "$out"
	echo ">> $name $version built in $(($(date +%s) - start))s"
fi
ln -sfn "$out" "$root/bin/$name"
