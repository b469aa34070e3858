#!/usr/bin/env bash
# tools/apt-install.sh PACKAGE CHECK [AFTER]
#
# Installs a Debian package with apt-get unless CHECK (a shell test, for
# example "command -v redis-server") already succeeds. As root it installs,
# then runs AFTER if given; otherwise it says the command to run and fails.
set -euo pipefail
pkg=$1 check=$2 after=${3:-}
if bash -c "$check" >/dev/null 2>&1; then
	echo ">> $pkg present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "$pkg is missing and this is not root: run 'sudo apt-get install -y $pkg'" >&2
	exit 1
fi
echo ">> installing $pkg with apt-get"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
if [ -n "$after" ]; then
	bash -c "$after" || true
fi
