"""fanin end to end: generate the multi-region example, plan and apply it with the real engine
against a fake AWS (moto on 127.0.0.1), then take it through its lifecycle (add, rename,
retire, remove, regenerate, destroy), asserting every step on the plan JSON and on what exists
in every fake account.

The steps run in file order and share one session (see conftest.py). Run with scripts/e2e.
"""

from __future__ import annotations

import json
import time
import tomllib
import uuid

import pytest

import harness as h

pytestmark = pytest.mark.step

HUB, PROD, STAGING, SANDBOX = "111111111111", "222222222222", "333333333333", "444444444444"
NEW_KEY, NEW_ID, NEW_REGIONS = h.NEW_MEMBER
ALL_ACCOUNTS = [HUB, PROD, STAGING, SANDBOX, NEW_ID, h.MOTO_DEFAULT_ACCOUNT]


# ------------------------------------------------------------------------------ helpers
def emails(w) -> list[str]:
    return tomllib.loads(w.text)["notify"]["emails"]


def assert_landed(w, why: str) -> None:
    """Every listed account holds exactly what the inventory says, nothing more (keys that an
    earlier apply scheduled for deletion included), and every applied policy is as narrow as
    the wiring that exists allows."""
    assert w.expected.dead_letter and w.expected.encrypt_topic, "the scenario runs with the defaults"
    want = h.expected_snapshot(w.expected, ALL_ACCOUNTS, emails(w), w.pending_keys)
    listing = w.aws.snapshot(ALL_ACCOUNTS)
    diff = h.snapshot_diff(h.comparable(listing), want)
    assert not diff, f"{why}: what exists in moto differs from the inventory:\n{diff}"
    problems = h.least_privilege_problems(listing, w.expected)
    assert not problems, f"{why}: applied policies grant more than needed:\n" + "\n".join(problems)
    w.listing = listing


def providers(w) -> list[dict]:
    return h.parse_providers((w.tree / "providers.tf").read_text())


def assert_test_files_untouched(w) -> None:
    """fanin never deletes or rewrites a file it did not write."""
    for name, digest in w.test_files.items():
        path = w.tree / name
        assert path.is_file(), f"fanin deleted {name}, a file it did not write"
        assert h.sha256(path) == digest, f"fanin rewrote {name}, a file it did not write"


def write_test_files(w) -> None:
    """The override file (regenerated when the aliases change: it is the test's own file) and
    the test-only resources, with their hashes recorded; then `init`."""
    provs = providers(w)
    # Every alias is pinned to exactly one account: allowed_account_ids is what proves each
    # alias landed in its own account during plan/apply.
    for p in provs:
        assert len(p["accounts"]) == 1, p
        assert p["profile"] or p["assume_role"], f"{p['alias']}: neither assume_role nor profile"
    ensure_profiles(w, provs)
    hub_alias = next(
        p["alias"] for p in provs if p["accounts"] == [w.expected.hub_id] and p["region"] == w.expected.hub_region
    )
    (w.tree / h.OVERRIDE_TF).write_text(h.override_text(provs, w.moto.url))
    (w.tree / h.TEST_ONLY_TF).write_text(h.extra_resources_text(hub_alias))
    w.test_files = {name: h.sha256(w.tree / name) for name in (h.OVERRIDE_TF, h.TEST_ONLY_TF)}
    # As users do after generate: a new module block (a new spoke) needs init.
    w.engine("init", "-input=false", "-no-color")


def ensure_profiles(w, provs: list[dict]) -> None:
    """Profile-based aliases (the sandbox) get their keys from the test's shared credentials
    file. No assume_role override is needed: the keys belong to an IAM user that the test
    creates in that account in moto, and moto attributes requests signed with them to it."""
    for p in provs:
        name = p["profile"]
        if not name or name in w.profiles:
            continue
        account = p["accounts"][0]
        key, secret = w.aws.profile_keys(account, h.SANDBOX_USER)
        creds = w.home / "aws" / "credentials"
        creds.write_text(
            creds.read_text() + f"[{name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
        )
        w.profiles[name] = account


