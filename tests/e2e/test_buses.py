"""fanin end to end with two intake buses: the multi-region example with a `bus_policy_quota`
small enough that its three members need two buses (two on the first, one on the second),
the other encryption choices than the lifecycle's (dead-letter queues with customer-managed
keys, `sse-kms`, and an unencrypted topic, so that every statement a key policy can hold is
applied and linted in one scenario or the other), the hub's findings queue (`[notify]
queue`, with the hub's key), which gets every finding as EventBridge sent it, and a line of
text per finding on the topic (`[notify] format = "text"`), asserted word for word, and every
finding source (`[findings] sources`, with `min_severity = "HIGH"`) and a custom pattern
(Macie's High findings): an event of each passes its hub rule and one does not, from members
on both buses and from the hub itself; and an EventBridge archive of every bus with finding
rules (`[notify] archive_days`), each intake bus's holding the findings forwarded there, and
the findings log group (`[notify] log_days`), which gets every event the hub's rules take.
Applied, every account holds exactly what the inventory says (each bus's policy lists its own
members, each spoke targets its bus), findings from members on both buses reach the hub's
topic, a new member joins the bus with room and changes nothing but its own spokes and that
bus's policy, and a destroy leaves every account empty.

The steps run in file order and share one session (see conftest.py). Run with scripts/e2e.
"""

from __future__ import annotations

import json
import tomllib

import pytest

import harness as h
import steps

pytestmark = pytest.mark.step

HUB, PROD, STAGING, SANDBOX, EXTRA = "111111111111", "222222222222", "333333333333", "444444444444", "555555555555"
ALL_ACCOUNTS = [HUB, PROD, STAGING, SANDBOX, EXTRA, h.MOTO_DEFAULT_ACCOUNT]


def two_bus_inventory_text() -> str:
    """The example with the quota of a second-bus policy naming two members: the first bus
    (whose name is two characters shorter) takes two members, the second the third and has
    room for one more."""
    text = h.base_inventory_text()
    e = h.expected_from(text)
    quota = len(json.dumps(h.bus_policy(e.bus_arn(2), [PROD, STAGING]), separators=(",", ":"), sort_keys=True))
    text = text.replace("[settings]\n", f'[settings]\nbus_policy_quota = {quota}\ndead_letter_queue_encryption = "sse-kms"\n', 1)
    text = text.replace("[notify]\n", "[notify]\nencrypt_topic = false\nqueue = true\nformat = \"text\"\narchive_days = 30\nlog_days = 365\n", 1)
    sources = ", ".join(f'"{source}"' for source in h.SOURCES)
    findings = (f'[findings]\nsources = [{sources}]\nmin_severity = "HIGH"\n\n'
                f"[findings.custom_patterns]\nmacie = '{h.MACIE_PATTERN}'\n\n")
    return h.checked(text.replace("[tags]\n", findings + "[tags]\n", 1))


def assert_landed(w, why: str) -> None:
    steps.assert_landed(w, ALL_ACCOUNTS, why)


def test_00_two_buses_are_generated_and_reported(world):
    w = world
    r = steps.regenerate(w, two_bus_inventory_text())
    e = w.expected
    assert e.buses == {1: [PROD, STAGING], 2: [SANDBOX]}, e.buses
    assert e.queues_use_keys and not e.encrypt_topic and e.findings_queue_uses_key and e.text_messages, (
        "the scenario runs with sse-kms, a plain topic, the findings queue and text messages")
    quota = tomllib.loads(w.text)["settings"]["bus_policy_quota"]
    assert f"intake bus {e.bus_name(1)}: 2 members, policy " in r.stdout, r.describe()
    assert f"intake bus {e.bus_name(2)}: 1 member, policy " in r.stdout, r.describe()
    assert f" of {quota} characters" in r.stdout, r.describe()


def test_01_both_buses_are_applied_each_with_its_own_members(world):
    w = world
    steps.write_test_files(w)
    plan, _ = w.engine.plan_json(w.plans / "buses1.tfplan")
    actions = h.by_action(plan)
    assert set(actions) == {"create"}, sorted(actions)
    want = h.hub_addresses(w.expected, steps.emails(w)) | h.TEST_ONLY_ADDRESSES
    for module in w.expected.spoke_modules():
        want |= h.spoke_addresses(module, w.expected)
    assert actions["create"] == want, (
        f"missing {sorted(want - actions['create'])}, unexpected {sorted(actions['create'] - want)}"
    )
    assert 'module.hub.aws_cloudwatch_event_rule.finding["intake-2"]' in want
    w.engine("apply", "-input=false", "-no-color", str(w.plans / "buses1.tfplan"))
    # Each bus's policy lists exactly its members, each spoke targets (and its role may put
    # events on) its own bus, the dead-letter queue takes every finding rule's failures.
    assert_landed(w, "after applying two buses")


