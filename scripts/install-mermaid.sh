#!/usr/bin/env bash
# Installs Mermaid's parser (npm: mermaid, with jsdom for the browser objects it expects) for
# tests/tree_readme.rs, which parses the Mermaid diagrams of generated trees' README.md with
# it. Our machines reach the npm registry; nothing is fetched at test time.
#
# Idempotent: kept while .complete records the same packages and parse script. Prints the path
# of the `mermaid-parse` command (FILE.md...; exit 1 when a diagram is refused) on the last
# line. Lives in $FANIN_MERMAID_HOME (default ~/.cache/fanin-mermaid); about 220 MB, 20 s.
set -euo pipefail

home="${FANIN_MERMAID_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fanin-mermaid}"
# mermaid 11 runs on Node 18 and later (12 asks for 22.12); jsdom 24 on Node 18 and later.
packages=(mermaid@11.17.2 jsdom@24.1.3)
script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mermaid-parse.mjs"
stamp="${packages[*]} $(sha256sum "$script" | cut -d' ' -f1)"

if [[ -f "$home/.complete" && "$(cat "$home/.complete")" == "$stamp" && -x "$home/mermaid-parse" ]]; then
  echo "$home/mermaid-parse"
  exit 0
fi
echo "scripts/install-mermaid.sh: installing ${packages[*]} (npm) into $home (once; cached)" >&2
rm -rf "$home"
mkdir -p "$home"
npm install --prefix "$home" --no-audit --no-fund --no-save --silent "${packages[@]}" >&2
cp "$script" "$home/mermaid-parse.mjs"
cat > "$home/mermaid-parse" <<WRAPPER
#!/usr/bin/env bash
exec node "$home/mermaid-parse.mjs" "\$@"
WRAPPER
chmod +x "$home/mermaid-parse"
echo "$stamp" > "$home/.complete"
echo "$home/mermaid-parse"
