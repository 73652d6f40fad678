"""Harness of the end-to-end suite: the fake AWS, the engine, fanin, inventory edits, the
test-only files added to the tree, and listings of what exists in every fake account.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import subprocess
import sys
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXAMPLE = REPO / "examples" / "multi-region" / "fanin.toml"

# Every region any step uses, and the accounts listed after every step: the inventory's, the
# member added in step 4, and moto's default account, where anything deployed without
# assuming its role would land.
REGIONS = ("eu-west-1", "us-east-1", "ap-northeast-1")
MOTO_DEFAULT_ACCOUNT = "123456789012"
# Ten members added in one apply (step 4): the bus policy must list every one of them, which
# one aws_cloudwatch_event_permission per member could not promise (parallel PutPermission
# calls keep only the last statement). One of them in two regions.
NEW_MEMBERS = [("dev", "555555555555", ["eu-west-1", "us-east-1"])] + [
    (f"team{i}", f"6666666666{i:02d}", ["eu-west-1"]) for i in range(1, 10)
]

# Names of what the test adds for itself (never fanin's).
TEST_ONLY_TF = "e2e_test_only.tf"
OVERRIDE_TF = "e2e_endpoints_override.tf"
TEST_QUEUE = "e2e-findings"
SANDBOX_USER = "e2e-profile-user"

# Every AWS API the tree (fanin's modules and the test's own file) calls, each pointed at moto
# by the override file; a service missing here would go to the closed proxy and fail.
ENDPOINT_SERVICES = ("sts", "iam", "cloudwatchevents", "sns", "sqs", "kms", "cloudwatchlogs")

DUMMY_KEY = "AKIAE2EDUMMYKEY00000"
DUMMY_SECRET = "e2e-dummy-secret"


def fail(message: str) -> None:
    raise AssertionError(message)


# --------------------------------------------------------------------------- fake AWS
class MotoServer:
    """tests/e2e/moto_server.py (moto + the test-only extension) in a child process."""

    def __init__(self, log: Path):
        self.log = log
        # Every call the engine makes, one JSON line each (moto_server.py, extension 6).
        self.calls = log.with_name("engine-calls.jsonl")
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.port = 0

    def start(self, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "moto_server.py")],
            env={**os.environ, "FANIN_E2E_CALLS": str(self.calls)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("w"),
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                m = re.fullmatch(r"moto listening on (127\.0\.0\.1):(\d+)\n", line)
                if not m:
                    self.stop()
                    fail(f"moto server said {line!r}; log: {self.log.read_text()}")
                self.port = int(m.group(2))
                self.url = f"http://127.0.0.1:{self.port}"
                return
            if self.proc.poll() is not None:
                fail(f"moto server exited with {self.proc.returncode}: {self.log.read_text()}")
        self.stop()
        fail(f"moto server not ready after {timeout}s: {self.log.read_text()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()  # the server stops when its stdin closes
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, hexport = fields[1].split(":")
            if int(hexport, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def listening_on(port: int) -> bool:
    return bool(listening_addresses(port))


LOOPBACK_HEX = "0100007F"  # 127.0.0.1 in /proc/net/tcp's byte order


# --------------------------------------------------------------------------- commands
@dataclass
class Run:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n(exit {self.rc}, {self.seconds:.1f}s)\n"
            f"--- stdout (last 6000 chars)\n{self.stdout[-6000:]}\n"
            f"--- stderr (last 6000 chars)\n{self.stderr[-6000:]}"
        )


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> Run:
    started = time.monotonic()
    p = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return Run(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - started)


def engine_env(home: Path) -> dict[str, str]:
    """The environment of every engine run: none of the machine's AWS settings, a test AWS
    config and credentials file, no instance metadata, no proxy for loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        AWS_CONFIG_FILE=str(home / "aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        # Loopback only: anything addressed elsewhere would go to a proxy on a closed
        # loopback port and fail, instead of leaving the machine.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
        TF_CLI_CONFIG_FILE=os.environ["TF_CLI_CONFIG_FILE"],
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        TF_DATA_DIR=str(home / "tfdata"),
    )
    return env


