#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (tests/services/edge.rs), unless it is there.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
    exit 0
fi
sudo=""
if [[ "$(id -u)" != "0" ]]; then
    sudo="sudo"
fi
echo "browser: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
