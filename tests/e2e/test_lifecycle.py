"""fanin end to end: generate the multi-region example, plan and apply it with the real engine
against a fake AWS (moto on 127.0.0.1), then take it through its lifecycle (add, rename,
retire, remove, regenerate, destroy), asserting every step on the plan JSON and on what exists
in every fake account.

The steps run in file order and share one session (see conftest.py). Run with scripts/e2e.
"""

from __future__ import annotations

import json

import pytest

import harness as h
import steps

pytestmark = pytest.mark.step

HUB, PROD, STAGING, SANDBOX = "111111111111", "222222222222", "333333333333", "444444444444"
NEW_IDS = [account for _, account, _ in h.NEW_MEMBERS]
ALL_ACCOUNTS = [HUB, PROD, STAGING, SANDBOX, *NEW_IDS, h.MOTO_DEFAULT_ACCOUNT]


# ------------------------------------------------------------------------------ helpers
def assert_landed(w, why: str) -> None:
    """steps.assert_landed over every account this scenario uses, with the defaults."""
    e = w.expected
    assert e.dead_letter and e.encrypt_topic and e.dead_letter_encryption == "sse-sqs", "the scenario runs with the defaults"
    steps.assert_landed(w, ALL_ACCOUNTS, why)


# ------------------------------------------------------------------------------ step 0
def test_00_fake_aws_is_fresh_and_on_loopback(world):
    w = world
    assert w.moto.url.startswith("http://127.0.0.1:")
    addresses = h.listening_addresses(w.moto.port)
    assert addresses, f"nothing listens on port {w.moto.port}"
    assert set(addresses) == {h.LOOPBACK_HEX}, f"moto listens on {addresses}, not only 127.0.0.1"
    # A fresh server: every account is empty, just like the fresh working directory.
    assert not (w.tree).exists()
    got = h.comparable(w.aws.snapshot(ALL_ACCOUNTS))
    want = {a: h.empty_account() for a in ALL_ACCOUNTS}
    assert got == want, h.snapshot_diff(got, want)


# ------------------------------------------------------------------------------ step 1
def test_01_generate_and_apply_lands_in_the_right_accounts(world):
    w = world
    w.write_inventory(h.base_inventory_text())
    r = w.generate()
    assert r.rc == 0, r.describe()
    w.expected = h.expected_from(w.text)

    provs = steps.providers(w)
    assert {p["alias"] for p in provs} == steps.expected_aliases(w.expected)
    assert any(p["profile"] for p in provs), "the example should exercise a profile-based alias"
    steps.write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step1.tfplan")
    w.plan_json["step1"] = plan
    actions = h.by_action(plan)
    assert set(actions) == {"create"}, f"a first plan only creates: {sorted(actions)}"
    assert not [a for a in actions["create"] if "accessanalyzer" in a], "analyzers are switched off for moto"

    # Exactly the hub, every spoke and the test's own three resources: with the example's
    # 3 members, 2 emails, dead-letter queues (SSE-SQS) and an encrypted topic, 13 in the hub
    # (bus, bus policy, topic, topic policy, 2 subscriptions, 2 rules, 2 targets, key, queue,
    # queue policy) + 7 spokes x 6 (rule, target, role, role policy, queue, queue policy) + 3
    # = 58: no key in any spoke.
    want = h.hub_addresses(w.expected, steps.emails(w)) | h.TEST_ONLY_ADDRESSES
    for module in w.expected.spoke_modules():
        want |= h.spoke_addresses(module, w.expected)
    assert actions["create"] == want, (
        f"the first plan's creates differ: missing {sorted(want - actions['create'])}, "
        f"unexpected {sorted(actions['create'] - want)}"
    )
    assert len(want) == 58, len(want)
    assert not [a for a in actions["create"] if a.startswith("module.spoke_") and ".aws_kms_key." in a]

    w.engine("apply", "-input=false", "-no-color", str(w.plans / "step1.tfplan"))
    assert_landed(w, "after the first apply")


