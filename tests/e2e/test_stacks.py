"""fanin end to end in the stacks layout: the multi-region example with `layout = "stacks"` and
an S3 backend (a bucket in the fake AWS), applied stack by stack as an orchestrator would run
it (the hub's stack first, then every member's in parallel), with each stack's state in its
own key. Then findings from every member region, a clean re-plan in every stack, a rename, a
retirement and a removal with every stack's plan asserted, and a destroy.

The steps run in file order and share one session (see conftest.py). Run with scripts/e2e.
"""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import pytest

import harness as h
import steps

pytestmark = pytest.mark.step

HUB, PROD, STAGING, SANDBOX = "111111111111", "222222222222", "333333333333", "444444444444"
ALL_ACCOUNTS = [HUB, PROD, STAGING, SANDBOX, h.MOTO_DEFAULT_ACCOUNT]
STATE_BUCKET = "e2e-fanin-state"
STATE_REGION = "eu-west-1"
HUB_STACK = "stacks/hub"
# Members plan and apply side by side, as `terramate run --parallel` would run them.
PARALLEL = 3


def stacks_inventory_text() -> str:
    text = h.base_inventory_text().replace("[settings]\n", '[settings]\nlayout = "stacks"\n', 1)
    text += (
        f'\n[backend]\nbucket = "{STATE_BUCKET}"\nregion = "{STATE_REGION}"\n'
        'key    = "fanin/{stack}/terraform.tfstate"\n'
    )
    return h.checked(text)


def stack_list(w) -> list[dict]:
    return json.loads((w.tree / "stacks.json").read_text())["stacks"]


class Stack:
    """One root of the tree with an engine of its own: its own working directory and its own
    TF_DATA_DIR, so that stacks run side by side as on separate CI runners."""

    def __init__(self, w, path: str):
        self.path = path
        self.dir = w.tree / path
        env = dict(w.engine.env, TF_DATA_DIR=str(w.home / "tfdata" / path.replace("/", "_")))
        self.engine = h.Engine(w.engine.program, self.dir, env, w.runs)

    def providers(self) -> list[dict]:
        return h.parse_providers((self.dir / "providers.tf").read_text())


def backend_config(w) -> Path:
    """Test-only settings merged into fanin's backend block at init (`-backend-config`): the
    state bucket is in moto, reached with the dummy keys (moto's default account)."""
    path = w.home / "e2e_backend.tfbackend"
    path.write_text(
        "# TEST ONLY (tests/e2e): the S3 backend of every stack goes to the local moto server.\n"
        f'endpoints = {{ s3 = "{w.moto.url}", sts = "{w.moto.url}" }}\n'
        f'access_key = "{h.DUMMY_KEY}"\nsecret_key = "{h.DUMMY_SECRET}"\n'
        "use_path_style              = true\n"
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        "skip_s3_checksum            = true\n"
    )
    return path


def prepare(w) -> dict[str, Stack]:
    """Every stack of the tree: the test's endpoint override (and, in the hub's, the test
    queue), profiles for profile-based aliases, then `init` with the backend."""
    stacks = {s["path"]: Stack(w, s["path"]) for s in stack_list(w)}
    w.test_files = {}
    for path, stack in stacks.items():
        provs = stack.providers()
        for p in provs:
            assert len(p["accounts"]) == 1, p
        accounts = {p["accounts"][0] for p in provs}
        assert len(accounts) == 1, f"{path} reaches {accounts}: a stack is one account's"
        steps.ensure_profiles(w, provs)
        (stack.dir / h.OVERRIDE_TF).write_text(h.override_text(provs, w.moto.url))
        names = [h.OVERRIDE_TF]
        if path == HUB_STACK:
            home = next(p["alias"] for p in provs if p["region"] == w.expected.hub_region)
            (stack.dir / h.TEST_ONLY_TF).write_text(h.extra_resources_text(home))
            names.append(h.TEST_ONLY_TF)
        for name in names:
            w.test_files[f"{path}/{name}"] = h.sha256(stack.dir / name)
    config = backend_config(w)
    each(stacks.values(), lambda s: s.engine("init", "-input=false", "-no-color", f"-backend-config={config}"))
    return stacks


def each(stacks, action, parallel: int = PARALLEL) -> list:
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(action, stacks))


