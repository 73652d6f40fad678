//! The shell script `fanin state-moves` prints: it moves every module's state from its root
//! and address in one layout to its root and address in the other, with the engine's own
//! `state mv` on local copies of the states (nothing reaches AWS), then pushes each new
//! root's state to its backend.

use crate::model::{Layout, StateMove, root_path};

/// The pulled state every root of the old layout must hold when the script runs.
pub const PULLED: &str = "fanin-pulled.tfstate";
const MOVED: &str = "fanin-moved.tfstate";

/// The script, run from the tree's directory. Roots, module names and file names are fanin's
/// own (identifiers, digits, `/`), never inventory text.
pub fn script(moves: &[StateMove], from: Layout, to: Layout) -> String {
    let mut from_roots: Vec<&str> = moves.iter().map(|m| m.from_root.as_str()).collect();
    from_roots.sort();
    from_roots.dedup();
    let mut to_roots: Vec<&str> = moves.iter().map(|m| m.to_root.as_str()).collect();
    to_roots.sort();
    to_roots.dedup();
    let (from, to) = (from.name(), to.name());
    let mut s = format!(
        "#!/bin/sh
# Moves the state of this tree from layout \"{from}\" to \"{to}\", module by module. Printed by
# `fanin state-moves`; run it from the tree's directory, with the engine in $FANIN_ENGINE
# (default tofu). It edits state files on this machine only: nothing reaches AWS.
#
# Before: the last apply of every {from} root has run and nothing else applies; in every
# {from} root, `$engine state pull > {PULLED}` has saved its state; then
# `fanin generate --force` has written the {to} layout. After: plan every {to} root (no
# changes), then delete the {PULLED} files and the {from} layout's states.
set -eu
engine=\"${{FANIN_ENGINE:-tofu}}\"
tree=$(pwd)
work=$(mktemp -d)
trap 'rm -rf \"$work\"' EXIT
"
    );
    s.push_str("\n# The pulled states, copied: state mv edits the copies.\n");
    for (i, root) in from_roots.iter().enumerate() {
        s.push_str(&format!(
            "cp '{}' \"$work/from-{i}.tfstate\"\n",
            root_path(root, PULLED)
        ));
    }
    s.push_str(
        "\n# Every module to its new root and address, in a scratch directory: local state files\n# only, whatever backend the roots have.\n",
    );
    for m in moves {
        let i = from_roots
            .iter()
            .position(|r| *r == m.from_root)
            .expect("listed above");
        s.push_str(&format!(
            "(cd \"$work\" && TF_DATA_DIR=\"$work/.data\" \"$engine\" state mv -backup=- -backup-out=- -state=from-{i}.tfstate -state-out=\"$tree/{}\" 'module.{}' 'module.{}')\n",
            root_path(&m.to_root, MOVED),
            m.from_module,
            m.to_module
        ));
    }
    s.push_str(
        "\n# Each new root's state to its backend (a new root has none yet), each root with its own\n# .terraform.\n",
    );
    for root in to_roots {
        let dir = if root.is_empty() { "." } else { root };
        s.push_str(&format!(
            "(cd '{dir}' && export TF_DATA_DIR=.terraform && \"$engine\" init -input=false >/dev/null && \"$engine\" state push {MOVED} && rm {MOVED})\n"
        ));
    }
    s
}