class Engine:
    def __init__(self, program: str, tree: Path, env: dict[str, str], log: list[Run]):
        self.program = program
        self.tree = tree
        self.env = env
        self.log = log

    def __call__(self, *args: str, ok: tuple[int, ...] = (0,)) -> Run:
        r = run([self.program, *args], self.tree, self.env)
        self.log.append(r)
        if r.rc not in ok:
            fail(f"engine failed (wanted exit {ok}):\n{r.describe()}")
        return r

    def plan_json(self, planfile: Path, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[dict, Run]:
        """plan -out, then show -json of that plan (also kept next to it as .json)."""
        r = self("plan", "-input=false", "-no-color", f"-out={planfile}", *args, ok=ok)
        shown = self("show", "-json", str(planfile))
        planfile.with_suffix(".json").write_text(shown.stdout)
        return json.loads(shown.stdout), r

    def plan_no_changes(self) -> Run:
        r = self("plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(0, 2))
        if r.rc != 0:
            fail(f"expected a plan with no changes (exit 0), got exit {r.rc}:\n{r.describe()}")
        return r


class Fanin:
    def __init__(self, program: str, work: Path, log: list[Run]):
        self.program = program
        self.work = work
        self.log = log

    def __call__(self, *args: str) -> Run:
        r = run([self.program, *args], self.work, dict(os.environ, NO_COLOR="1"))
        self.log.append(r)
        return r


# --------------------------------------------------------------------------- inventory
def base_inventory_text() -> str:
    """The multi-region example, adapted to moto: moto 5.2.5 has no Access Analyzer API, so
    creating an analyzer would fail; analyzers are switched off for every account with
    `create_analyzer = false` in [settings], and any per-account `create_analyzer = true`
    (which would win over the setting) is removed. The sandbox's own `create_analyzer = false`
    already agrees and stays."""
    text = EXAMPLE.read_text()
    original = tomllib.loads(text)
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    section = ""
    for line in lines:
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            section = header.group(1)
        if section != "settings" and re.match(r"^\s*create_analyzer\s*=\s*true\b", line):
            continue  # a per-account override that would re-enable an analyzer
        out.append(line)
        if header and section == "settings":
            out.append("create_analyzer = false # TEST ONLY: moto 5.2.5 has no Access Analyzer API\n")
    text = "".join(out)
    parsed = tomllib.loads(text)
    assert "settings" in original, "the multi-region example has a [settings] table"
    assert parsed["settings"]["create_analyzer"] is False
    for key, member in parsed["members"].items():
        assert member.get("create_analyzer", False) is False, key
    assert parsed["hub"].get("create_analyzer", False) is False
    return text


def split_tables(text: str) -> list[tuple[str, str]]:
    """(header, text) of each top-level table, in order; header "" for the preamble."""
    parts: list[tuple[str, str]] = [("", "")]
    for line in text.splitlines(keepends=True):
        m = re.match(r"^\[([^\]]+)\]\s*$", line)
        if m:
            parts.append((m.group(1), ""))
        parts[-1] = (parts[-1][0], parts[-1][1] + line)
    return parts


def join_tables(parts: list[tuple[str, str]]) -> str:
    return "".join(t for _, t in parts)


def add_member(text: str, key: str, account_id: str, regions: list[str]) -> str:
    parts = split_tables(text)
    last_member = max(i for i, (h, _) in enumerate(parts) if h.startswith("members."))
    table = (
        f"[members.{key}]\naccount_id = \"{account_id}\"\n"
        f"regions    = {json.dumps(regions)}\n\n"
    )
    parts.insert(last_member + 1, (f"members.{key}", table))
    return checked(join_tables(parts))


def rename_member(text: str, old: str, new: str) -> str:
    parts = split_tables(text)
    found = [i for i, (h, _) in enumerate(parts) if h == f"members.{old}"]
    assert len(found) == 1, f"no [members.{old}]"
    i = found[0]
    parts[i] = (f"members.{new}", parts[i][1].replace(f"[members.{old}]", f"[members.{new}]", 1))
    return checked(join_tables(parts))


def retire_member(text: str, key: str) -> str:
    parts = split_tables(text)
    i = next(i for i, (h, _) in enumerate(parts) if h == f"members.{key}")
    head, rest = parts[i][1].split("\n", 1)
    parts[i] = (parts[i][0], f"{head}\nstatus     = \"retired\"\n{rest}")
    return checked(join_tables(parts))


def remove_member(text: str, key: str) -> str:
    parts = [(h, t) for h, t in split_tables(text) if h != f"members.{key}"]
    return checked(join_tables(parts))


def checked(text: str) -> str:
    tomllib.loads(text)
    return text


# --------------------------------------------------------------------------- the model the test expects
@dataclass
class Expected:
    """What must exist where, computed from the inventory (not from fanin's output)."""

    prefix: str
    hub_id: str
    hub_region: str
    topic: str
    # account id -> regions with an active spoke
    spokes: dict[str, list[str]] = field(default_factory=dict)
    # account id -> inventory key
    keys: dict[str, str] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)  # active member ids
    dead_letter: bool = True  # [settings] dead_letter_queues (default true)
    # [settings] dead_letter_queue_encryption (default "sse-sqs": SQS-managed keys, no KMS key)
    dead_letter_encryption: str = "sse-sqs"
    encrypt_topic: bool = True  # [notify] encrypt_topic (default true)
    findings_queue: bool = False  # [notify] queue (default false)
    text_messages: bool = False  # [notify] format = "text" (default "event")
    # [settings] bus_policy_quota: characters of one intake bus policy (EventBridge's default)
    bus_quota: int = 10240
    # [findings] sources, in the documented order (default: external access only)
    sources: list[str] = field(default_factory=lambda: ["external-access"])
    min_severity: str | None = None  # [findings] min_severity
    custom_patterns: dict[str, str] = field(default_factory=dict)  # [findings.custom_patterns]
    archive_days: int | None = None  # [notify] archive_days
    log_days: int | None = None  # [notify] log_days

    @property
    def queues_use_keys(self) -> bool:
        """Dead-letter queues encrypted with customer-managed keys (sse-kms)."""
        return self.dead_letter and self.dead_letter_encryption == "sse-kms"

    @property
    def findings_queue_uses_key(self) -> bool:
        """The hub's findings queue is encrypted with the hub's key (sse-kms)."""
        return self.findings_queue and self.dead_letter_encryption == "sse-kms"

    @property
    def hub_queues_use_key(self) -> bool:
        """A queue of the hub (dead-letter or findings queue) uses the hub's key."""
        return self.queues_use_keys or self.findings_queue_uses_key

    @property
    def hub_key(self) -> bool:
        """The hub has a key: for the topic, its queues or the findings log group."""
        return self.encrypt_topic or self.hub_queues_use_key or bool(self.log_days)

    @property
    def log_group(self) -> str:
        return f"/aws/events/{self.prefix}-findings"

    @property
    def log_group_arn(self) -> str:
        return f"arn:aws:logs:{self.hub_region}:{self.hub_id}:log-group:{self.log_group}"

    @property
    def hub_queue(self) -> str:
        return f"{self.prefix}-findings"

    @property
    def hub_queue_arn(self) -> str:
        return f"arn:aws:sqs:{self.hub_region}:{self.hub_id}:{self.hub_queue}"

    @property
    def intake_bus(self) -> str:
        return self.bus_name(1)

    @property
    def intake_arn(self) -> str:
        return self.bus_arn(1)

    def bus_name(self, number: int) -> str:
        """The documented names: `<prefix>-intake`, then `<prefix>-intake-<number>`."""
        return f"{self.prefix}-intake" if number == 1 else f"{self.prefix}-intake-{number}"

    def bus_arn(self, number: int) -> str:
        return f"arn:aws:events:{self.hub_region}:{self.hub_id}:event-bus/{self.bus_name(number)}"

    @property
    def buses(self) -> dict[int, list[str]]:
        """Bus number -> its members, for a tree generated afresh, by the documented rule: the
        members by account id fill the first bus until its policy would pass the quota, then
        the next. Bus 1 is always there."""
        buses: dict[int, list[str]] = {1: []}
        number = 1
        for member in sorted(self.members):
            while len(json.dumps(bus_policy(self.bus_arn(number), buses[number] + [member]),
                                 separators=(",", ":"), sort_keys=True)) > self.bus_quota:
                assert buses[number], f"the quota {self.bus_quota} is too small for one member"
                number += 1
                buses[number] = []
            buses[number].append(member)
        return buses

    def bus_of(self, account: str) -> int:
        """The bus an account's spokes target (the hub's own spokes: the first)."""
        return next((n for n, members in self.buses.items() if account in members), 1)

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{self.hub_region}:{self.hub_id}:{self.topic}"

    def role_name(self, region: str) -> str:
        return f"{self.prefix}-to-hub-{region}"

    # The hub's finding rules (documented names): "local" on the hub's default bus,
    # "intake" on the intake bus, "intake-<number>" on each further intake bus, for external
    # access findings; "<that key>-<source>" for each other source.
    def hub_rule_sources(self) -> dict[str, tuple[str, str]]:
        """key -> (bus, source)."""
        buses = {"local": "default"}
        for number in self.buses:
            buses["intake" if number == 1 else f"intake-{number}"] = self.bus_name(number)
        rules = {
            (key if source == "external-access" else f"{key}-{source}"): (bus, source)
            for key, bus in buses.items() for source in self.sources
        }
        rules |= {f"{key}-custom-{name}": (bus, f"custom:{name}")
                  for key, bus in buses.items() for name in self.custom_patterns}
        return rules

    def hub_bus_keys(self) -> dict[str, tuple[str, None]]:
        """The key of each bus with finding rules (its external access rule's) -> (bus, None)."""
        return {key: (bus, None) for key, (bus, source) in self.hub_rule_sources().items()
                if source == "external-access"}

    def hub_rules(self) -> dict[str, tuple[str, str, str]]:
        """key -> (bus, rule name, rule ARN)."""
        base = f"arn:aws:events:{self.hub_region}:{self.hub_id}:rule"
        rules = {}
        for key, (bus, _) in self.hub_rule_sources().items():
            rule = f"{self.prefix}-{key}-findings"
            rules[key] = (bus, rule, f"{base}/{rule}" if bus == "default" else f"{base}/{bus}/{rule}")
        return rules

    def source_pattern(self, source: str) -> dict:
        """A source's event pattern, as the README documents it; a custom one as written."""
        if source.startswith("custom:"):
            return json.loads(self.custom_patterns[source.removeprefix("custom:")])
        return source_pattern(source, self.min_severity)

    @property
    def spoke_pattern(self) -> dict:
        """One pattern: it; several: their sources and detail types (detail types only when
        every pattern names them; the hub filters)."""
        names = self.sources + [f"custom:{name}" for name in sorted(self.custom_patterns)]
        patterns = [self.source_pattern(s) for s in names]
        if len(patterns) == 1:
            return patterns[0]
        union = {"source": list(dict.fromkeys(v for p in patterns for v in p["source"]))}
        if all("detail-type" in p for p in patterns):
            union["detail-type"] = list(dict.fromkeys(v for p in patterns for v in p["detail-type"]))
        return union

    @property
    def hub_rule_arns(self) -> list[str]:
        return sorted(arn for _, _, arn in self.hub_rules().values())

    @property
    def hub_dlq(self) -> str:
        return f"{self.prefix}-findings-topic-dlq"

    @property
    def hub_dlq_arn(self) -> str:
        return f"arn:aws:sqs:{self.hub_region}:{self.hub_id}:{self.hub_dlq}"

    @property
    def spoke_rule(self) -> str:
        return f"{self.prefix}-findings-to-hub"

    def spoke_rule_arn(self, account: str, region: str) -> str:
        return f"arn:aws:events:{region}:{account}:rule/{self.spoke_rule}"  # on the default bus

    @property
    def spoke_dlq(self) -> str:
        return f"{self.prefix}-to-hub-dlq"

    def spoke_dlq_arn(self, account: str, region: str) -> str:
        return f"arn:aws:sqs:{region}:{account}:{self.spoke_dlq}"

    def spoke_modules(self) -> dict[str, tuple[str, str]]:
        """module name -> (account id, region), by fanin's documented naming."""
        out = {}
        for account, regions in self.spokes.items():
            for region in regions:
                out[f"spoke_{self.keys[account]}_{region.replace('-', '_')}"] = (account, region)
        return out


def expected_from(text: str) -> Expected:
    inv = tomllib.loads(text)
    hub = inv["hub"]
    e = Expected(
        prefix=inv["settings"]["name_prefix"],
        hub_id=hub["account_id"],
        hub_region=hub["region"],
        topic=inv["notify"]["topic_name"],
        dead_letter=inv["settings"].get("dead_letter_queues", True),
        dead_letter_encryption=inv["settings"].get("dead_letter_queue_encryption", "sse-sqs"),
        encrypt_topic=inv["notify"].get("encrypt_topic", True),
        findings_queue=inv["notify"].get("queue", False),
        text_messages=inv["notify"].get("format", "event") == "text",
        bus_quota=inv["settings"].get("bus_policy_quota", 10240),
        sources=[s for s in SOURCES if s in inv.get("findings", {}).get("sources", ["external-access"])],
        min_severity=inv.get("findings", {}).get("min_severity"),
        custom_patterns=dict(inv.get("findings", {}).get("custom_patterns", {})),
        archive_days=inv["notify"].get("archive_days"),
        log_days=inv["notify"].get("log_days"),
    )
    e.keys[hub["account_id"]] = hub.get("name", "hub")
    e.spokes[hub["account_id"]] = list(hub.get("regions", []))
    for key, m in inv.get("members", {}).items():
        e.keys[m["account_id"]] = key
        if m.get("status", "active") == "retired":
            continue
        e.members.add(m["account_id"])
        e.spokes[m["account_id"]] = list(m.get("regions", [e.hub_region]))
    return e


# --------------------------------------------------------------------------- test-only files in the tree
def parse_providers(providers_tf: str) -> list[dict]:
    """alias, region, account and credential source of each provider block fanin wrote."""
    blocks = re.split(r'(?m)^provider "aws" \{\n', providers_tf)[1:]
    out = []
    for block in blocks:
        alias = re.search(r'^\s*alias\s*=\s*"([^"]+)"', block, re.M)
        region = re.search(r'^\s*region\s*=\s*"([^"]+)"', block, re.M)
        accounts = re.search(r'^\s*allowed_account_ids\s*=\s*\[([^\]]*)\]', block, re.M)
        assert alias and region and accounts, f"unexpected provider block:\n{block}"
        out.append(
            {
                "alias": alias.group(1),
                "region": region.group(1),
                "accounts": re.findall(r'"(\d{12})"', accounts.group(1)),
                "profile": (m.group(1) if (m := re.search(r'^\s*profile\s*=\s*"([^"]+)"', block, re.M)) else None),
                "assume_role": bool(re.search(r"^\s*assume_role\s*\{", block, re.M)),
            }
        )
    return out


def override_text(providers: list[dict], url: str) -> str:
    """Test-only provider settings merged into fanin's provider blocks by the engine's
    override-file rules (same alias => same block): every AWS API this tree uses goes to the
    loopback moto server. Static dummy keys are the source credentials of the assume_role
    aliases (moto's STS then answers with keys of the role's account); profile aliases keep
    their profile, which the test's shared credentials file defines. The account id is still
    requested (GetCallerIdentity), so `allowed_account_ids` proves each alias landed in its
    own account. Five attempts: moto now and then closes a kept-alive connection a provider
    is about to reuse ("use of closed network connection": with one attempt it failed an
    AssumeRole of the two-bus scenario, then of the lifecycle, in CI), which a retry absorbs as the providers' own
    retries do against AWS. A retry repeats the same call, so the deploy-role check on
    recorded calls is unaffected."""
    blocks = ["# TEST ONLY (tests/e2e): points every provider alias at a local moto server.\n"]
    for p in providers:
        keys = ""
        if not p["profile"]:
            keys = f'  access_key = "{DUMMY_KEY}"\n  secret_key = "{DUMMY_SECRET}"\n'
        blocks.append(
            f'provider "aws" {{\n'
            f'  alias = "{p["alias"]}"\n'
            f"{keys}"
            f"  skip_credentials_validation = true\n"
            f"  skip_metadata_api_check     = true\n"
            f"  skip_region_validation      = true\n"
            f"  skip_get_ec2_platforms      = true\n"
            f"  max_retries                 = 5\n"
            f"  endpoints {{\n"
            + "".join(f'    {svc} = "{url}"\n' for svc in ENDPOINT_SERVICES)
            + "  }\n}\n"
        )
    return "\n".join(blocks)


def extra_resources_text(hub_alias: str) -> str:
    """A queue in the hub account subscribed to the hub's topic, so that the test can read
    what the topic receives. Lives in its own file: fanin did not write it and must leave it
    alone."""
    return f"""# TEST ONLY (tests/e2e): not written by fanin; fanin must never touch this file.
resource "aws_sqs_queue" "e2e_findings" {{
  provider = aws.{hub_alias}
  name     = "{TEST_QUEUE}"
}}

resource "aws_sqs_queue_policy" "e2e_findings" {{
  provider  = aws.{hub_alias}
  queue_url = aws_sqs_queue.e2e_findings.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "sns.amazonaws.com" }}
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.e2e_findings.arn
      Condition = {{ ArnEquals = {{ "aws:SourceArn" = module.hub.topic_arn }} }}
    }}]
  }})
}}

resource "aws_sns_topic_subscription" "e2e_findings" {{
  provider  = aws.{hub_alias}
  topic_arn = module.hub.topic_arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.e2e_findings.arn
}}
"""


def aws_provider_version(tree: Path) -> str:
    """The hashicorp/aws version `init` selected in `tree` (its .terraform.lock.hcl)."""
    lock = (tree / ".terraform.lock.hcl").read_text()
    m = re.search(r'provider "registry\.terraform\.io/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"', lock)
    assert m, f"no hashicorp/aws in the lock file:\n{lock}"
    return m.group(1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(tree: Path) -> dict[str, str]:
    """Every file of the tree except the engine's own (.terraform data, lock file, state)."""
    out = {}
    for p in sorted(tree.rglob("*")):
        rel = p.relative_to(tree).as_posix()
        if p.is_file() and not rel.startswith(".terraform") and "tfstate" not in rel:
            out[rel] = sha256(p)
    return out


# --------------------------------------------------------------------------- boto3 against moto
class Aws:
    def __init__(self, url: str):
        self.url = url
        self.config = Config(retries={"max_attempts": 1, "mode": "standard"})
        self._creds: dict[str, dict] = {}
        self._clients: dict[tuple, object] = {}

    def _base(self, service: str, region: str, creds: dict | None = None):
        creds = creds or {"aws_access_key_id": DUMMY_KEY, "aws_secret_access_key": DUMMY_SECRET}
        return boto3.client(
            service, region_name=region, endpoint_url=self.url, config=self.config, **creds
        )

    def creds(self, account: str) -> dict:
        """Keys acting as `account` in moto (moto's default account: the dummy keys)."""
        if account == MOTO_DEFAULT_ACCOUNT:
            return {"aws_access_key_id": DUMMY_KEY, "aws_secret_access_key": DUMMY_SECRET}
        if account not in self._creds:
            c = self._base("sts", "us-east-1").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/e2e-inspector", RoleSessionName="e2e"
            )["Credentials"]
            self._creds[account] = {
                "aws_access_key_id": c["AccessKeyId"],
                "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"],
            }
            who = self.client(account, "sts", "us-east-1").get_caller_identity()
            assert who["Account"] == account, who
        return self._creds[account]

    def client(self, account: str, service: str, region: str):
        key = (account, service, region)
        if key not in self._clients:
            self._clients[key] = self._base(service, region, self.creds(account))
        return self._clients[key]

    def profile_keys(self, account: str, user: str) -> tuple[str, str]:
        """An IAM user with an access key in `account`: moto attributes requests signed with
        that key to `account`, like a named profile holding that account's keys."""
        iam = self.client(account, "iam", "us-east-1")
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    # ----------------------------------------------------------------- listings
    def snapshot(self, accounts: list[str]) -> dict[str, dict]:
        """What exists per account, in every region of REGIONS: buses other than `default`, rules
        with their targets (retry policy, dead-letter queue), bus policies, SNS topics
        (subscriptions, key, policy), SQS queues (key or SSE-SQS, policy, retention), KMS keys (state,
        rotation, policy, deletion date) and aliases other than the reserved `alias/aws/*`, IAM
        roles with their inline and attached policies. (moto creates each region's default bus
        itself; the test's IAM user is scaffolding.)"""
        now = datetime.now(timezone.utc)
        snap = {}
        for account in accounts:
            a = empty_account()
            for region in REGIONS:
                events = self.client(account, "events", region)
                for bus in events.list_event_buses()["EventBuses"]:
                    name = bus["Name"]
                    if name != "default":
                        a["buses"].add((region, name))
                    described = events.describe_event_bus(Name=name)
                    if described.get("Policy"):
                        a["bus_policies"][(region, name)] = json.loads(described["Policy"])
                    for rule in events.list_rules(EventBusName=name)["Rules"]:
                        if rule.get("ManagedBy") and rule["Name"].startswith("Events-Archive-"):
                            continue  # an archive's own rule, made by EventBridge (archives below)
                        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=name)["Targets"]
                        a["rules"][(region, name, rule["Name"])] = {
                            "arn": rule["Arn"],
                            "pattern": json.loads(rule.get("EventPattern") or "null"),
                            "state": rule.get("State"),
                            "targets": [
                                {
                                    "id": t["Id"],
                                    "arn": t["Arn"],
                                    "role": t.get("RoleArn"),
                                    "retry": t.get("RetryPolicy"),
                                    "dlq": (t.get("DeadLetterConfig") or {}).get("Arn"),
                                }
                                for t in sorted(targets, key=lambda t: t["Id"])
                            ],
                        }
                for archive in events.list_archives()["Archives"]:
                    described = events.describe_archive(ArchiveName=archive["ArchiveName"])
                    a["archives"][(region, archive["ArchiveName"])] = {
                        "source": described["EventSourceArn"],
                        "pattern": json.loads(described["EventPattern"]) if described.get("EventPattern") else None,
                        "retention": described.get("RetentionDays"),
                    }
                logs = self.client(account, "logs", region)
                for group in logs.describe_log_groups()["logGroups"]:
                    a["log_groups"][(region, group["logGroupName"])] = {
                        "retention": group.get("retentionInDays"), "kms": group.get("kmsKeyId"),
                    }
                for policy in logs.describe_resource_policies()["resourcePolicies"]:
                    a["log_policies"][(region, policy["policyName"])] = json.loads(policy["policyDocument"])
                sns = self.client(account, "sns", region)
                for topic in sns.list_topics()["Topics"]:
                    arn = topic["TopicArn"]
                    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
                    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
                    a["topics"][arn] = {
                        "subscriptions": sorted((s["Protocol"], s["Endpoint"]) for s in subs),
                        "kms": attrs.get("KmsMasterKeyId") or None,
                        "policy": json.loads(attrs["Policy"]) if attrs.get("Policy") else None,
                    }
                sqs = self.client(account, "sqs", region)
                for url in sqs.list_queues().get("QueueUrls", []):
                    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                    a["queues"][(region, url.rsplit("/", 1)[-1])] = {
                        "arn": attrs["QueueArn"],
                        "kms": attrs.get("KmsMasterKeyId") or None,
                        "sse_sqs": attrs.get("SqsManagedSseEnabled") == "true",
                        "policy": json.loads(attrs["Policy"]) if attrs.get("Policy") else None,
                        "retention": int(attrs["MessageRetentionPeriod"]),
                    }
                kms = self.client(account, "kms", region)
                for key in kms.list_keys(Limit=1000)["Keys"]:
                    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
                    k = {"state": meta["KeyState"], "manager": meta.get("KeyManager"), "spec": meta.get("KeySpec"),
                         "usage": meta.get("KeyUsage"), "description": meta.get("Description", "")}
                    if meta["KeyState"] == "PendingDeletion":
                        k["deletion_in_days"] = round((meta["DeletionDate"] - now).total_seconds() / 86400)
                    else:
                        k["rotation"] = kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
                        k["policy_names"] = kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"]
                        k["policy"] = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
                    a["kms_keys"][(region, meta["Arn"])] = k
                for alias in kms.list_aliases(Limit=1000)["Aliases"]:
                    if not alias["AliasName"].startswith("alias/aws/"):
                        a["kms_aliases"].add((region, alias["AliasName"]))
            iam = self.client(account, "iam", "us-east-1")
            for role in iam.list_roles()["Roles"]:
                name = role["RoleName"]
                policies = {
                    p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
                    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
                }
                attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
                trust = role["AssumeRolePolicyDocument"]
                a["roles"][name] = {
                    "arn": role["Arn"],
                    "trust": json.loads(trust) if isinstance(trust, str) else trust,
                    "policies": {k: json.loads(v) if isinstance(v, str) else v for k, v in policies.items()},
                    "attached": sorted(p["PolicyArn"] for p in attached),
                }
            snap[account] = a
        return snap