def members(stacks: dict[str, Stack]) -> list[Stack]:
    return [s for path, s in stacks.items() if path != HUB_STACK]


def plan(w, stack: Stack, step: str) -> dict:
    planfile = w.plans / f"{step}-{stack.path.replace('/', '_')}.tfplan"
    got, _ = stack.engine.plan_json(planfile)
    return got


def apply(w, stack: Stack, step: str) -> None:
    planfile = w.plans / f"{step}-{stack.path.replace('/', '_')}.tfplan"
    stack.engine("apply", "-input=false", "-no-color", str(planfile))


def spokes_of(e: h.Expected, account: str) -> set[str]:
    """The spoke addresses of an account's stack: its spoke modules are named by region."""
    out = set()
    for region in e.spokes.get(account, []):
        out |= h.spoke_addresses(f"spoke_{region.replace('-', '_')}", e)
    return out


def assert_no_changes(stacks) -> None:
    runs = each(stacks, lambda s: s.engine("plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(0, 2)))
    changed = [(s.path, r.stdout[-3000:]) for s, r in zip(stacks, runs) if r.rc != 0]
    assert not changed, f"stacks with changes: {changed}"


def assert_landed(w, why: str) -> None:
    steps.assert_landed(w, ALL_ACCOUNTS, why)


# ------------------------------------------------------------------------------ steps
def test_00_the_state_bucket_exists_in_the_fake_aws(world):
    w = world
    s3 = w.aws._base("s3", STATE_REGION)
    s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": STATE_REGION})
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    got = h.comparable(w.aws.snapshot(ALL_ACCOUNTS))
    want = {a: h.empty_account() for a in ALL_ACCOUNTS}
    assert got == want, h.snapshot_diff(got, want)


def test_01_the_hub_stack_applies_first_then_every_member_in_parallel(world):
    w = world
    steps.regenerate(w, stacks_inventory_text())
    listed = stack_list(w)
    assert [s["path"] for s in listed] == [HUB_STACK] + [f"stacks/member-{a}" for a in (PROD, STAGING, SANDBOX)]
    assert all(s["after"] == [HUB_STACK] for s in listed[1:]), listed
    w.stacks = prepare(w)

    hub = w.stacks[HUB_STACK]
    hub_plan = h.by_action(plan(w, hub, "step1"))
    want = h.hub_addresses(w.expected, steps.emails(w)) | h.TEST_ONLY_ADDRESSES | spokes_of(w.expected, HUB)
    assert set(hub_plan) == {"create"}, sorted(hub_plan)
    assert hub_plan["create"] == want, (
        f"the hub's stack creates: missing {sorted(want - hub_plan['create'])}, "
        f"unexpected {sorted(hub_plan['create'] - want)}"
    )
    apply(w, hub, "step1")

    plans = each(members(w.stacks), lambda s: plan(w, s, "step1"))
    for stack, got in zip(members(w.stacks), plans):
        account = stack.path.removeprefix("stacks/member-")
        assert h.by_action(got) == {"create": spokes_of(w.expected, account)}, stack.path
        # The intake bus ARN is written in the member's stack: known at plan time, not read
        # from the hub's state.
        targets = [r for r in h.planned_resources(got) if r["type"] == "aws_cloudwatch_event_target"]
        assert targets and all(t["values"]["arn"] == w.expected.intake_arn for t in targets), stack.path
    each(members(w.stacks), lambda s: apply(w, s, "step1"))
    assert_landed(w, "after applying every stack")


def test_02_each_stack_keeps_its_state_under_its_own_key(world):
    w = world
    s3 = w.aws._base("s3", STATE_REGION)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])}
    states = {k for k in keys if k.endswith(".tfstate")}
    want = {f"fanin/{s['name']}/terraform.tfstate" for s in stack_list(w)}
    assert states == want, sorted(keys)
    assert not [k for k in keys if k.endswith(".tflock")], f"a lock left behind: {sorted(keys)}"
    for s in stack_list(w):
        state = json.loads(s3.get_object(Bucket=STATE_BUCKET, Key=f"fanin/{s['name']}/terraform.tfstate")["Body"].read())
        # Every resource of a stack's state is in that stack's account (a target's `arn` is
        # what it delivers to, the hub's bus: not where the target is).
        arns = [i["attributes"].get("arn", "") for r in state["resources"]
                if r["mode"] == "managed" and r["type"] != "aws_cloudwatch_event_target"
                for i in r["instances"]]
        accounts = {a.split(":")[4] for a in arns if a.startswith("arn:aws:") and a.split(":")[4]}
        assert accounts == {s["account_id"]}, (s["path"], accounts)