def test_01b_parliament_finds_nothing_in_any_policy_the_modules_emit(world):
    """As in the lifecycle, here with the keys of sse-kms queues (the hub's and each spoke's)
    and both intake buses' policies."""
    w = world
    resources = h.state_resources(w.engine)
    policies = h.emitted_policies(resources)
    linted = {r["type"] for r in resources if r["address"] in policies}
    assert linted == set(h.POLICY_HOLDERS), sorted(linted)
    assert any(".aws_kms_key.dead_letter[0]" in a for a in policies), sorted(policies)
    h.assert_parliament_finds_nothing(policies, w.home / "parliament-buses")


def test_02_findings_from_members_on_both_buses_reach_the_topic_and_the_queue(world):
    w = world
    senders = h.every_sender(w.expected)
    assert {w.expected.bus_of(a) for a, _ in senders if a != HUB} == {1, 2}, senders
    h.assert_findings_arrive(w.aws, w.expected, senders, deleted_from=(SANDBOX, w.expected.hub_region))
    h.assert_archives_hold_findings(w.aws, w.expected)


def test_02b_every_source_reaches_the_queue_and_the_topic_past_its_filter(world):
    """One event of each source, and one each that its filter stops, from a member on each
    bus and from the hub's own default bus."""
    w = world
    senders = [(PROD, w.expected.hub_region), (SANDBOX, "us-east-1"), (HUB, w.expected.hub_region)]
    assert {w.expected.bus_of(a) for a, _ in senders if a != HUB} == {1, 2}, senders
    for account, region in senders:
        h.assert_every_source_arrives(w.aws, w.expected, account, region)


def test_03_a_new_member_joins_the_bus_with_room_and_changes_nothing_else(world):
    w = world
    steps.regenerate(w, h.add_member(w.text, "extra", EXTRA, [w.expected.hub_region]))
    assert w.expected.buses == {1: [PROD, STAGING], 2: [SANDBOX, EXTRA]}, w.expected.buses
    steps.write_test_files(w)
    plan, _ = w.engine.plan_json(w.plans / "buses3.tfplan")
    actions = h.by_action(plan)
    new = set()
    for module, (account, _) in w.expected.spoke_modules().items():
        if account == EXTRA:
            new |= h.spoke_addresses(module, w.expected)
    assert set(actions) <= {"create", "update", "no-op"}, sorted(actions)
    assert actions.get("create") == new, sorted(actions.get("create", set()) ^ new)
    assert actions.get("update") == {'module.hub.aws_cloudwatch_event_bus_policy.additional_intake["2"]'}, (
        sorted(actions.get("update", set()))
    )
    w.engine("apply", "-input=false", "-no-color", str(w.plans / "buses3.tfplan"))
    assert_landed(w, "after adding a member")
    h.assert_findings_arrive(w.aws, w.expected, [(EXTRA, w.expected.hub_region), (PROD, w.expected.hub_region)])


def test_04_destroy_leaves_every_account_empty(world):
    w = world
    keys = h.live_keys(w.listing)
    w.engine("destroy", "-auto-approve", "-input=false", "-no-color")
    assert w.engine("state", "list").stdout.split() == []
    for account, live in keys.items():
        w.pending_keys.setdefault(account, set()).update(live)
    got = h.comparable(w.aws.snapshot(ALL_ACCOUNTS))
    want = {a: h.empty_account() for a in ALL_ACCOUNTS}
    for account, pending in w.pending_keys.items():
        for region, arn in pending:
            want[account]["kms_keys"][(region, ("pending deletion", arn))] = h.pending_key()
    assert got == want, f"left behind after destroy:\n{h.snapshot_diff(got, want)}"


def test_05_the_deploy_role_grants_every_call_the_engine_made(world):
    """As the lifecycle's step 9, here with the two buses, the sse-kms keys, the findings queue,
    the archives and the findings log group: every call the engine made in every step above, in
    each account, is an action the deploy role grants there, with the parameters the tree's
    deploy-role/README.md prints."""
    w = world
    grants = h.deploy_role_grants(w.tree)
    assert HUB in grants, grants.keys()
    calls = h.engine_calls(w.moto)
    elsewhere = {c for a, c in calls if a == h.MOTO_DEFAULT_ACCOUNT}
    assert elsewhere <= h.NEEDS_NO_GRANT, elsewhere
    checked = [(a, c) for a, c in calls if a != h.MOTO_DEFAULT_ACCOUNT and c not in h.NEEDS_NO_GRANT]
    assert len(checked) > 100, f"too few calls recorded to prove anything: {len(checked)}"
    denied = sorted({(a, c) for a, c in checked if c not in grants[a]})
    assert not denied, f"the deploy role would deny: {denied}"
    services = {c.split(":")[0] for _, c in checked}
    assert {"events", "iam", "sqs", "sns", "kms", "logs"} <= services, services