# ------------------------------------------------------------------------------ step 2
def test_02_second_plan_shows_no_changes(world):
    w = world
    plan, r = w.engine.plan_json(w.plans / "step2.tfplan", "-detailed-exitcode", ok=(0, 2))
    assert r.rc == 0, f"the second plan has changes (exit {r.rc}):\n{r.describe()}"
    w.plan_json["step2"] = plan
    assert set(h.by_action(plan)) == {"no-op"}, h.by_action(plan)


def test_02b_plan_json_grants_only_members_and_only_put_events(world):
    """moto enforces no authorization, so the grants are asserted on the plans: the first
    (nothing exists yet; the bus ARN is still unknown there) and the second (all known)."""
    assert_grants(world.plan_json["step1"], world.plan_json["step2"], world.expected)


def assert_grants(first: dict, second: dict, e: h.Expected) -> None:
    modules = e.spoke_modules()
    assert not e.queues_use_keys, "the scenario runs with SSE-SQS queues"

    for plan in (first, second):
        other = [a for a, rc in h.managed_changes(plan).items() if rc["type"] == "aws_cloudwatch_event_permission"]
        assert not other, f"bus permissions beside the bus policy (they overwrite each other): {other}"

    # The bus policy: one document on the intake bus, unknown in plan 1 (the bus does not
    # exist yet), and in plan 2 exactly PutEvents for the listed members, unconditioned.
    for plan in (first, second):
        policies = [a for a, rc in h.managed_changes(plan).items() if rc["type"] == "aws_cloudwatch_event_bus_policy"]
        assert policies == [h.BUS_POLICY_ADDRESS], policies
    assert h.managed_changes(first)[h.BUS_POLICY_ADDRESS]["change"]["after_unknown"].get("policy") is True
    values = {r["address"]: r["values"] for r in h.planned_resources(second)}
    bus_policy = values[h.BUS_POLICY_ADDRESS]
    assert bus_policy["event_bus_name"] == e.intake_bus, bus_policy
    assert h.canonical_policy(json.loads(bus_policy["policy"])) == h.canonical_policy(h.bus_policy(e.intake_arn, e.members))

    # Spoke roles: trusted by EventBridge only, for their own account's forwarding rule only.
    # The rule's ARN does not exist in plan 1: the trust must be unknown there, never a literal.
    roles = {a: rc for a, rc in h.managed_changes(first).items() if rc["type"] == "aws_iam_role"}
    assert {a.split(".")[1] for a in roles} == set(modules)
    for a, rc in roles.items():
        _, region = modules[a.split(".")[1]]
        assert rc["change"]["after_unknown"].get("assume_role_policy") is True, (a, rc["change"])
        assert rc["change"]["after"]["name"] == e.role_name(region)
    for r in h.planned_resources(second):
        if r["type"] == "aws_iam_role":
            account, region = modules[r["address"].split(".")[1]]
            trust = json.loads(r["values"]["assume_role_policy"])
            assert trust == h.trust_policy(account, e.spoke_rule_arn(account, region)), (r["address"], trust)

    # Role policies: in plan 1 the bus ARN does not exist yet, so the policy must be unknown
    # (computed from the bus), never a literal; in plan 2 it is exactly PutEvents on the bus.
    for a, rc in h.managed_changes(first).items():
        if rc["type"] == "aws_iam_role_policy":
            assert rc["change"]["after_unknown"].get("policy") is True, (a, rc["change"])
    policies = [r for r in h.planned_resources(second) if r["type"] == "aws_iam_role_policy"]
    assert {r["address"].split(".")[1] for r in policies} == set(modules)
    targets = {r["address"].split(".")[1]: r for r in h.planned_resources(second) if r["type"] == "aws_cloudwatch_event_target"}
    roles_now = {r["address"].split(".")[1]: r for r in h.planned_resources(second) if r["type"] == "aws_iam_role"}
    for r in policies:
        module = r["address"].split(".")[1]
        account, _ = modules[module]
        assert json.loads(r["values"]["policy"]) == h.put_events_policy(e.intake_arn), r
        assert r["values"]["role"] == roles_now[module]["values"]["name"]
        target = targets[module]["values"]
        assert target["arn"] == e.intake_arn and target["role_arn"] == roles_now[module]["values"]["arn"], target
        assert roles_now[module]["values"]["arn"].startswith(f"arn:aws:iam::{account}:role/")
    outputs = second["planned_values"]["outputs"]
    assert outputs["intake_bus_arn"]["value"] == e.intake_arn

    assert_emitted_delivery_policies(first, second, e)