def regenerate(w, text: str) -> h.Run:
    w.write_inventory(text)
    r = w.generate()
    assert r.rc == 0, f"fanin generate failed:\n{r.describe()}"
    assert_test_files_untouched(w)
    w.expected = h.expected_from(text)
    return r


def expected_aliases(e: h.Expected) -> set[str]:
    out = {f"{e.keys[e.hub_id]}_{e.hub_region.replace('-', '_')}"}
    for account, regions in e.spokes.items():
        out |= {f"{e.keys[account]}_{r.replace('-', '_')}" for r in regions}
    return out


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

    provs = providers(w)
    assert {p["alias"] for p in provs} == expected_aliases(w.expected)
    assert any(p["profile"] for p in provs), "the example should exercise a profile-based alias"
    write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step1.tfplan")
    w.plan_json["step1"] = plan
    actions = h.by_action(plan)
    assert set(actions) == {"create"}, f"a first plan only creates: {sorted(actions)}"
    assert not [a for a in actions["create"] if "accessanalyzer" in a], "analyzers are switched off for moto"

    # Exactly the hub, every spoke and the test's own three resources: with the example's
    # 3 members, 2 emails, dead-letter queues and an encrypted topic, 15 in the hub (bus, 3
    # permissions, topic, topic policy, 2 subscriptions, 2 rules, 2 targets, key, queue, queue
    # policy) + 7 spokes x 7 (rule, target, role, role policy, queue, queue policy, key) + 3 = 67.
    want = h.hub_addresses(w.expected, emails(w)) | h.TEST_ONLY_ADDRESSES
    for module in w.expected.spoke_modules():
        want |= h.spoke_addresses(module, w.expected)
    assert actions["create"] == want, (
        f"the first plan's creates differ: missing {sorted(want - actions['create'])}, "
        f"unexpected {sorted(actions['create'] - want)}"
    )
    assert len(want) == 67, len(want)

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

    for plan in (first, second):
        other = [a for a, rc in h.managed_changes(plan).items() if rc["type"] == "aws_cloudwatch_event_bus_policy"]
        assert not other, f"another way to grant access to a bus: {other}"

    # Bus permissions: one per listed member, PutEvents only, on the intake bus, unconditioned.
    for plan in (first, second):
        perms = {a: rc for a, rc in h.managed_changes(plan).items() if rc["type"] == "aws_cloudwatch_event_permission"}
        assert all(a.startswith("module.hub.") for a in perms), sorted(perms)
        principals = {rc["change"]["after"]["principal"] for rc in perms.values()}
        assert principals == e.members, f"bus permissions for {sorted(principals)}, members are {sorted(e.members)}"
        assert e.hub_id not in principals and "*" not in principals
        for a, rc in perms.items():
            after = rc["change"]["after"]
            assert after["action"] == "events:PutEvents", (a, after)
            assert after["event_bus_name"] == e.intake_bus, (a, after)
            assert not after.get("condition"), (a, after)

    # Spoke roles: trusted by EventBridge only, for their own account only (known in plan 1).
    roles = {a: rc for a, rc in h.managed_changes(first).items() if rc["type"] == "aws_iam_role"}
    assert {a.split(".")[1] for a in roles} == set(modules)
    for a, rc in roles.items():
        account, region = modules[a.split(".")[1]]
        trust = json.loads(rc["change"]["after"]["assume_role_policy"])
        assert trust == h.trust_policy(account), (a, trust)
        assert rc["change"]["after"]["name"] == e.role_name(region)

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
    """The topic, dead-letter queue and key policies fanin's modules emit: in plan 1 they
    depend on rule ARNs that do not exist yet, so they must be unknown (never a literal); in
    plan 2 each is exactly its expected statements, every target retries as documented and
    parks failures in its own account's queue, encrypted with its own key."""
    unknown = 0
    for a, rc in h.managed_changes(first).items():
        if rc["type"] in {"aws_sns_topic_policy", "aws_sqs_queue_policy", "aws_kms_key"} and a.startswith("module."):
            assert rc["change"]["after_unknown"].get("policy") is True, (a, rc["change"])
            unknown += 1
    # the topic policy, the hub's key and queue policy, and a key and queue policy per spoke
    assert unknown == 3 + 2 * len(e.spoke_modules()), unknown

    values = {r["address"]: r["values"] for r in h.planned_resources(second)}

    def policy(address: str) -> dict:
        return h.canonical_policy(json.loads(values[address]["policy"]))

    def key_settings(address: str) -> None:
        v = values[address]
        assert v["enable_key_rotation"] is True and v["deletion_window_in_days"] == h.KEY_DELETION_DAYS, (address, v)
        assert v["key_usage"] == "ENCRYPT_DECRYPT" and v["customer_master_key_spec"] == "SYMMETRIC_DEFAULT", (address, v)

    hub_key = "module.hub.aws_kms_key.hub[0]"
    assert policy("module.hub.aws_sns_topic_policy.findings") == h.canonical_policy(h.topic_policy(e))
    assert policy(hub_key) == h.canonical_policy(h.key_policy(e.hub_id, "FindingRulesEncrypt", e.hub_rule_arns))
    key_settings(hub_key)
    assert values["module.hub.aws_sns_topic.findings"]["kms_master_key_id"] == values[hub_key]["arn"]
    dlq = values["module.hub.aws_sqs_queue.dead_letter[0]"]
    assert (dlq["name"], dlq["arn"], dlq["kms_master_key_id"], dlq["message_retention_seconds"]) == (
        e.hub_dlq, e.hub_dlq_arn, values[hub_key]["arn"], h.DLQ_RETENTION), dlq
    assert policy("module.hub.aws_sqs_queue_policy.dead_letter[0]") == h.canonical_policy(
        h.queue_policy(e.hub_dlq_arn, e.hub_rule_arns))
    for key in e.hub_rules():
        target = values[f'module.hub.aws_cloudwatch_event_target.findings_topic["{key}"]']
        assert_delivery(target, e.topic_arn, e.hub_dlq_arn)

    for module, (account, region) in e.spoke_modules().items():
        m = f"module.{module}"
        rule_arn = e.spoke_rule_arn(account, region)
        assert values[f"{m}.aws_cloudwatch_event_rule.finding"]["arn"] == rule_arn
        key = f"{m}.aws_kms_key.dead_letter[0]"
        assert policy(key) == h.canonical_policy(h.key_policy(account, "RuleEncryptsDeadLetters", rule_arn)), module
        key_settings(key)
        assert values[key]["arn"].startswith(f"arn:aws:kms:{region}:{account}:key/"), values[key]["arn"]
        dlq = values[f"{m}.aws_sqs_queue.dead_letter[0]"]
        assert (dlq["name"], dlq["arn"], dlq["kms_master_key_id"], dlq["message_retention_seconds"]) == (
            e.spoke_dlq, e.spoke_dlq_arn(account, region), values[key]["arn"], h.DLQ_RETENTION), dlq
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


