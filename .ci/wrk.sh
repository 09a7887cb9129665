#!/usr/bin/env bash
# Installs Debian's wrk for the load benchmark (benches/service/run), unless it is there.
set -euo pipefail

if command -v wrk >/dev/null; then
    exit 0
fi
sudo=""
if [[ "$(id -u)" != "0" ]]; then
    sudo="sudo"
fi
echo "load benchmark: installing Debian's wrk" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq wrk >/dev/null
