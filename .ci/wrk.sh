#!/usr/bin/env bash
# Installs Debian's wrk for the load benchmark (benches/service/run), unless it is there.
set -euo pipefail

bash "$(dirname -- "${BASH_SOURCE[0]}")/debian-package.sh" wrk wrk "load benchmark"