def poll_messages(sqs, queue_url: str, seconds: float) -> list[dict]:
    """Every message (body and message attributes) that arrives within `seconds`, deleted
    once read."""
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for m in r.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return got


def drain(sqs, queue_url: str) -> list[dict]:
    """Every message (body and message attributes) in the queue now, deleted once read."""
    got = []
    while True:
        r = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        )
        if not r.get("Messages"):
            return got
        for m in r["Messages"]:
            got.append(m)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def poll_queue(sqs, queue_url: str, seconds: float) -> list[dict]:
    """The JSON bodies of poll_messages."""
    return [json.loads(m["Body"]) for m in poll_messages(sqs, queue_url, seconds)]


# --------------------------------------------------------------------------- findings
def finding(account: str, deleted: bool) -> tuple[str, dict]:
    """An Access Analyzer finding event of `account` (its id, and a PutEvents entry)."""
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


# The hub module's text for a finding (topic_message = "text"), as EventBridge makes it from
# the template: each <name> replaced by its value, JSON for the principal and the actions.
FINDING_TEXT = (
    "IAM Access Analyzer finding in account {account}, {region}: {resourceType} {resource} can be "
    "reached by {principal} with {action}. Status {status}, finding {id}: see Access analyzer in "
    "the IAM console of that account and region (https://console.aws.amazon.com/iam/)."
)


def finding_text(event: dict) -> str:
    d = event["detail"]
    return FINDING_TEXT.format(
        account=d["accountId"], region=event["region"], resourceType=d["resourceType"],
        resource=d["resource"], principal=json.dumps(d["principal"], separators=(",", ":")),
        action=json.dumps(d["action"], separators=(",", ":")), status=d["status"], id=d["id"],
    )