# ------------------------------------------------------------------------------ step 3
def finding(account: str, deleted: bool) -> tuple[str, dict]:
    finding_id = str(uuid.uuid4())
    bucket = f"arn:aws:s3:::e2e-shared-{finding_id[:8]}"
    detail = {
        "version": "1.0",
        "id": finding_id,
        "status": "ACTIVE",
        "resourceType": "AWS::S3::Bucket",
        "resource": bucket,
        "accountId": account,
        "principal": {"AWS": "999999999999"},
        "action": ["s3:GetObject"],
        "isPublic": False,
        "isDeleted": deleted,
    }
    entry = {
        "Source": "aws.access-analyzer",
        "DetailType": "Access Analyzer Finding",
        "Detail": json.dumps(detail),
        "Resources": [bucket],
    }
    return finding_id, entry


def test_03_a_finding_travels_from_a_member_to_the_hub_topic(world):
    w = world
    e = w.expected
    sqs = w.aws.client(e.hub_id, "sqs", e.hub_region)
    queue = sqs.get_queue_url(QueueName=h.TEST_QUEUE)["QueueUrl"]
    assert h.poll_queue(sqs, queue, 1) == [], "the test queue is not empty before the step"

    # Findings on default buses: members (cross-account, cross-region, the profile-based
    # sandbox) and the hub's own account (its local rule and its us-east-1 spoke).
    senders = [(PROD, "eu-west-1"), (PROD, "ap-northeast-1"), (SANDBOX, "us-east-1"),
               (HUB, "eu-west-1"), (HUB, "us-east-1")]
    wanted: dict[str, tuple[str, str]] = {}
    for account, region in senders:
        fid, entry = finding(account, deleted=False)
        r = w.aws.client(account, "events", region).put_events(Entries=[entry])
        assert r["FailedEntryCount"] == 0, r
        wanted[fid] = (account, region)
    deleted_id, entry = finding(PROD, deleted=True)
    r = w.aws.client(PROD, "events", "eu-west-1").put_events(Entries=[entry])
    assert r["FailedEntryCount"] == 0, r

    messages: list[dict] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(messages) < len(wanted):
        messages += h.poll_queue(sqs, queue, 1)
    messages += h.poll_queue(sqs, queue, 3)  # room for a late duplicate or a deleted finding

    arrived: dict[str, list[dict]] = {}
    for m in messages:
        assert m.get("TopicArn") == e.topic_arn, f"not from the hub topic: {m}"
        event = json.loads(m["Message"])
        arrived.setdefault(event["detail"]["id"], []).append(event)
    assert deleted_id not in arrived, "a finding with isDeleted true reached the hub topic"
    assert set(arrived) == set(wanted), (
        f"missing: {[wanted[i] for i in set(wanted) - set(arrived)]}, "
        f"unexpected: {sorted(set(arrived) - set(wanted))}"
    )
    for fid, (account, region) in wanted.items():
        events = arrived[fid]
        assert len(events) == 1, f"finding from {account}/{region} arrived {len(events)} times"
        event = events[0]
        assert event["account"] == account, f"event from {account} says account {event['account']}"
        assert event["detail"]["accountId"] == account
        assert event["region"] == region
        assert event["source"] == "aws.access-analyzer"
        assert event["detail-type"] == "Access Analyzer Finding"
        assert event["detail"]["isDeleted"] is False


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
        fid, entry = finding(account, deleted=False)
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
def test_04_adding_a_member_only_adds(world):
    w = world
    regenerate(w, h.add_member(w.text, NEW_KEY, NEW_ID, NEW_REGIONS))
    assert {p["alias"] for p in providers(w)} == expected_aliases(w.expected)
    write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step4.tfplan")
    assert_only_adds(plan, w.expected, NEW_ID)

    w.engine("apply", "-input=false", "-no-color", str(w.plans / "step4.tfplan"))
    assert_landed(w, "after adding a member")