def assert_emitted_delivery_policies(first: dict, second: dict, e: h.Expected) -> None:
    """The topic, dead-letter queue and key policies fanin's modules emit. The topic and queue
    policies name their topic, queue and rules, which do not exist in plan 1: they must be
    unknown there (never a literal). The hub key's policy names only the account and the
    service, so it is exact from plan 1 on. In plan 2 each is exactly its documented form,
    every target retries as documented and parks failures in its own account's queue,
    encrypted with SQS-managed keys; no spoke has a key."""
    unknown = 0
    for a, rc in h.managed_changes(first).items():
        if rc["type"] in {"aws_sns_topic_policy", "aws_sqs_queue_policy"} and a.startswith("module."):
            assert rc["change"]["after_unknown"].get("policy") is True, (a, rc["change"])
            unknown += 1
    # the topic policy, the hub's queue policy, and a queue policy per spoke
    assert unknown == 2 + len(e.spoke_modules()), unknown
    hub_key = "module.hub.aws_kms_key.hub[0]"
    first_key = h.managed_changes(first)[hub_key]["change"]["after"]
    assert h.canonical_policy(json.loads(first_key["policy"])) == h.canonical_policy(h.key_policy(e.hub_id, True, False))

    values = {r["address"]: r["values"] for r in h.planned_resources(second)}
    assert not [a for a in values if ".aws_kms_key." in a and a != hub_key], "a key other than the hub's"

    def policy(address: str) -> dict:
        return h.canonical_policy(json.loads(values[address]["policy"]))

    v = values[hub_key]
    assert v["enable_key_rotation"] is True and v["deletion_window_in_days"] == h.KEY_DELETION_DAYS, v
    assert v["key_usage"] == "ENCRYPT_DECRYPT" and v["customer_master_key_spec"] == "SYMMETRIC_DEFAULT", v
    assert policy(hub_key) == h.canonical_policy(h.key_policy(e.hub_id, True, False))
    assert policy("module.hub.aws_sns_topic_policy.findings") == h.canonical_policy(h.topic_policy(e))
    assert values["module.hub.aws_sns_topic.findings"]["kms_master_key_id"] == values[hub_key]["arn"]
    dlq = values["module.hub.aws_sqs_queue.dead_letter[0]"]
    # (an unset kms_master_key_id reads back as "")
    assert (dlq["name"], dlq["arn"], dlq["sqs_managed_sse_enabled"], dlq["kms_master_key_id"] or None,
            dlq["message_retention_seconds"]) == (e.hub_dlq, e.hub_dlq_arn, True, None, h.DLQ_RETENTION), dlq
    assert policy("module.hub.aws_sqs_queue_policy.dead_letter[0]") == h.canonical_policy(
        h.queue_policy(e.hub_dlq_arn, e.hub_rule_arns))
    for key in e.hub_rules():
        target = values[f'module.hub.aws_cloudwatch_event_target.findings_topic["{key}"]']
        assert_delivery(target, e.topic_arn, e.hub_dlq_arn)

    for module, (account, region) in e.spoke_modules().items():
        m = f"module.{module}"
        rule_arn = e.spoke_rule_arn(account, region)
        assert values[f"{m}.aws_cloudwatch_event_rule.finding"]["arn"] == rule_arn
        dlq = values[f"{m}.aws_sqs_queue.dead_letter[0]"]
        assert (dlq["name"], dlq["arn"], dlq["sqs_managed_sse_enabled"], dlq["kms_master_key_id"] or None,
                dlq["message_retention_seconds"]) == (
            e.spoke_dlq, e.spoke_dlq_arn(account, region), True, None, h.DLQ_RETENTION), dlq
        assert policy(f"{m}.aws_sqs_queue_policy.dead_letter[0]") == h.canonical_policy(
            h.queue_policy(e.spoke_dlq_arn(account, region), rule_arn)), module
        assert_delivery(values[f"{m}.aws_cloudwatch_event_target.hub_bus"], e.intake_arn,
                        e.spoke_dlq_arn(account, region))


