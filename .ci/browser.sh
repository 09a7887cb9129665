#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (tests/services/edge.rs), unless it is there.
set -euo pipefail

bash "$(dirname -- "${BASH_SOURCE[0]}")/debian-package.sh" chromium /usr/bin/chromium browser
echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
