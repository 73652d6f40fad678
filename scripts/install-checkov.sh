#!/usr/bin/env bash
# Installs checkov (PyPI), the IaC scanner our tests run on every example's generated tree.
# Idempotent; prints the checkov executable's path on the last line.
set -euo pipefail

home="${FANIN_CHECKOV_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fanin-checkov}"
version="3.3.30"

if [[ -f "$home/.complete-$version" ]]; then
  echo "$home/venv/bin/checkov"
  exit 0
fi
rm -rf "$home"
mkdir -p "$home"
"${PYTHON:-python3}" -m venv "$home/venv"
"$home/venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$version"
"$home/venv/bin/checkov" --version >/dev/null
touch "$home/.complete-$version"
echo "$home/venv/bin/checkov"