def source_events(account: str, region: str) -> list[tuple[str, dict, bool]]:
    """(source, PutEvents entry, whether a minimum severity of HIGH lets it through) for
    every finding source and the custom pattern MACIE_PATTERN: events shaped as AWS documents
    them (the IAM user guide's "Monitoring ... Access Analyzer with Amazon EventBridge"
    samples, GuardDuty's finding format, Security Hub CSPM's "Security Hub Findings -
    Imported", Macie's EventBridge event schema), one that the hub's rule for its source takes
    and one that it does not (a deleted finding, a severity below HIGH, a Macie finding of Low
    severity), plus an Access Analyzer event that is no finding (an access preview)."""
    def entry(source: str, detail: dict, resources: list[str]) -> dict:
        event_source, detail_type = SOURCES[source]
        return {"Source": event_source, "DetailType": detail_type, "Detail": json.dumps(detail),
                "Resources": resources}

    def access(source: str, deleted: bool) -> dict:
        marker = str(uuid.uuid4())
        analyzer = f"arn:aws:access-analyzer:{region}:{account}:analyzer/e2e"
        if source == "unused-access":
            detail = {"findingId": marker, "resource": f"arn:aws:iam::{account}:role/e2e-unused",
                      "resourceType": "AWS::IAM::Role", "accountId": account, "status": "ACTIVE",
                      "isDeleted": deleted, "findingType": "UnusedIAMRole"}
        else:
            detail = {"id": marker, "resource": f"arn:aws:s3:::e2e-internal-{marker[:8]}",
                      "resourceType": "AWS::S3::Bucket", "accountId": account, "status": "ACTIVE",
                      "isDeleted": deleted, "findingType": "InternalAccess",
                      "principal": {"AWS": f"arn:aws:iam::{account}:role/e2e-reader"},
                      "action": ["s3:GetObject"]}
        return entry(source, detail, [analyzer])

    def guardduty(severity: int) -> dict:
        marker = uuid.uuid4().hex
        return entry("guardduty", {
            "schemaVersion": "2.0", "accountId": account, "region": region, "partition": "aws",
            "id": marker, "arn": f"arn:aws:guardduty:{region}:{account}:detector/e2e/finding/{marker}",
            "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": severity,
            "title": "Unprotected port on EC2 instance i-0123456789abcdef0 is being probed.",
            "resource": {"resourceType": "Instance"},
        }, [])

    def security_hub(label: str) -> dict:
        marker = str(uuid.uuid4())
        arn = (f"arn:aws:securityhub:{region}:{account}:subscription/aws-foundational-security-best-practices"
               f"/v/1.0.0/S3.8/finding/{marker}")
        return entry("security-hub", {"findings": [{
            "SchemaVersion": "2018-10-08", "Id": arn, "AwsAccountId": account,
            "Title": "S3 general purpose buckets should block public access",
            "Severity": {"Label": label}, "RecordState": "ACTIVE",
            "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::e2e-public"}],
        }]}, [arn])

    def macie(description: str) -> dict:
        marker = uuid.uuid4().hex
        return {"Source": "aws.macie", "DetailType": "Macie Finding", "Resources": [], "Detail": json.dumps({
            "schemaVersion": "1.0", "id": marker, "accountId": account, "region": region,
            "type": "Policy:IAMUser/S3BucketPublic", "title": "The S3 bucket is publicly accessible",
            "severity": {"score": 3, "description": description},
        })}

    preview = {"Source": "aws.access-analyzer", "DetailType": "Access Preview State Change",
               "Detail": json.dumps({"accessPreviewId": str(uuid.uuid4()), "status": "COMPLETED"}),
               "Resources": []}
    _, external = finding(account, deleted=False)
    _, external_deleted = finding(account, deleted=True)
    return [
        ("external-access", external, True), ("external-access", external_deleted, False),
        ("unused-access", access("unused-access", False), True),
        ("unused-access", access("unused-access", True), False),
        ("internal-access", access("internal-access", False), True),
        ("internal-access", access("internal-access", True), False),
        ("guardduty", guardduty(8), True), ("guardduty", guardduty(5), False),
        ("security-hub", security_hub("CRITICAL"), True), ("security-hub", security_hub("MEDIUM"), False),
        ("custom:macie", macie("High"), True), ("custom:macie", macie("Low"), False),
        ("external-access", preview, False),
    ]


# The hub module's text for each other source (topic_message = "text").
SOURCE_TEXTS = {
    "unused-access": (
        "IAM Access Analyzer unused access finding in account {accountId}, {region}: {findingType} on "
        "{resourceType} {resource}. Status {status}, finding {findingId}: see Access analyzer in the IAM "
        "console of that account and region (https://console.aws.amazon.com/iam/)."
    ),
    "internal-access": (
        "IAM Access Analyzer internal access finding in account {accountId}, {region}: {resourceType} "
        "{resource} can be reached by {principal} with {action}. Status {status}, finding {id}: see "
        "Access analyzer in the IAM console of that account and region (https://console.aws.amazon.com/iam/)."
    ),
    "guardduty": (
        "GuardDuty finding in account {accountId}, {region}: {title} ({type}, severity {severity}). "
        "Finding {id}: see GuardDuty in the console of that account and region."
    ),
    "security-hub": (
        "Security Hub finding in account {account}, {region}: {resources}. See Security Hub in the "
        "console of that account and region."
    ),
}


def source_text(source: str, event: dict) -> str:
    """The line the hub's rule for `source` makes of `event` (JSON for non-text values)."""
    if source == "external-access":
        return finding_text(event)
    def shown(v) -> str:
        return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    values = {k: shown(v) for k, v in event["detail"].items()}
    values |= {"account": event["account"], "region": event["region"], "resources": shown(event["resources"])}
    return SOURCE_TEXTS[source].format(**values)


# A custom pattern: Macie's findings of High severity (Macie user guide, "Amazon EventBridge
# event schema for Macie findings": source aws.macie, detail-type "Macie Finding").
MACIE_PATTERN = ('{"source": ["aws.macie"], "detail-type": ["Macie Finding"], '
                 '"detail": {"severity": {"description": ["High"]}}}')


def assert_every_source_arrives(aws: "Aws", e: "Expected", account: str, region: str) -> None:
    """Puts source_events() on `account`'s default bus in `region` and asserts that exactly
    those the hub's rules take reach the findings queue as sent, once each, and the topic as
    their source's line (the custom pattern's as the event itself)."""
    assert e.findings_queue and e.text_messages and e.min_severity == "HIGH", "the scenario's choices"
    assert e.sources == list(SOURCES), "every source is chosen"
    assert e.custom_patterns == {"macie": MACIE_PATTERN}, e.custom_patterns
    sqs = aws.client(e.hub_id, "sqs", e.hub_region)
    queue = sqs.get_queue_url(QueueName=TEST_QUEUE)["QueueUrl"]
    findings_queue = sqs.get_queue_url(QueueName=e.hub_queue)["QueueUrl"]
    wanted_events, wanted_texts, stopped_entries = [], [], []
    for source, entry, passes in source_events(account, region):
        r = aws.client(account, "events", region).put_events(Entries=[entry])
        assert r["FailedEntryCount"] == 0, r
        if not passes:
            stopped_entries.append(entry)
        if passes:
            event = {"account": account, "region": region, "source": entry["Source"],
                     "detail-type": entry["DetailType"], "resources": entry["Resources"],
                     "detail": json.loads(entry["Detail"])}
            wanted_events.append(event)
            if not source.startswith("custom:"):
                wanted_texts.append(source_text(source, event))

    def collect(url: str, count: int) -> list[dict]:
        messages: list[dict] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(messages) < count:
            messages += poll_queue(sqs, url, 1)
        return messages + poll_queue(sqs, url, 3)  # room for a late duplicate or a leak

    def key(event: dict) -> tuple:
        return (event["source"], event["detail-type"], json.dumps(event["detail"], sort_keys=True))

    queued = collect(findings_queue, len(wanted_events))
    assert sorted(map(key, queued)) == sorted(map(key, wanted_events)), (
        f"the findings queue got\n{sorted(map(key, queued))}\ninstead of\n{sorted(map(key, wanted_events))}")
    for event in queued:
        assert (event["account"], event["region"]) == (account, region), event
    if e.log_days:
        # The log group got every event the hub's rules took, as itself, and none they
        # stopped (moto writes each as the message of a log event of its own stream).
        logs = aws.client(e.hub_id, "logs", e.hub_region)
        logged = {key(json.loads(event["message"]))
                  for event in logs.filter_log_events(logGroupName=e.log_group)["events"]}
        assert {key(event) for event in wanted_events} <= logged, "a finding is missing from the log group"
        stopped = {key({"source": entry["Source"], "detail-type": entry["DetailType"],
                        "detail": json.loads(entry["Detail"])}) for entry in stopped_entries}
        assert not stopped & logged, f"the log group got events their rules stop: {stopped & logged}"
    wanted_custom = [event for event in wanted_events if event["source"] == "aws.macie"]
    texts, custom = [], []
    for m in collect(queue, len(wanted_texts) + len(wanted_custom)):
        # A custom pattern's event arrives as itself (JSON), a source's finding as its line.
        (custom if m["Message"].startswith("{") else texts).append(m["Message"])
    assert sorted(texts) == sorted(wanted_texts), f"the topic got\n{sorted(texts)}\ninstead of\n{sorted(wanted_texts)}"
    custom_events = [json.loads(message) for message in custom]
    assert sorted(map(key, custom_events)) == sorted(map(key, wanted_custom)), custom


def every_sender(e: "Expected") -> list[tuple[str, str]]:
    """Every (account, region) whose findings must reach the hub: each spoke (members and the
    hub's extra regions) and the hub's home region (its local rule)."""
    senders = {(e.hub_id, e.hub_region)}
    for account, regions in e.spokes.items():
        senders |= {(account, region) for region in regions}
    return sorted(senders)


