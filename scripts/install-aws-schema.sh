#!/usr/bin/env bash
# Extracts the hashicorp/aws 6.x provider schema (which arguments and blocks the provider, every
# resource and every data source take, and which of them are required) into one compact JSON
# file, offline after the first run. Our machines reach npm and PyPI, but no provider registry:
# there is no 6.x provider binary to ask with `terraform providers schema -json` (the engine's
# mirror ships 5.100.0). The npm package @cdktn/provider-aws carries the schema instead: cdktn
# generated its jsii manifest (package/.jsii) from hashicorp/aws, version pinned below.
#
# Idempotent: the file is kept while .complete records the same package and converter. Prints
# the file's path on the last line. Layout of $FANIN_AWS_SCHEMA_HOME (default
# ~/.cache/fanin-aws-schema):
#   aws-schema.json    {"source", "provider_version", "provider", "resources", "data_sources"},
#                      each schema a block {"arguments": {name: {"required"}}, "blocks": {...}};
#                      scripts/aws_schema_from_jsii.py describes it
#   .complete          the package and the converter's checksum it was made with
# A run downloads the 46 MB tarball with a private npm cache, unpacks only the 150 MB manifest,
# and deletes all three when done; it takes about 12 s and 0.65 GB of memory at its peak (npm
# pack's; the conversion, ${PYTHON:-python3} with the standard library only, peaks near 0.5 GB).
set -euo pipefail

home="${FANIN_AWS_SCHEMA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fanin-aws-schema}"
python="${PYTHON:-python3}"
package="@cdktn/provider-aws@25.7.0"
converter="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/aws_schema_from_jsii.py"
stamp="$package $(sha256sum "$converter" | cut -d' ' -f1)"

if [[ -f "$home/.complete" && "$(cat "$home/.complete")" == "$stamp" && -f "$home/aws-schema.json" ]]; then
  echo "$home/aws-schema.json"
  exit 0
fi
echo "scripts/install-aws-schema.sh: installing the hashicorp/aws 6.x schema (npm) into $home (once; cached)" >&2
rm -rf "$home"
mkdir -p "$home/tmp"
tarball=$(
  cd "$home/tmp" &&
    npm pack "$package" --pack-destination "$home/tmp" --cache "$home/tmp/npm-cache" --silent |
    tail -n 1
)
tar -xzf "$home/tmp/$tarball" -C "$home/tmp" package/.jsii
"$python" "$converter" "$home/tmp/package/.jsii" "$package" "$home/aws-schema.json"
rm -rf "$home/tmp"
echo "$stamp" > "$home/.complete"
echo "$home/aws-schema.json"