def assert_delivery(target: dict, arn: str, dlq_arn: str) -> None:
    assert target["arn"] == arn, target
    assert target["retry_policy"] == [
        {"maximum_event_age_in_seconds": h.RETRY_POLICY["MaximumEventAgeInSeconds"],
         "maximum_retry_attempts": h.RETRY_POLICY["MaximumRetryAttempts"]}
    ], target
    assert target["dead_letter_config"] == [{"arn": dlq_arn}], target


def test_02c_parliament_finds_nothing_in_any_policy_the_modules_emit(world):
    """Every policy document of the applied tree (bus, topic, queue and key policies, the
    spokes' role trust and role policies), linted by parliament as tests/deploy_role.rs lints
    the deploy role."""
    w = world
    resources = h.state_resources(w.engine)
    policies = h.emitted_policies(resources)
    linted = {r["type"] for r in resources if r["address"] in policies}
    # The findings log group's resource policy is the buses scenario's ([notify] log_days).
    assert linted == set(h.POLICY_HOLDERS) - {"aws_cloudwatch_log_resource_policy"}, sorted(linted)
    h.assert_parliament_finds_nothing(policies, w.home / "parliament-step2")


# ------------------------------------------------------------------------------ step 3
def test_03_findings_travel_from_every_member_region_to_the_hub_topic(world):
    """Findings on the default bus of every account and region with a spoke (members across
    accounts and regions, the profile-based sandbox, the hub's own extra region) and on the
    hub's own default bus arrive at the hub topic exactly once each; a deleted one does not."""
    w = world
    h.assert_findings_arrive(w.aws, w.expected, h.every_sender(w.expected), deleted_from=(PROD, "eu-west-1"))


def test_03b_a_failed_delivery_lands_in_its_dead_letter_queue(world):
    """Needs the moto extension's FAILURE INJECTION (moto_server.py, 3.): moto never fails a
    delivery. What this shows is fanin's wiring, not EventBridge's retries: the dead-letter
    queue each applied target names exists in the right account and region and receives the
    failed event (with the rule and target that failed), the event goes no further, and no
    other queue gets anything. A publish to the hub topic that fails for a member's finding (intake rule) and
    for the hub's own (local rule) lands in the hub's queue; a forward to the hub that fails in
    the sandbox's us-east-1 lands in that spoke's queue, and never reaches the hub."""
    w = world
    e = w.expected
    hub_sqs = w.aws.client(e.hub_id, "sqs", e.hub_region)
    test_queue = hub_sqs.get_queue_url(QueueName=h.TEST_QUEUE)["QueueUrl"]
    rules = e.hub_rules()
    # sender -> (failing target id, queue that must get it, rule ARN, target ARN)
    cases = {
        (PROD, "eu-west-1"): ("findings-topic", (e.hub_id, e.hub_region), rules["intake"][2], e.topic_arn),
        (HUB, "eu-west-1"): ("findings-topic", (e.hub_id, e.hub_region), rules["local"][2], e.topic_arn),
        (SANDBOX, "us-east-1"): ("hub-intake-bus", (SANDBOX, "us-east-1"), e.spoke_rule_arn(SANDBOX, "us-east-1"),
                                 e.intake_arn),
    }
    queues = {}  # (account, region, name) -> (client, URL) of every dead-letter queue there is
    for account, regions in e.spokes.items():
        for region in regions:
            sqs = w.aws.client(account, "sqs", region)
            queues[(account, region, e.spoke_dlq)] = (sqs, sqs.get_queue_url(QueueName=e.spoke_dlq)["QueueUrl"])
    queues[(e.hub_id, e.hub_region, e.hub_dlq)] = (hub_sqs, hub_sqs.get_queue_url(QueueName=e.hub_dlq)["QueueUrl"])
    for (account, region, name), (sqs, url) in queues.items():
        assert h.drain(sqs, url) == [], f"{account}/{region}/{name} is not empty before the step"

    wanted = {}
    for (account, region), (target_id, (qa, qr), rule_arn, target_arn) in cases.items():
        fid, entry = h.finding(account, deleted=False)
        detail = json.loads(entry["Detail"])
        detail["e2eFailTarget"] = target_id  # TEST ONLY: the extension's failure injection
        entry["Detail"] = json.dumps(detail)
        r = w.aws.client(account, "events", region).put_events(Entries=[entry])
        assert r["FailedEntryCount"] == 0, r
        queue = e.hub_dlq if (qa, qr) == (e.hub_id, e.hub_region) else e.spoke_dlq
        wanted[fid] = ((account, region), (qa, qr, queue), rule_arn, target_arn)

    # The extension delivers (and dead-letters) inside PutEvents: all is there already.
    got = {key: h.drain(sqs, url) for key, (sqs, url) in queues.items()}
    delivered = h.poll_queue(hub_sqs, test_queue, 1)
    assert delivered == [], f"a failed delivery still reached the topic: {delivered}"

    for fid, ((account, region), queue, rule_arn, target_arn) in wanted.items():
        found = [m for m in got[queue] if json.loads(m["Body"])["detail"]["id"] == fid]
        assert len(found) == 1, f"the failed finding from {account}/{region} is in {queue} {len(found)} times"
        event = json.loads(found[0]["Body"])
        assert (event["account"], event["region"], event["detail"]["accountId"]) == (account, region, account), event
        attrs = {k: v["StringValue"] for k, v in found[0]["MessageAttributes"].items()}
        assert attrs["RULE_ARN"] == rule_arn, attrs
        assert attrs["TARGET_ARN"] == target_arn, attrs
        assert attrs["ERROR_CODE"] and attrs["ERROR_MESSAGE"], attrs
    # Nothing else in any dead-letter queue: exactly one message per failed delivery, each
    # in its own queue (checked above), none anywhere else.
    where = sorted((q, json.loads(m["Body"])["detail"]["id"]) for q, ms in got.items() for m in ms)
    assert where == sorted((queue, fid) for fid, (_, queue, _, _) in wanted.items()), where