def assert_only_adds(plan: dict, e: h.Expected, new_id: str) -> None:
    actions = h.by_action(plan)
    assert set(actions) <= {"create", "no-op"}, f"adding a member must not touch what exists: {sorted(actions)}"
    want = {h.permission_address(new_id)}
    for module, (account, _) in e.spoke_modules().items():
        if account == new_id:
            want |= h.spoke_addresses(module, e)
    # 1 permission + 2 regions x 7 spoke resources
    assert len(want) == 1 + 7 * len(NEW_REGIONS), sorted(want)
    assert actions.get("create", set()) == want, (
        f"creates {sorted(actions.get('create', set()) ^ want)} differ from the new member's resources"
    )
    moved = [rc["address"] for rc in h.managed_changes(plan).values() if rc.get("previous_address")]
    assert not moved, f"nothing moves when a member is added: {moved}"


# ------------------------------------------------------------------------------ step 5
def test_05_renaming_a_member_destroys_nothing(world):
    w = world
    before = w.expected.spoke_modules()
    regenerate(w, h.rename_member(w.text, "prod", "production"))
    assert (w.tree / "moves.tf").is_file(), "a rename must emit moves.tf"
    write_test_files(w)

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
    # prod's 3 regions x 7 spoke resources (moves.tf moves whole modules, so the queue, its
    # policy and its key move with the rule, target, role and role policy)
    assert len(want) == 21, sorted(want)
    assert moves == want, f"moves {sorted(moves ^ want)} differ"