def assert_findings_arrive(aws: "Aws", e: "Expected", senders: list[tuple[str, str]],
                           deleted_from: tuple[str, str] | None = None) -> None:
    """Puts one finding on the default bus of each sender (and a deleted one on
    `deleted_from`'s) and asserts that exactly those that are not deleted reach the hub topic
    (the test queue subscribed to it), once each, with the sender's account and region; with
    [notify] queue, the same events reach the hub's findings queue as EventBridge sent them."""
    sqs = aws.client(e.hub_id, "sqs", e.hub_region)
    queue = sqs.get_queue_url(QueueName=TEST_QUEUE)["QueueUrl"]
    assert poll_queue(sqs, queue, 1) == [], "the test queue is not empty before the step"
    findings_queue = sqs.get_queue_url(QueueName=e.hub_queue)["QueueUrl"] if e.findings_queue else None
    if findings_queue:
        assert poll_queue(sqs, findings_queue, 1) == [], "the findings queue is not empty before the step"

    wanted: dict[str, tuple[str, str]] = {}
    # finding id -> the event its sender's bus makes of it (for the text messages)
    sent: dict[str, dict] = {}
    for account, region in senders:
        fid, entry = finding(account, deleted=False)
        r = aws.client(account, "events", region).put_events(Entries=[entry])
        assert r["FailedEntryCount"] == 0, r
        wanted[fid] = (account, region)
        sent[fid] = {"account": account, "region": region, "source": entry["Source"],
                     "detail-type": entry["DetailType"], "detail": json.loads(entry["Detail"])}
    deleted_id = None
    if deleted_from:
        deleted_id, entry = finding(deleted_from[0], deleted=True)
        r = aws.client(deleted_from[0], "events", deleted_from[1]).put_events(Entries=[entry])
        assert r["FailedEntryCount"] == 0, r

    def collect(url: str) -> list[dict]:
        messages: list[dict] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(messages) < len(wanted):
            messages += poll_queue(sqs, url, 1)
        return messages + poll_queue(sqs, url, 3)  # room for a late duplicate or a deleted finding

    arrived: dict[str, list[dict]] = {}
    for m in collect(queue):
        assert m.get("TopicArn") == e.topic_arn, f"not from the hub topic: {m}"
        if e.text_messages:
            # A line for people; the event it tells of is the one with its finding id.
            found = re.search(r"finding ([0-9a-f-]{36}):", m["Message"])
            assert found, f"not the finding text: {m['Message']!r}"
            fid = found.group(1)
            assert fid in sent, f"a finding nobody sent: {m['Message']!r}"
            assert m["Message"] == finding_text(sent[fid]), (
                f"the text\n{m['Message']!r}\nis not\n{finding_text(sent[fid])!r}")
            arrived.setdefault(fid, []).append(sent[fid])
        else:
            event = json.loads(m["Message"])
            arrived.setdefault(event["detail"]["id"], []).append(event)
    assert_arrived_once(arrived, wanted, deleted_id, "the hub topic")
    if findings_queue:
        # The event itself is the message body: no SNS envelope, nothing transformed.
        queued: dict[str, list[dict]] = {}
        for event in collect(findings_queue):
            queued.setdefault(event["detail"]["id"], []).append(event)
        assert_arrived_once(queued, wanted, deleted_id, "the findings queue")


def assert_arrived_once(arrived: dict[str, list[dict]], wanted: dict[str, tuple[str, str]],
                        deleted_id: str | None, where: str) -> None:
    """Each wanted finding arrived at `where` once, as its sender's event; a deleted one not."""
    assert deleted_id is None or deleted_id not in arrived, f"a finding with isDeleted true reached {where}"
    assert set(arrived) == set(wanted), (
        f"{where}: missing: {sorted(wanted[i] for i in set(wanted) - set(arrived))}, "
        f"unexpected: {sorted(set(arrived) - set(wanted))}"
    )
    for fid, (account, region) in wanted.items():
        events = arrived[fid]
        assert len(events) == 1, f"finding from {account}/{region} arrived {len(events)} times at {where}"
        event = events[0]
        assert event["account"] == account, f"event from {account} says account {event['account']}"
        assert event["detail"]["accountId"] == account
        assert event["region"] == region
        assert event["source"] == "aws.access-analyzer"
        assert event["detail-type"] == "Access Analyzer Finding"
        assert event["detail"]["isDeleted"] is False


# --------------------------------------------------------------------------- expectations
# The finding sources in the documented order, and each one's (source, detail-type).
SOURCES = {
    "external-access": ("aws.access-analyzer", "Access Analyzer Finding"),
    "unused-access": ("aws.access-analyzer", "Unused Access Finding for IAM entities"),
    "internal-access": ("aws.access-analyzer", "Internal Access Finding"),
    "guardduty": ("aws.guardduty", "GuardDuty Finding"),
    "security-hub": ("aws.securityhub", "Security Hub Findings - Imported"),
}
SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
GUARDDUTY_FLOOR = {"LOW": 1, "MEDIUM": 4, "HIGH": 7, "CRITICAL": 9}
def source_pattern(source: str, min_severity: str | None) -> dict:
    """The README's pattern of a source (no statuses or resource types: the scenarios use
    none)."""
    event_source, detail_type = SOURCES[source]
    pattern: dict = {"source": [event_source], "detail-type": [detail_type]}
    if event_source == "aws.access-analyzer":
        pattern["detail"] = {"isDeleted": [False]}
    elif min_severity and source == "guardduty":
        pattern["detail"] = {"severity": [{"numeric": [">=", GUARDDUTY_FLOOR[min_severity]]}]}
    elif min_severity:
        labels = SEVERITIES[SEVERITIES.index(min_severity):]
        pattern["detail"] = {"findings": {"Severity": {"Label": labels}}}
    return pattern
# Every target's retry policy: EventBridge's defaults, written out by the modules.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
DLQ_RETENTION = 1209600  # 14 days, the longest SQS allows
SQS_DEFAULT_RETENTION = 345600  # the test queue sets none
KEY_DELETION_DAYS = 30  # deletion_window_in_days of both modules' keys
EVENTS = {"Service": "events.amazonaws.com"}
# A queue or topic encrypted with a key of its own account and region (see comparable()).
OWN_KEY = "a key of this account and region"


def trust_policy(account: str, rule_arn: str) -> dict:
    """The only trust a spoke role may have: EventBridge, acting for the role's own account's
    forwarding rule (EventBridge's confused-deputy page: aws:SourceArn is the rule ARN)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": EVENTS,
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnEquals": {"aws:SourceArn": rule_arn},
                },
            }
        ],
    }


def put_events_policy(bus_arn: str) -> dict:
    """The only permission a spoke role may have: PutEvents on exactly the intake bus."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}],
    }


def bus_policy(bus_arn: str, members) -> dict:
    """An intake bus's one policy: the root of every active member on it may put events on
    it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MemberAccountsPutEvents",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{m}:root" for m in sorted(members)]},
                "Action": "events:PutEvents",
                "Resource": bus_arn,
            }
        ],
    }


def topic_policy(e: Expected) -> dict:
    """The only grant on the topic: EventBridge publishing. AWS documents no Condition for it
    ("You can't use Condition blocks in Amazon SNS topic policies for EventBridge")."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgePublishes",
                "Effect": "Allow",
                "Principal": EVENTS,
                "Action": "sns:Publish",
                "Resource": e.topic_arn,
            }
        ],
    }


def findings_queue_policy(e: Expected) -> dict:
    """The only grant on the hub's findings queue: EventBridge sending for the finding rules
    (the dead-letter form, with its own Sid)."""
    return queue_policy(e.hub_queue_arn, e.hub_rule_arns, sid="FindingRulesSend")


def queue_policy(queue_arn: str, rules: str | list[str], sid: str = "RuleDeadLetters") -> dict:
    """The only grant on a dead-letter queue: EventBridge sending for the rule(s) using it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": EVENTS,
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rules}},
            }
        ],
    }


# EventBridge's statements in a key policy, exactly as AWS documents them for each service
# pair, without conditions: the SNS developer guide's for an encrypted topic, the SQS
# developer guide's for an encrypted queue.
TOPIC_KEY_STATEMENT = {
    "Sid": "EventBridgePublishesToEncryptedTopic",
    "Effect": "Allow",
    "Principal": EVENTS,
    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
    "Resource": "*",
}
QUEUE_KEY_STATEMENT = {
    "Sid": "EventBridgeSendsToEncryptedQueue",
    "Effect": "Allow",
    "Principal": EVENTS,
    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
    "Resource": "*",
}


# Who may write to a log group a rule targets, as the EventBridge user guide's "CloudWatch
# Logs permissions" names them.
LOG_WRITERS = {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]}


def logs_key_statement(region: str, log_group_arn: str) -> dict:
    """The CloudWatch Logs user guide's statement ("Encrypt log data in CloudWatch Logs using
    AWS KMS"): the region's Logs service, for the one log group."""
    return {
        "Sid": "CloudWatchLogsEncryptsFindingsLog",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
    }


