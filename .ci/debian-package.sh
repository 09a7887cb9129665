#!/usr/bin/env bash
# Installs a Debian package for the test command, unless COMMAND is there already.
# Usage: .ci/debian-package.sh PACKAGE COMMAND WHAT-FOR
set -euo pipefail

package="$1" command="$2" purpose="$3"
if command -v "$command" >/dev/null; then
    exit 0
fi
sudo=""
if [[ "$(id -u)" != "0" ]]; then
    sudo="sudo"
fi
echo "$purpose: installing Debian's $package" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "$package" >/dev/null