# ------------------------------------------------------------------------------ step 4
def test_04_adding_ten_members_in_one_apply_only_adds_and_lists_all_ten(world):
    """Ten members in one apply: their spokes are created and the one bus policy is updated in
    place to list all of them (one aws_cloudwatch_event_permission each would be ten parallel
    PutPermission calls, of which AWS may keep only the last)."""
    w = world
    text = w.text
    for key, account, regions in h.NEW_MEMBERS:
        text = h.add_member(text, key, account, regions)
    before = set(w.expected.members)
    steps.regenerate(w, text)
    assert {p["alias"] for p in steps.providers(w)} == steps.expected_aliases(w.expected)
    assert w.expected.members == before | set(NEW_IDS)
    steps.write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step4.tfplan")
    assert_only_adds(plan, w.expected, NEW_IDS)

    w.engine("apply", "-input=false", "-no-color", str(w.plans / "step4.tfplan"))
    assert_landed(w, "after adding ten members")  # the bus policy lists exactly the members
    bus_policy = w.listing[HUB]["bus_policies"][(w.expected.hub_region, w.expected.intake_bus)]
    principals = [p for st in bus_policy["Statement"] for p in st["Principal"]["AWS"]]
    assert len(principals) == 3 + 10 and {f"arn:aws:iam::{a}:root" for a in NEW_IDS} <= set(principals), principals


def assert_only_adds(plan: dict, e: h.Expected, new_ids: list[str]) -> None:
    """Creates exactly the new members' spokes; the bus policy is the only update."""
    actions = h.by_action(plan)
    assert set(actions) <= {"create", "update", "no-op"}, f"adding members must not replace or delete: {sorted(actions)}"
    assert actions.get("update", set()) == {h.BUS_POLICY_ADDRESS}, f"updates: {sorted(actions.get('update', set()))}"
    want = set()
    for module, (account, _) in e.spoke_modules().items():
        if account in new_ids:
            want |= h.spoke_addresses(module, e)
    # 11 regions (dev's two, one each for the nine others) x 6 spoke resources
    assert len(want) == 6 * sum(len(regions) for _, _, regions in h.NEW_MEMBERS) == 66, sorted(want)
    assert actions.get("create", set()) == want, (
        f"creates {sorted(actions.get('create', set()) ^ want)} differ from the new members' resources"
    )
    moved = [rc["address"] for rc in h.managed_changes(plan).values() if rc.get("previous_address")]
    assert not moved, f"nothing moves when members are added: {moved}"


