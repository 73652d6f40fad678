"""fanin end to end: a tree applied in the single layout (its state in an S3 bucket of the fake
AWS) switched to the stacks layout with `fanin state-moves`, as the README's "Switching an
existing tree" says: no resource destroyed or created, and every stack plans no changes.

The steps run in file order and share one session (see conftest.py). Run with scripts/e2e.
"""

from __future__ import annotations

import pytest

import harness as h
import steps
from test_stacks import ALL_ACCOUNTS, STATE_BUCKET, STATE_REGION, backend_config, each, prepare

pytestmark = pytest.mark.step

PULLED = "fanin-pulled.tfstate"


def single_inventory_text() -> str:
    return h.checked(
        h.base_inventory_text()
        + f'\n[backend]\nbucket = "{STATE_BUCKET}"\nregion = "{STATE_REGION}"\n'
        'key    = "fanin/{stack}/terraform.tfstate"\n'
    )


def test_00_the_state_bucket_exists_in_the_fake_aws(world):
    s3 = world.aws._base("s3", STATE_REGION)
    s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": STATE_REGION})


def test_01_the_single_layout_is_applied_with_its_state_in_s3(world):
    w = world
    steps.regenerate(w, single_inventory_text())
    # Every init of this scenario reaches the state bucket in moto.
    w.engine.env["TF_CLI_ARGS_init"] = f"-backend-config={backend_config(w)}"
    steps.write_test_files(w)
    plan, _ = w.engine.plan_json(w.plans / "single.tfplan")
    assert set(h.by_action(plan)) == {"create"}
    w.engine("apply", "-input=false", "-no-color", str(w.plans / "single.tfplan"))
    steps.assert_landed(w, ALL_ACCOUNTS, "after applying the single root")


def test_02_switching_to_stacks_is_refused_unless_forced(world):
    w = world
    (w.tree / PULLED).write_text(w.engine("state", "pull").stdout)
    before = h.tree_hashes(w.tree)
    stacks_text = w.text.replace("[settings]\n", '[settings]\nlayout = "stacks"\n', 1)
    w.inventory.write_text(stacks_text)
    r = w.generate()
    assert r.rc == 2 and "settings.layout" in r.stderr, r.describe()
    assert h.tree_hashes(w.tree) == before, "a refused generate changed the tree"
    steps.regenerate(w, stacks_text, "--force")
    assert not (w.tree / "main.tf").exists(), "the single root's files are gone"
    assert (w.tree / PULLED).is_file(), "fanin never touches a file it did not write"


def test_03_state_moves_moves_every_module_and_nothing_is_destroyed(world):
    w = world
    r = w.fanin("state-moves", str(w.inventory), "--from", "single")
    assert r.rc == 0, r.describe()
    script = w.home / "state-moves.sh"
    script.write_text(r.stdout)
    # The test's own resources are the user's: moved the same way, into the hub's new state,
    # before the script (which adds fanin's modules to the same file).
    work = w.home / "own-moves"
    work.mkdir()
    scratch = dict(w.engine.env, TF_DATA_DIR=str(work / ".data"))
    (work / "from.tfstate").write_text((w.tree / PULLED).read_text())
    for address in sorted(h.TEST_ONLY_ADDRESSES):
        own = h.run([w.engine.program, "state", "mv", "-backup=-", "-backup-out=-", "-state=from.tfstate",
                     f"-state-out={w.tree / 'stacks/hub/fanin-moved.tfstate'}", address, address],
                    work, scratch)
        assert own.rc == 0, own.describe()
    # As a user runs it: from the tree, the engine named; each root's `init` in its own
    # .terraform (TF_DATA_DIR unset), reaching the bucket through TF_CLI_ARGS_init.
    env = {k: v for k, v in w.engine.env.items() if k != "TF_DATA_DIR"}
    env["FANIN_ENGINE"] = w.engine.program
    moved = h.run(["sh", str(script)], w.tree, env)
    w.runs.append(moved)
    assert moved.rc == 0, moved.describe()
    assert not list(w.tree.rglob("fanin-moved.tfstate")), "the script leaves no moved state behind"

    w.stacks = prepare(w)
    plans = each(list(w.stacks.values()), lambda s: s.engine.plan_json(
        w.plans / f"migrated-{s.path.replace('/', '_')}.tfplan")[0])
    for stack, plan in zip(w.stacks.values(), plans):
        actions = h.by_action(plan)
        assert set(actions) <= {"no-op"}, f"{stack.path} after the moves: {sorted(actions)}"
        assert actions.get("no-op"), f"{stack.path}: an empty state"
    steps.assert_landed(w, ALL_ACCOUNTS, "after switching layouts")
    # The single root's old state is the user's to delete (the README says so) once every
    # stack plans clean; it is still in the bucket.
    s3 = w.aws._base("s3", STATE_REGION)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=STATE_BUCKET)["Contents"]}
    assert "fanin/root/terraform.tfstate" in keys, sorted(keys)
    assert {f"fanin/{s.path.split('/')[1]}/terraform.tfstate" for s in w.stacks.values()} <= keys, sorted(keys)


def test_04_findings_still_arrive_from_every_member_region(world):
    w = world
    h.assert_findings_arrive(w.aws, w.expected, h.every_sender(w.expected))