def test_03_findings_travel_from_every_member_region_to_the_hub_topic(world):
    w = world
    h.assert_findings_arrive(w.aws, w.expected, h.every_sender(w.expected), deleted_from=(PROD, "eu-west-1"))


def test_04_every_stack_plans_clean(world):
    assert_no_changes(list(world.stacks.values()))


def test_05_renaming_a_member_changes_no_stack(world):
    w = world
    before = h.tree_hashes(w.tree)
    steps.regenerate(w, h.rename_member(w.text, "prod", "production"))
    after = h.tree_hashes(w.tree)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert not [p for p in changed if p.endswith(".tf")], sorted(changed)
    assert f"stacks/member-{PROD}/stack.tm.hcl" in changed, sorted(changed)
    assert_no_changes(list(w.stacks.values()))


def test_06_retiring_a_member_destroys_only_its_stack_and_updates_the_hub(world):
    w = world
    e_before = w.expected
    steps.regenerate(w, h.retire_member(w.text, "staging"))
    staging = w.stacks[f"stacks/member-{STAGING}"]
    assert {p["accounts"][0] for p in staging.providers()} == {STAGING}, "a retired member keeps its providers"
    hub = w.stacks[HUB_STACK]
    hub_plan = h.by_action(plan(w, hub, "step6"))
    assert hub_plan.get("update") == {h.BUS_POLICY_ADDRESS} and set(hub_plan) == {"update", "no-op"}, hub_plan
    staging_plan = h.by_action(plan(w, staging, "step6"))
    assert staging_plan == {"delete": spokes_of(e_before, STAGING)}, staging_plan
    others = [s for s in members(w.stacks) if s is not staging]
    assert_no_changes(others)
    apply(w, staging, "step6")
    apply(w, hub, "step6")
    left = h.comparable(w.aws.snapshot([STAGING]))[STAGING]
    assert left == h.empty_account(), h.snapshot_diff({STAGING: left}, {STAGING: h.empty_account()})
    assert_landed(w, "after retiring a member")


def test_07_removing_the_retired_member_removes_its_stack_and_changes_nothing_else(world):
    w = world
    steps.regenerate(w, h.remove_member(w.text, "staging"), "--retired-applied")
    path = f"stacks/member-{STAGING}"
    # fanin deletes the files it wrote; the test's own override file and the engine's lock
    # file stay (fanin never touches a file it did not write), so the directory does too.
    left = sorted(p.name for p in (w.tree / path).iterdir() if p.is_file())
    assert left == [".terraform.lock.hcl", h.OVERRIDE_TF], left
    assert path not in [s["path"] for s in stack_list(w)]
    del w.stacks[path]
    assert_no_changes(list(w.stacks.values()))
    check = w.fanin("check", str(w.inventory), "--out", str(w.tree))
    assert check.rc == 0, check.describe()
    assert_landed(w, "after removing the retired member")


def test_08_destroying_the_members_then_the_hub_leaves_every_account_empty(world):
    w = world
    keys = h.live_keys(w.listing)
    each(members(w.stacks), lambda s: s.engine("destroy", "-auto-approve", "-input=false", "-no-color"))
    w.stacks[HUB_STACK].engine("destroy", "-auto-approve", "-input=false", "-no-color")
    for stack in w.stacks.values():
        left = stack.engine("state", "list").stdout.split()
        assert left == [], f"{stack.path} still holds {left}"
    for account, live in keys.items():
        w.pending_keys.setdefault(account, set()).update(live)
    got = h.comparable(w.aws.snapshot(ALL_ACCOUNTS))
    want = {a: h.empty_account() for a in ALL_ACCOUNTS}
    for account, pending in w.pending_keys.items():
        for region, arn in pending:
            want[account]["kms_keys"][(region, ("pending deletion", arn))] = h.pending_key()
    assert got == want, f"left behind after destroy:\n{h.snapshot_diff(got, want)}"