# ------------------------------------------------------------------------------ step 5
def test_05_renaming_a_member_destroys_nothing(world):
    w = world
    before = w.expected.spoke_modules()
    steps.regenerate(w, h.rename_member(w.text, "prod", "production"))
    assert (w.tree / "moves.tf").is_file(), "a rename must emit moves.tf"
    steps.write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step5.tfplan")
    assert_only_moves(plan, before, PROD, "prod", "production", w.expected)

    w.engine("apply", "-input=false", "-no-color", str(w.plans / "step5.tfplan"))
    assert_landed(w, "after renaming a member")
    w.engine.plan_no_changes()


def assert_only_moves(plan: dict, before: dict, account_id: str, old: str, new: str, e: h.Expected) -> None:
    """Zero deletes (nor creates): every resource of the renamed account only moves."""
    actions = h.by_action(plan)
    assert "delete" not in actions, f"a rename destroys {sorted(actions['delete'])}"
    assert set(actions) == {"no-op"}, f"a rename only moves: {sorted(actions)}"
    moves = {
        (rc["previous_address"], a) for a, rc in h.managed_changes(plan).items() if rc.get("previous_address")
    }
    want = set()
    for module, (account, region) in before.items():
        if account == account_id:
            to = module.replace(f"spoke_{old}_", f"spoke_{new}_", 1)
            want |= {(f"module.{module}.{r}", f"module.{to}.{r}") for r in h.spoke_resources(e)}
    # prod's 3 regions x 6 spoke resources (moves.tf moves whole modules, so the queue and its
    # policy move with the rule, target, role and role policy)
    assert len(want) == 18, sorted(want)
    assert moves == want, f"moves {sorted(moves ^ want)} differ"


# ------------------------------------------------------------------------------ step 6
def test_06a_retiring_a_member_destroys_only_its_resources(world):
    w = world
    steps.regenerate(w, h.retire_member(w.text, "staging"))
    aliases = {p["alias"] for p in steps.providers(w)}
    assert "staging_eu_west_1" in aliases, "a retired member keeps its provider until removed"
    steps.write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step6.tfplan")
    assert_only_retires(plan, ["spoke_staging_eu_west_1"], w.expected)

    w.engine("apply", "-input=false", "-no-color", str(w.plans / "step6.tfplan"))
    left = h.comparable(w.aws.snapshot([STAGING]))[STAGING]
    assert left == h.empty_account(), f"the retired member still holds {h.snapshot_diff({STAGING: left}, {STAGING: h.empty_account()})}"
    assert_landed(w, "after retiring a member")  # and the hub's bus policy no longer lists it


def assert_only_retires(plan: dict, modules: list[str], e: h.Expected) -> None:
    """Deletes exactly the account's spoke resources; the bus policy (now without the account)
    is the only update; nothing else changes."""
    actions = h.by_action(plan)
    assert set(actions) == {"delete", "update", "no-op"}, sorted(actions)
    assert actions["update"] == {h.BUS_POLICY_ADDRESS}, sorted(actions["update"])
    want = set()
    for module in modules:
        want |= h.spoke_addresses(module, e)
    assert len(want) == 6 * len(modules), sorted(want)
    assert actions["delete"] == want, f"deletes {sorted(actions['delete'] ^ want)} differ"


def test_06b_removing_the_retired_member_changes_nothing(world):
    w = world
    # The retirement was applied in step 6, so the removal is confirmed as the README says.
    steps.regenerate(w, h.remove_member(w.text, "staging"), "--retired-applied")
    aliases = {p["alias"] for p in steps.providers(w)}
    assert not [a for a in aliases if a.startswith("staging_")], aliases
    steps.write_test_files(w)
    w.engine.plan_no_changes()
    assert_landed(w, "after removing the retired member")


