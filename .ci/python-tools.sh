#!/usr/bin/env bash
# Create/refresh <repo>/.venv with the pinned Python tools from .ci/requirements.txt
# (cfn-lint, aws-sam-cli, moto server, schemathesis, cargo-lambda and zig).
#
# Idempotent: after a successful install a stamp file holding the sha256 of the
# requirements file (plus the interpreter version) is written inside the venv;
# when it matches on the next run pip is not invoked at all.
#
# Env:
#   PYTHON              interpreter used to create the venv (default: python3)
#   PYTHON_TOOLS_FORCE  set to 1 to reinstall even if the stamp matches
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd -- "${script_dir}/.." && pwd -P)"
venv="${repo_root}/.venv"
req="${script_dir}/requirements.txt"
stamp="${venv}/.python-tools.stamp"
python="${PYTHON:-python3}"

if [[ ! -f "${req}" ]]; then
    echo "python-tools: missing ${req}" >&2
    exit 1
fi

# (Re)create the venv if it is missing or its interpreter no longer runs
# (e.g. the base Python it was created from was removed or upgraded).
if ! "${venv}/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "python-tools: creating venv at ${venv}" >&2
    rm -rf "${venv}"
    "${python}" -m venv "${venv}"
fi

py_version="$("${venv}/bin/python" -c 'import sys; print(sys.version.split()[0])')"
want="$( { cat "${req}"; echo "python=${py_version}"; } | sha256sum | cut -d' ' -f1)"

if [[ "${PYTHON_TOOLS_FORCE:-0}" != "1" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
    echo "python-tools: ${venv} up to date" >&2
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
rm -f "${stamp}"
echo "python-tools: installing from ${req}" >&2
"${venv}/bin/python" -m pip install --quiet --prefer-binary -r "${req}"

# Fail here, not later in CI, if the environment is inconsistent or a tool is broken.
"${venv}/bin/python" -m pip check >&2
"${venv}/bin/cfn-lint" --version >&2
"${venv}/bin/sam" --version >&2
"${venv}/bin/moto_server" --help >/dev/null
"${venv}/bin/schemathesis" --version >&2
"${venv}/bin/cargo-lambda" lambda --version >&2

echo "${want}" > "${stamp}"
echo "python-tools: done" >&2
