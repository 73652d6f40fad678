#!/usr/bin/env bash
# Installs Python tools the tests run, pinned, from PyPI into a virtual environment of their
# own, once: ${XDG_CACHE_HOME:-~/.cache}/fanin-NAME (or FANIN_NAME_HOME, NAME in capitals).
# Idempotent while the pins match; prints the environment's bin directory on the last line.
#
#   scripts/install-pypi-tools.sh checkov checkov==3.3.30
#   scripts/install-pypi-tools.sh policy-linters parliament==1.6.4 cfn-lint==1.58.0
set -euo pipefail

name="$1"
shift
pins=("$@")
override="FANIN_$(echo "$name" | tr 'a-z-' 'A-Z_')_HOME"
home="${!override:-${XDG_CACHE_HOME:-$HOME/.cache}/fanin-$name}"
stamp="${pins[*]}"

if [[ -f "$home/.complete" && "$(cat "$home/.complete")" == "$stamp" ]]; then
  echo "$home/venv/bin"
  exit 0
fi
echo "scripts/install-pypi-tools.sh: installing $stamp (PyPI) into $home (once; cached)" >&2
rm -rf "$home"
mkdir -p "$home"
"${PYTHON:-python3}" -m venv "$home/venv"
"$home/venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
echo "$stamp" > "$home/.complete"
echo "$home/venv/bin"