def test_06c_removing_an_unretired_member_is_refused(world):
    w = world
    before = h.tree_hashes(w.tree)
    w.inventory.write_text(h.remove_member(w.text, "sandbox"))
    try:
        r = w.generate()
    finally:
        w.inventory.write_text(w.text)
    assert r.rc == 2, f"removing an unretired member must exit 2:\n{r.describe()}"
    assert "sandbox" in r.stderr and SANDBOX in r.stderr, r.stderr
    assert "retired" in r.stderr, r.stderr
    assert h.tree_hashes(w.tree) == before, "a refused generate changed the tree"


# ------------------------------------------------------------------------------ step 7
def test_07_regenerating_unchanged_writes_nothing_and_plans_nothing(world):
    w = world
    r = steps.regenerate(w, w.text)
    assert "0 written, 0 deleted" in r.stdout, r.describe()
    check = w.fanin("check", str(w.inventory), "--out", str(w.tree))
    assert check.rc == 0, f"fanin check on the tree it just wrote (with the test's own files):\n{check.describe()}"
    w.engine.plan_no_changes()


# ------------------------------------------------------------------------------ step 8
def test_08_destroy_leaves_every_account_empty(world):
    """Empty but for the hub's key, scheduled for deletion in 30 days, which is all KMS does on
    delete. It is the only key there was: the spokes' queues use SQS-managed keys."""
    w = world
    keys = h.live_keys(w.listing)
    want_live = h.expected_snapshot(w.expected, ALL_ACCOUNTS, steps.emails(w))
    assert sum(map(len, keys.values())) == sum(len(a["kms_keys"]) for a in want_live.values()) == 1, keys
    assert len(keys[HUB]) == 1, keys
    w.engine("destroy", "-auto-approve", "-input=false", "-no-color")
    left = w.engine("state", "list").stdout.split()
    assert left == [], f"state still holds {left}"
    for account, live in keys.items():
        w.pending_keys.setdefault(account, set()).update(live)
    got = h.comparable(w.aws.snapshot(ALL_ACCOUNTS))
    want = {a: h.empty_account() for a in ALL_ACCOUNTS}
    for account, pending in w.pending_keys.items():
        for region, arn in pending:
            want[account]["kms_keys"][(region, ("pending deletion", arn))] = h.pending_key()
    assert got == want, f"left behind after destroy:\n{h.snapshot_diff(got, want)}"


# ------------------------------------------------------------------------------ step 9
def test_09_the_deploy_role_grants_every_call_the_engine_made(world):
    """Every call of every step above (plans, applies, the rename, the retirement, destroy), in
    each account, is an action the deploy role grants there, with the parameters the tree's
    deploy-role/README.md prints. Only the action is checked: moto evaluates no policy, so the
    resource patterns are checked against the modules' names in tests/deploy_role.rs."""
    w = world
    grants = h.deploy_role_grants(w.tree)
    assert HUB in grants, grants.keys()
    # Members removed along the way (staging) are no longer listed: any member form covers
    # them, since the settings did not change.
    any_member = set().union(*(g for account, g in grants.items() if account != HUB))
    calls = h.engine_calls(w.moto)
    # The source credentials of assume_role act in moto's default account: only STS there.
    elsewhere = {c for a, c in calls if a == h.MOTO_DEFAULT_ACCOUNT}
    assert elsewhere <= h.NEEDS_NO_GRANT, elsewhere
    checked = [(a, c) for a, c in calls if a != h.MOTO_DEFAULT_ACCOUNT and c not in h.NEEDS_NO_GRANT]
    assert len(checked) > 100, f"too few calls recorded to prove anything: {len(checked)}"
    denied = sorted({(a, c) for a, c in checked if c not in grants.get(a, any_member)})
    assert not denied, f"the deploy role would deny: {denied}"
    services = {c.split(":")[0] for _, c in checked}
    assert {"events", "iam", "sqs", "sns", "kms"} <= services, services