def log_resource_policy(e: "Expected") -> dict:
    """The only grant to write to the findings log group: the EventBridge user guide's
    "CloudWatch Logs permissions", narrowed to the group."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustEventsToStoreLogEvent",
                "Effect": "Allow",
                "Principal": LOG_WRITERS,
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{e.log_group_arn}:*",
            }
        ],
    }


def key_policy(account: str, topic: bool, queue: bool, logs: dict | None = None) -> dict:
    """A module's key policy: the account administers it (through its own IAM policies);
    EventBridge gets the documented statement for each kind of thing the key encrypts."""
    statements = [
        {
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if topic:
        statements.append(TOPIC_KEY_STATEMENT)
    if queue:
        statements.append(QUEUE_KEY_STATEMENT)
    if logs:
        statements.append(logs)
    return {"Version": "2012-10-17", "Statement": statements}


def e2e_queue_policy(e: Expected) -> dict:
    """The test's own queue (extra_resources_text), not fanin's."""
    return queue_policy_for_sns(f"arn:aws:sqs:{e.hub_region}:{e.hub_id}:{TEST_QUEUE}", e.topic_arn)


def queue_policy_for_sns(queue_arn: str, topic_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }


def live_key(account: str, topic: bool, queue: bool, logs: dict | None = None) -> dict:
    return {
        "state": "Enabled",
        "manager": "CUSTOMER",
        "spec": "SYMMETRIC_DEFAULT",
        "usage": "ENCRYPT_DECRYPT",
        "rotation": True,
        "policy_names": ["default"],
        "policy": canonical_policy(key_policy(account, topic, queue, logs)),
    }


def pending_key() -> dict:
    return {"state": "PendingDeletion", "manager": "CUSTOMER", "spec": "SYMMETRIC_DEFAULT",
            "usage": "ENCRYPT_DECRYPT", "deletion_in_days": KEY_DELETION_DAYS}


def canonical_policy(policy: dict | None) -> dict | None:
    """A policy with the order of its statements and of the values inside a list (actions,
    condition values) made irrelevant; nothing else changes (a string stays a string)."""
    if policy is None:
        return None

    def sort_lists(value):
        if isinstance(value, dict):
            return {k: sort_lists(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted((sort_lists(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return value

    out = sort_lists(policy)
    if isinstance(out.get("Statement"), list):
        out["Statement"] = sorted(out["Statement"], key=lambda st: json.dumps(st, sort_keys=True))
    return out


def empty_account() -> dict:
    return {"buses": set(), "rules": {}, "bus_policies": {}, "roles": {}, "topics": {}, "queues": {},
            "kms_keys": {}, "kms_aliases": set(), "archives": {}, "log_groups": {}, "log_policies": {}}


def spoke_resources(e: Expected) -> tuple[str, ...]:
    """The resources of one spoke module, as the inventory configures it."""
    out = (
        "aws_cloudwatch_event_rule.finding",
        "aws_cloudwatch_event_target.hub_bus",
        "aws_iam_role.forward_to_hub",
        "aws_iam_role_policy.put_events_on_hub_bus",
    )
    if e.dead_letter:
        out += ("aws_sqs_queue.dead_letter[0]", "aws_sqs_queue_policy.dead_letter[0]")
    if e.queues_use_keys:
        out += ("aws_kms_key.dead_letter[0]",)
    return out


BUS_POLICY_ADDRESS = "module.hub.aws_cloudwatch_event_bus_policy.intake[0]"


def hub_addresses(e: Expected, emails: list[str]) -> set[str]:
    """Every resource of the hub module, as the inventory configures it (no analyzer)."""
    out = {
        "module.hub.aws_cloudwatch_event_bus.intake[0]",
        "module.hub.aws_sns_topic.findings",
        "module.hub.aws_sns_topic_policy.findings",
    }
    if e.members:
        out.add(BUS_POLICY_ADDRESS)
    for number in sorted(e.buses)[1:]:
        out |= {f'module.hub.aws_cloudwatch_event_bus.additional_intake["{number}"]',
                f'module.hub.aws_cloudwatch_event_bus_policy.additional_intake["{number}"]'}
    out |= {f'module.hub.aws_sns_topic_subscription.email["{m}"]' for m in emails}
    if e.archive_days:
        out |= {f'module.hub.aws_cloudwatch_event_archive.findings["{key}"]' for key in e.hub_bus_keys()}
    if e.log_days:
        out |= {"module.hub.aws_cloudwatch_log_group.findings[0]",
                "module.hub.aws_cloudwatch_log_resource_policy.findings[0]"}
        out |= {f'module.hub.aws_cloudwatch_event_target.findings_log["{key}"]' for key in e.hub_rules()}
    for key in e.hub_rules():
        out |= {f'module.hub.aws_cloudwatch_event_rule.finding["{key}"]',
                f'module.hub.aws_cloudwatch_event_target.findings_topic["{key}"]'}
    if e.hub_key:
        out.add("module.hub.aws_kms_key.hub[0]")
    if e.dead_letter:
        out |= {"module.hub.aws_sqs_queue.dead_letter[0]", "module.hub.aws_sqs_queue_policy.dead_letter[0]"}
    if e.findings_queue:
        out |= {"module.hub.aws_sqs_queue.findings[0]", "module.hub.aws_sqs_queue_policy.findings[0]"}
        out |= {f'module.hub.aws_cloudwatch_event_target.findings_queue["{key}"]' for key in e.hub_rules()}
    return out


TEST_ONLY_ADDRESSES = {
    "aws_sqs_queue.e2e_findings",
    "aws_sqs_queue_policy.e2e_findings",
    "aws_sns_topic_subscription.e2e_findings",
}


def expected_snapshot(
    e: Expected, accounts: list[str], emails: list[str], pending: dict[str, set] | None = None
) -> dict[str, dict]:
    """Exactly what must exist in every listed account after an apply of `e`, test-only queue
    and subscription included. `pending`: account -> {(region, key ARN)} of keys that an
    earlier apply scheduled for deletion (KMS never deletes a key at once)."""
    snap = {a: empty_account() for a in accounts}
    hub = snap[e.hub_id]
    for number, members in e.buses.items():
        hub["buses"].add((e.hub_region, e.bus_name(number)))
        if members:
            hub["bus_policies"][(e.hub_region, e.bus_name(number))] = canonical_policy(
                bus_policy(e.bus_arn(number), members))
    sources = e.hub_rule_sources()
    for key, (bus, rule, arn) in e.hub_rules().items():
        hub["rules"][(e.hub_region, bus, rule)] = {
            "arn": arn,
            "pattern": e.source_pattern(sources[key][1]),
            "state": "ENABLED",
            # By id: the log group's target (with [notify] log_days), the findings queue's
            # (with [notify] queue), then the topic's.
            "targets": [{"id": "findings-log", "arn": e.log_group_arn, "role": None, "retry": RETRY_POLICY,
                         "dlq": e.hub_dlq_arn if e.dead_letter else None}] * bool(e.log_days)
            + [{"id": "findings-queue", "arn": e.hub_queue_arn, "role": None, "retry": RETRY_POLICY,
                "dlq": e.hub_dlq_arn if e.dead_letter else None}] * e.findings_queue
            + [{"id": "findings-topic", "arn": e.topic_arn, "role": None, "retry": RETRY_POLICY,
                "dlq": e.hub_dlq_arn if e.dead_letter else None}],
        }
    for key, (bus, _) in e.hub_bus_keys().items():
        if e.archive_days:
            source = (f"arn:aws:events:{e.hub_region}:{e.hub_id}:event-bus/{bus}")
            hub["archives"][(e.hub_region, f"{e.prefix}-{key}-findings")] = {
                "source": source,
                # The default bus carries every event of the hub: only the forwarded ones.
                "pattern": e.spoke_pattern if bus == "default" else None,
                "retention": e.archive_days,
            }
    queue_arn = f"arn:aws:sqs:{e.hub_region}:{e.hub_id}:{TEST_QUEUE}"
    hub["topics"][e.topic_arn] = {
        "subscriptions": sorted([("email", m) for m in emails] + [("sqs", queue_arn)]),
        "kms": OWN_KEY if e.encrypt_topic else None,
        "policy": canonical_policy(topic_policy(e)),
    }
    # The test's own queue sets no encryption: new queues get SSE-SQS by default (AWS's
    # default since 2022, which moto and hashicorp/aws 5.x follow).
    hub["queues"][(e.hub_region, TEST_QUEUE)] = {
        "kms": None, "sse_sqs": True, "policy": canonical_policy(e2e_queue_policy(e)),
        "retention": SQS_DEFAULT_RETENTION,
    }
    users = []
    if e.encrypt_topic:
        users.append(f"sns:{e.topic}")
    if e.dead_letter:
        if e.queues_use_keys:
            users.append(f"sqs:{e.hub_dlq}")
        hub["queues"][(e.hub_region, e.hub_dlq)] = {
            "kms": OWN_KEY if e.queues_use_keys else None,
            "sse_sqs": None if e.queues_use_keys else True,
            "policy": canonical_policy(queue_policy(e.hub_dlq_arn, e.hub_rule_arns)),
            "retention": DLQ_RETENTION,
        }
    if e.findings_queue:
        if e.findings_queue_uses_key:
            users.append(f"sqs:{e.hub_queue}")
        hub["queues"][(e.hub_region, e.hub_queue)] = {
            "kms": OWN_KEY if e.findings_queue_uses_key else None,
            "sse_sqs": None if e.findings_queue_uses_key else True,
            "policy": canonical_policy(findings_queue_policy(e)),
            "retention": DLQ_RETENTION,
        }
    logs_statement = None
    if e.log_days:
        users.append(f"logs:{e.log_group}")
        logs_statement = logs_key_statement(e.hub_region, e.log_group_arn)
        hub["log_groups"][(e.hub_region, e.log_group)] = {"retention": e.log_days, "kms": OWN_KEY}
        hub["log_policies"][(e.hub_region, f"{e.prefix}-findings-log")] = canonical_policy(log_resource_policy(e))
    if users:
        hub["kms_keys"][(e.hub_region, key_label(users))] = live_key(
            e.hub_id, e.encrypt_topic, e.hub_queues_use_key, logs_statement)
    for account, regions in e.spokes.items():
        a = snap[account]
        for region in regions:
            role = e.role_name(region)
            rule_arn = e.spoke_rule_arn(account, region)
            bus_arn = e.bus_arn(e.bus_of(account))
            a["rules"][(region, "default", e.spoke_rule)] = {
                "arn": rule_arn,
                "pattern": e.spoke_pattern,
                "state": "ENABLED",
                "targets": [
                    {"id": "hub-intake-bus", "arn": bus_arn, "role": f"arn:aws:iam::{account}:role/{role}",
                     "retry": RETRY_POLICY, "dlq": e.spoke_dlq_arn(account, region) if e.dead_letter else None}
                ],
            }
            a["roles"][role] = {"trust": trust_policy(account, rule_arn), "policies": [put_events_policy(bus_arn)],
                                "attached": []}
            if e.dead_letter:
                a["queues"][(region, e.spoke_dlq)] = {
                    "kms": OWN_KEY if e.queues_use_keys else None,
                    "sse_sqs": None if e.queues_use_keys else True,
                    "policy": canonical_policy(queue_policy(e.spoke_dlq_arn(account, region), rule_arn)),
                    "retention": DLQ_RETENTION,
                }
            if e.queues_use_keys:
                a["kms_keys"][(region, key_label([f"sqs:{e.spoke_dlq}"]))] = live_key(account, False, True)
    for account, keys in (pending or {}).items():
        for region, arn in keys:
            snap[account]["kms_keys"][(region, ("pending deletion", arn))] = pending_key()
    return snap


def key_label(users: list[str]) -> tuple:
    return ("encrypts", *sorted(users))


def comparable(snap: dict[str, dict]) -> dict[str, dict]:
    """Listing -> the shape of expected_snapshot. Policy names are dropped, policies made
    order-insensitive (canonical_policy). KMS key ids are random, so a
    live key is named by what it encrypts in its account and region (the queues and topics
    whose KmsMasterKeyId is its ARN), and a queue's or topic's key becomes OWN_KEY when it is the
    ARN of a live key listed in the same account and region (anything else stays as it is and
    shows in the diff). A key scheduled for deletion is named by its ARN."""
    out = {}
    for account, a in snap.items():
        b = dict(a)
        b["bus_policies"] = {k: canonical_policy(v) for k, v in a["bus_policies"].items()}
        b["roles"] = {
            name: {"trust": r["trust"], "policies": list(r["policies"].values()), "attached": r["attached"]}
            for name, r in a["roles"].items()
        }
        live = {
            (region, arn) for (region, arn), k in a["kms_keys"].items() if k["state"] != "PendingDeletion"
        }

        def region_of(arn: str) -> str:
            return arn.split(":")[3]

        def resolve(region: str, kms: str | None):
            return OWN_KEY if (region, kms) in live else kms

        # A queue has one server-side encryption (SQS API reference, CreateQueue:
        # SqsManagedSseEnabled or KmsMasterKeyId); moto still reports SSE-SQS on beside a key,
        # so a queue with its own key is compared by the key alone (sse_sqs None).
        b["queues"] = {
            (region, name): {"kms": resolve(region, q["kms"]),
                             "sse_sqs": None if resolve(region, q["kms"]) == OWN_KEY else q["sse_sqs"],
                             "policy": canonical_policy(q["policy"]), "retention": q["retention"]}
            for (region, name), q in a["queues"].items()
        }
        b["log_groups"] = {
            (region, name): {"retention": g["retention"], "kms": resolve(region, g["kms"])}
            for (region, name), g in a["log_groups"].items()
        }
        b["log_policies"] = {k: canonical_policy(v) for k, v in a["log_policies"].items()}
        b["topics"] = {
            arn: {"subscriptions": t["subscriptions"], "kms": resolve(region_of(arn), t["kms"]),
                  "policy": canonical_policy(t["policy"])}
            for arn, t in a["topics"].items()
        }
        keys = {}
        for (region, arn), k in a["kms_keys"].items():
            k = {name: v for name, v in k.items() if name != "description"}
            if k["state"] == "PendingDeletion":
                label = ("pending deletion", arn)
            else:
                users = [f"sqs:{name}" for (r, name), q in a["queues"].items() if r == region and q["kms"] == arn]
                users += [f"sns:{t.rsplit(':', 1)[-1]}" for t, v in a["topics"].items()
                          if region_of(t) == region and v["kms"] == arn]
                users += [f"logs:{name}" for (r, name), g in a["log_groups"].items()
                          if r == region and g["kms"] == arn]
                label = key_label(users) if users else ("encrypts nothing", arn)
                k["policy"] = canonical_policy(k["policy"])
            keys[(region, label)] = k
        b["kms_keys"] = keys
        out[account] = b
    return out


def live_keys(snap: dict[str, dict]) -> dict[str, set]:
    """account -> {(region, ARN)} of the keys not scheduled for deletion, from a listing."""
    return {
        account: {key for key, k in a["kms_keys"].items() if k["state"] != "PendingDeletion"}
        for account, a in snap.items()
    }


def least_privilege_problems(snap: dict[str, dict], e: Expected) -> list[str]:
    """Least privilege of the policies moto stores (the applied ones), checked from the wiring
    that exists rather than from expected_snapshot: whom each policy may let in follows from
    which rule targets what. Empty when every grant is as narrow as fanin promises and as AWS
    documents for each service pair:

    - a bus policy exists only on the hub's intake buses; its principals are exactly the
      active members on that bus (`arn:aws:iam::<member>:root`), `events:PutEvents` only, on
      that bus, unconditioned;
    - every IAM role is trusted only by events.amazonaws.com for its own account
      (`aws:SourceAccount`) and the one rule whose target uses it (`aws:SourceArn`), has one
      inline statement (`events:PutEvents` on its account's intake bus) and no attached
      policy;
    - every topic accepts only events.amazonaws.com, only `sns:Publish` on itself, with no
      Condition (AWS: none can be used there), and only if a rule targets it;
    - every queue but the test's own accepts only events.amazonaws.com, only `sqs:SendMessage`
      on itself, only with `aws:SourceArn` = exactly the rules that send to it (as their target,
      the findings queue, or as their dead-letter queue);
    - every live key is rotated, encrypts something, and its policy has exactly the account's
      own root (`kms:*`) and, for EventBridge, exactly the documented statement of each kind of
      thing it encrypts (topic: `kms:GenerateDataKey*` + `kms:Decrypt`; queue: `kms:Decrypt` +
      `kms:GenerateDataKey`), without conditions; for Logs, the Logs guide's statement for
      the region's Logs service, conditioned on the one log group it encrypts;
    - every log resource policy lets only EventBridge create streams and put events, only in a
      log group a rule targets, and every log group is encrypted with a key."""
    problems: list[str] = []

    def actions(statement: dict) -> set[str]:
        a = statement.get("Action")
        return {a} if isinstance(a, str) else set(a or [])

    def principals(statement: dict) -> list[str]:
        p = statement.get("Principal")
        aws = p.get("AWS") if isinstance(p, dict) else p
        return [aws] if isinstance(aws, str) else list(aws or [])

    def source_arns(statement: dict) -> set[str] | None:
        cond = statement.get("Condition")
        if not cond or set(cond) != {"ArnEquals"} or set(cond["ArnEquals"]) != {"aws:SourceArn"}:
            return None
        v = cond["ArnEquals"]["aws:SourceArn"]
        return {v} if isinstance(v, str) else set(v)

    # The wiring: (rule ARN, target ARN, dead-letter queue ARN, role ARN) of every target.
    wiring = [
        (rule["arn"], t["arn"], t["dlq"], t["role"])
        for a in snap.values()
        for rule in a["rules"].values()
        for t in rule["targets"]
    ]

    def service_only(where: str, policy: dict | None, action: str, resource: str) -> list[dict]:
        """The statements of a policy that must only let EventBridge do `action` on itself."""
        if policy is None:
            problems.append(f"{where}: no policy")
            return []
        statements = policy.get("Statement", [])
        if not statements:
            problems.append(f"{where}: a policy without statements")
        for st in statements:
            if st.get("Effect") != "Allow" or st.get("Principal") != EVENTS:
                problems.append(f"{where}: a statement for someone other than EventBridge: {st}")
            if actions(st) != {action} or st.get("Resource") != resource:
                problems.append(f"{where}: grants {sorted(actions(st))} on {st.get('Resource')}, want {action} on itself")
        return statements

    for account, a in snap.items():
        # Bus policies: only the intake buses, only their members, only PutEvents.
        intake_buses = {e.bus_name(n): n for n in e.buses}
        for (region, bus), policy in a["bus_policies"].items():
            where = f"{account} bus {region}/{bus}"
            if (account, region) != (e.hub_id, e.hub_region) or bus not in intake_buses:
                problems.append(f"{where}: a bus policy outside the hub's intake buses")
                continue
            number = intake_buses[bus]
            members = []
            for st in policy.get("Statement", []):
                for principal in principals(st):
                    m = re.fullmatch(r"arn:aws:iam::(\d{12}):root", principal or "")
                    members.append(m.group(1) if m else principal)
                if (st.get("Effect") != "Allow" or actions(st) != {"events:PutEvents"}
                        or st.get("Resource") != e.bus_arn(number)):
                    problems.append(f"{where}: grants more than PutEvents on that bus: {st}")
                if st.get("Condition"):
                    problems.append(f"{where}: a conditioned statement: {st}")
            if sorted(members) != sorted(e.buses[number]):
                problems.append(f"{where}: principals {sorted(members)}, want its active members "
                                f"{sorted(e.buses[number])}")
        for number, members in e.buses.items():
            if account == e.hub_id and members and (e.hub_region, e.bus_name(number)) not in a["bus_policies"]:
                problems.append(f"{account}: the intake bus {e.bus_name(number)} has no policy, "
                                "its members cannot deliver")

        # Roles.
        for name, role in a["roles"].items():
            where = f"{account} role {name}"
            rules = [rule for rule, _, _, role_arn in wiring if role_arn == role["arn"]]
            if len(rules) != 1:
                problems.append(f"{where}: used by the targets of {rules}, want exactly one rule")
            elif role["trust"] != trust_policy(account, rules[0]):
                problems.append(f"{where}: trust {role['trust']}")
            if list(role["policies"].values()) != [put_events_policy(e.bus_arn(e.bus_of(account)))]:
                problems.append(f"{where}: inline policies {role['policies']}")
            if role["attached"]:
                problems.append(f"{where}: attached policies {role['attached']}")

        # Topics: EventBridge may publish, unconditioned (AWS documents no Condition there).
        for arn, topic in a["topics"].items():
            where = f"{account} topic {arn}"
            if not any(target == arn for _, target, _, _ in wiring):
                problems.append(f"{where}: no rule targets it")
            for st in service_only(where, topic["policy"], "sns:Publish", arn):
                if st.get("Condition"):
                    problems.append(f"{where}: a Condition, which AWS says EventBridge cannot meet: {st}")

        # Queues: EventBridge may send, only for the rules that use the queue.
        for (region, name), queue in a["queues"].items():
            if (account, region, name) == (e.hub_id, e.hub_region, TEST_QUEUE):
                continue  # the test's own queue (sns.amazonaws.com for the topic), not fanin's
            where = f"{account} queue {region}/{name}"
            senders = {rule for rule, target, dlq, _ in wiring if queue["arn"] in (target, dlq)}
            if not senders:
                problems.append(f"{where}: no rule sends to it (as target or dead-letter queue)")
            for st in service_only(where, queue["policy"], "sqs:SendMessage", queue["arn"]):
                if source_arns(st) != senders:
                    problems.append(f"{where}: aws:SourceArn {sorted(source_arns(st) or ['<none>'])}, "
                                    f"want the rules {sorted(senders)}")

        # Log groups: EventBridge (and the Logs delivery service, as AWS's own console policy
        # names it) may only create streams and put events, only in a group a rule targets.
        targeted_groups = {target for _, target, _, _ in wiring if ":log-group:" in target}
        for (region, name), policy in a["log_policies"].items():
            where = f"{account} log resource policy {region}/{name}"
            for st in policy.get("Statement", []):
                group = st.get("Resource", "").removesuffix(":*")
                if (st.get("Effect") != "Allow"
                        or st.get("Principal") != LOG_WRITERS
                        or actions(st) != {"logs:CreateLogStream", "logs:PutLogEvents"}
                        or group not in targeted_groups or st.get("Condition")):
                    problems.append(f"{where}: grants more than EventBridge writing a targeted group: {st}")
        for (region, name), group in a["log_groups"].items():
            if group["kms"] is None:
                problems.append(f"{account} log group {region}/{name}: not encrypted with a key")

        # Keys: the account administers, EventBridge gets exactly the documented statements.
        for (region, arn), key in a["kms_keys"].items():
            if key["state"] == "PendingDeletion":
                continue
            where = f"{account} key {region} {arn}"
            topics = any(topic["kms"] == arn for topic in a["topics"].values())
            queues = any(q["kms"] == arn for q in a["queues"].values())
            groups = [name for (r, name), g in a["log_groups"].items() if r == region and g["kms"] == arn]
            if not (topics or queues or groups):
                problems.append(f"{where}: encrypts nothing")
            if len(groups) > 1:
                problems.append(f"{where}: encrypts several log groups {groups}, fanin makes one")
            if not key["rotation"]:
                problems.append(f"{where}: rotation off")
            logs = None
            if groups:
                logs = logs_key_statement(region, f"arn:aws:logs:{region}:{account}:log-group:{groups[0]}")
            want = key_policy(account, topics, queues, logs)
            if canonical_policy(key["policy"]) != canonical_policy(want):
                problems.append(f"{where}: policy {key['policy']}, want {want}")
    return problems


def snapshot_diff(actual: dict[str, dict], expected: dict[str, dict]) -> str:
    lines = []
    for account in sorted(set(actual) | set(expected)):
        a, e = actual.get(account, {}), expected.get(account, {})
        for kind in sorted(set(a) | set(e)):
            got, want = a.get(kind), e.get(kind)
            if got == want:
                continue
            if isinstance(got, (dict, set)) and isinstance(want, (dict, set)):
                for key in sorted(set(got) | set(want), key=str):
                    if key not in want:
                        lines.append(f"{account} {kind}: unexpected {key!r}" + (f" = {got[key]!r}" if isinstance(got, dict) else ""))
                    elif key not in got:
                        lines.append(f"{account} {kind}: missing {key!r}" + (f" (want {want[key]!r})" if isinstance(want, dict) else ""))
                    elif isinstance(got, dict) and got[key] != want[key]:
                        lines.append(f"{account} {kind}: {key!r} is {got[key]!r}, want {want[key]!r}")
            else:
                lines.append(f"{account} {kind}: {got!r} != {want!r}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plan JSON
def managed_changes(plan: dict) -> dict[str, dict]:
    """address -> resource_change, managed resources only (data sources are reads)."""
    return {rc["address"]: rc for rc in plan.get("resource_changes", []) if rc.get("mode") == "managed"}


def by_action(plan: dict) -> dict[str, set[str]]:
    """"create", "update", "delete", "no-op", ... -> addresses whose actions include it."""
    out: dict[str, set[str]] = {}
    for address, rc in managed_changes(plan).items():
        for action in rc["change"]["actions"]:
            out.setdefault(action, set()).add(address)
    return out


def planned_resources(plan: dict) -> list[dict]:
    return module_resources(plan.get("planned_values", {}).get("root_module", {}))


def module_resources(module: dict) -> list[dict]:
    """The resources of a module in `show -json` output, its child modules' included."""
    found = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        found.extend(module_resources(child))
    return found


def spoke_addresses(module: str, e: Expected) -> set[str]:
    return {f"module.{module}.{r}" for r in spoke_resources(e)}




# --------------------------------------------------------------------------- the deploy role
def _resolve(v, values: dict, conditions: dict):
    """A CloudFormation value as CloudFormation resolves it: Ref, Fn::Sub, Fn::If; None for
    AWS::NoValue. Conditions are evaluated from the template's Conditions section (Fn::Equals,
    Fn::Not, Fn::And and a Condition named inside one)."""

    def truth(c) -> bool:
        (fn, args), = c.items()
        if fn == "Fn::Equals":
            return _resolve(args[0], values, conditions) == _resolve(args[1], values, conditions)
        if fn == "Fn::Not":
            return not truth(args[0])
        if fn == "Fn::And":
            return all(truth(a) for a in args)
        if fn == "Condition":
            return truth(conditions[args])
        raise AssertionError(f"condition function {fn} not handled")

    if isinstance(v, dict) and len(v) == 1:
        (fn, args), = v.items()
        if fn == "Ref":
            return None if args == "AWS::NoValue" else values[args]
        if fn == "Fn::Sub":
            text = args
            for name, value in values.items():
                text = text.replace("${" + name + "}", value)
            assert "${" not in text, text
            return text
        if fn == "Fn::If":
            branch = args[1] if truth(conditions[args[0]]) else args[2]
            return _resolve(branch, values, conditions)
    if isinstance(v, list):
        return [r for r in (_resolve(i, values, conditions) for i in v) if r is not None]
    if isinstance(v, dict):
        return {k: r for k, r in ((k, _resolve(i, values, conditions)) for k, i in v.items()) if r is not None}
    return v


def deploy_role_grants(tree: Path) -> dict[str, set[str]]:
    """Account id -> the actions the deploy role grants there, with the parameters the tree's
    deploy-role/README.md prints for that account (the commands users run)."""
    import yaml

    template = yaml.safe_load((tree / "deploy-role" / "fanin-deploy-role.yaml").read_text())
    readme = (tree / "deploy-role" / "README.md").read_text()
    grants: dict[str, set[str]] = {}
    parts = readme.split("```sh\n")
    for before, block in zip(parts, parts[1:]):
        accounts = re.findall(r"\((\d{12})\)", before.strip().rsplit("\n\n", 1)[-1])
        assert accounts, f"no accounts named before:\n{block}"
        overrides = block.split("```")[0].split("--parameter-overrides", 1)[1]
        values = {name: spec.get("Default", "") for name, spec in template["Parameters"].items()}
        for word in overrides.split():
            if word != "\\":
                name, value = word.split("=", 1)
                values[name] = value
        values.update({"AWS::Partition": "aws", "AWS::AccountId": "000000000000"})
        role = template["Resources"]["DeployRole"]["Properties"]
        (policy,) = _resolve(role["Policies"], values, template["Conditions"])
        actions = set()
        for statement in policy["PolicyDocument"]["Statement"]:
            listed = statement["Action"]
            actions |= {listed} if isinstance(listed, str) else set(listed)
        for account in accounts:
            grants[account] = actions
    return grants


# Calls that need no permission of the deploy role: STS answers GetCallerIdentity to anyone
# ("No permissions are required to perform this operation", STS API reference); the source
# credentials, not the role, call AssumeRole; and the provider's account-id lookup tries
# iam:GetUser first and, when that is refused, asks STS (hashicorp/aws-sdk-go-base,
# getAccountIDAndPartition, tested there as "Ignore iam:GetUser failure with unauthorized
# user"): the role does not need it, so it does not get it.
NEEDS_NO_GRANT = {"sts:GetCallerIdentity", "sts:AssumeRole", "iam:GetUser"}


def engine_calls(moto: MotoServer) -> list[tuple[str, str]]:
    """(account, "service:Action") of every call the engine made, in order."""
    calls = []
    for line in moto.calls.read_text().splitlines():
        c = json.loads(line)
        calls.append((c["account"], f'{c["service"]}:{c["action"]}'))
    return calls


# ----------------------------------------------------------------------------- parliament
def state_resources(engine: Engine) -> list[dict]:
    """Every resource in the state, with its values as the engine recorded them."""
    shown = json.loads(engine("show", "-json").stdout)
    return module_resources(shown.get("values", {}).get("root_module", {}))


# The resources of fanin's modules that hold a policy document, and in which attribute.
POLICY_HOLDERS = {
    "aws_cloudwatch_event_bus_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_kms_key": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_cloudwatch_log_resource_policy": "policy_document",
}


def emitted_policies(resources: list[dict]) -> dict[str, dict]:
    """Every policy document fanin's modules set, by resource address, as parliament (a
    linter of identity policies, which wants a Resource in every statement) reads it, meaning
    the same:
    - a key policy's `"Resource": "*"` is the key itself (AWS KMS Developer Guide, "Key
      policies in AWS KMS": in a key policy, "*" means "this KMS key"), so it becomes the
      key's ARN; the default statement that lets the account's IAM policies decide (the
      account's root, `kms:*`) is held to AWS's form instead (see below);
    - a role's trust policy has no Resource (IAM refuses one there: the policy is about the
      role it is attached to), so each statement gets the role's ARN;
    - the CloudWatch Logs statement of a key is held to the CloudWatch Logs user guide's text
      (see below)."""
    policies = {}
    for r in resources:
        attribute = POLICY_HOLDERS.get(r["type"])
        if not r["address"].startswith("module.") or attribute is None:
            continue
        policy = json.loads(r["values"][attribute])
        if r["type"] == "aws_kms_key":
            # AWS KMS's default key policy statement (Developer Guide, "Default key policy":
            # the account's root, kms:*, "*"), which lets the account's IAM policies decide:
            # `kms:*` on "this key" has no identity-policy form (kms:* includes actions that
            # take no key), so it is held to its documented form here and the rest is linted.
            account = r["values"]["arn"].split(":")[4]
            default = {"Sid": "AccountAdministersKey", "Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
            assert policy["Statement"].count(default) == 1, (r["address"], policy)
            policy["Statement"].remove(default)
            # CloudWatch Logs' statement (the findings log group's key) is held to the CloudWatch
            # Logs user guide's text as well: its wildcard actions and its encryption-context
            # condition are the documented form, which parliament reads as an identity policy
            # (Describe* takes no key; it types the context key as a string).
            region = r["values"]["arn"].split(":")[3]
            for statement in [st for st in policy["Statement"] if st.get("Sid") == "CloudWatchLogsEncryptsFindingsLog"]:
                group = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
                assert re.fullmatch(rf"arn:aws:logs:{region}:{account}:log-group:/aws/events/[a-z0-9-]+-findings", group), group
                assert statement == logs_key_statement(region, group), (r["address"], statement)
                policy["Statement"].remove(statement)
            assert policy["Statement"], (r["address"], "a key only the account administers")
            for statement in policy["Statement"]:
                assert statement["Resource"] == "*", (r["address"], statement)
                statement["Resource"] = r["values"]["arn"]
        if r["type"] == "aws_iam_role":
            for statement in policy["Statement"]:
                assert "Resource" not in statement, (r["address"], statement)
                statement["Resource"] = r["values"]["arn"]
        policies[r["address"]] = policy
    return policies


def assert_parliament_finds_nothing(policies: dict[str, dict], scratch: Path) -> None:
    """parliament (PyPI, the version tests/deploy_role.rs uses) finds nothing in any of the
    policies, and does find something in a broken one (so that it ran)."""
    parliament = os.environ.get("FANIN_PARLIAMENT", "")
    if not parliament or not Path(parliament).is_file():
        fail(f"FANIN_PARLIAMENT={parliament!r} is not parliament: run scripts/e2e (it installs it)")
    scratch.mkdir(parents=True, exist_ok=False)
    files = {}
    for i, (address, policy) in enumerate(sorted(policies.items())):
        name = f"{i:03d}.json"
        (scratch / name).write_text(json.dumps(policy, indent=2))
        files[name] = address

    def lint() -> tuple[int, list[dict]]:
        r = subprocess.run([parliament, "--directory", str(scratch), "--json"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        return r.returncode, [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    rc, findings = lint()
    for finding in findings:
        name = Path(finding.get("location", {}).get("filepath", "?")).name
        finding["policy of"] = files.get(name, name)
    assert rc == 0 and not findings, f"parliament (exit {rc}) on {len(files)} policies:\n" + "\n".join(
        json.dumps(f) for f in findings)
    (scratch / "broken.json").write_text(json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutPermission",
                       "Resource": "arn:aws:events:*:123456789012:event-bus/x"}],
    }))
    rc, findings = lint()
    assert rc != 0 and findings, "parliament found nothing in a broken policy"


def assert_archives_hold_findings(aws: "Aws", e: "Expected") -> None:
    """Each intake bus's archive holds events (the findings members forwarded there)."""
    events = aws.client(e.hub_id, "events", e.hub_region)
    for key, (bus, _) in e.hub_bus_keys().items():
        if bus == "default":
            continue
        name = f"{e.prefix}-{key}-findings"
        count = events.describe_archive(ArchiveName=name)["EventCount"]
        assert count > 0, f"the archive {name} of {bus} holds no event"