# ------------------------------------------------------------------------------ step 6
def test_06a_retiring_a_member_destroys_only_its_resources(world):
    w = world
    regenerate(w, h.retire_member(w.text, "staging"))
    aliases = {p["alias"] for p in providers(w)}
    assert "staging_eu_west_1" in aliases, "a retired member keeps its provider until removed"
    write_test_files(w)

    plan, _ = w.engine.plan_json(w.plans / "step6.tfplan")
    assert_only_retires(plan, ["spoke_staging_eu_west_1"], STAGING, w.expected)

    # Its dead-letter queue's key: KMS only schedules a key's deletion (30 days here).
    keys = h.live_keys(w.listing)[STAGING]
    assert len(keys) == 1, keys
    w.engine("apply", "-input=false", "-no-color", str(w.plans / "step6.tfplan"))
    w.pending_keys[STAGING] = keys
    left = h.comparable(w.aws.snapshot([STAGING]))[STAGING]
    want = h.expected_snapshot(w.expected, ALL_ACCOUNTS, emails(w), w.pending_keys)[STAGING]
    assert left == want, f"the retired member still holds {h.snapshot_diff({STAGING: left}, {STAGING: want})}"
    assert_landed(w, "after retiring a member")  # and the hub no longer lists it


def assert_only_retires(plan: dict, modules: list[str], account: str, e: h.Expected) -> None:
    """Deletes exactly the account's spoke resources and its hub permission, nothing else."""
    actions = h.by_action(plan)
    assert set(actions) == {"delete", "no-op"}, sorted(actions)
    want = {h.permission_address(account)}
    for module in modules:
        want |= h.spoke_addresses(module, e)
    assert len(want) == 1 + 7 * len(modules), sorted(want)
    assert actions["delete"] == want, f"deletes {sorted(actions['delete'] ^ want)} differ"


def test_06b_removing_the_retired_member_changes_nothing(world):
    w = world
    regenerate(w, h.remove_member(w.text, "staging"))
    aliases = {p["alias"] for p in providers(w)}
    assert not [a for a in aliases if a.startswith("staging_")], aliases
    write_test_files(w)
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
    r = regenerate(w, w.text)
    assert "0 written, 0 deleted" in r.stdout, r.describe()
    check = w.fanin("check", str(w.inventory), "--out", str(w.tree))
    assert check.rc == 0, f"fanin check on the tree it just wrote (with the test's own files):\n{check.describe()}"
    w.engine.plan_no_changes()


# ------------------------------------------------------------------------------ step 8
def test_08_destroy_leaves_every_account_empty(world):
    """Empty but for the keys: every key of the last listing (and the retired member's) is
    scheduled for deletion in 30 days, which is all KMS does on delete."""
    w = world
    keys = h.live_keys(w.listing)
    want_live = h.expected_snapshot(w.expected, ALL_ACCOUNTS, emails(w))
    # the hub's key and one per spoke: 1 + (hub us-east-1, prod x3, sandbox x2, dev x2) = 9
    assert sum(map(len, keys.values())) == sum(len(a["kms_keys"]) for a in want_live.values()) == 9, keys
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
