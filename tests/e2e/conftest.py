"""Set-up of the end-to-end suite: one fresh moto server and one fresh working directory
(inventory, tree, engine state) per scenario (test module: test_lifecycle.py,
test_upgrade.py), so that moto's state and the engine's state always start empty together.
The steps of a scenario run in file order and share it.

Nothing is ever skipped: a missing engine, fanin binary or moto is a failure.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import harness as h


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    engine = os.environ.get("FANIN_ENGINE", "")
    if not engine or not Path(engine).is_file():
        pytest.fail(
            f"FANIN_ENGINE={engine!r} is not an engine executable: run scripts/e2e "
            "(it installs the offline engine) or set FANIN_ENGINE and TF_CLI_CONFIG_FILE",
            pytrace=False,
        )
    if not os.environ.get("TF_CLI_CONFIG_FILE"):
        pytest.fail("TF_CLI_CONFIG_FILE is not set: source the engine's env file", pytrace=False)
    fanin = os.environ.get("FANIN_BIN", str(h.REPO / "target" / "debug" / "fanin"))
    if not Path(fanin).is_file():
        pytest.fail(f"no fanin binary at {fanin}: run `cargo build` (scripts/e2e does)", pytrace=False)

    home = tmp_path_factory.mktemp("e2e")
    moto = h.MotoServer(home / "moto.log")
    moto.start()
    w = World(home, moto, engine, fanin)
    try:
        yield w
    finally:
        moto.stop()
        # Stopped for real: nothing listens on its port any more.
        assert not moto.running(), "the moto server is still running"
        assert not h.listening_on(moto.port), f"port {moto.port} still listening after stop"


class World:
    """Everything the ordered steps share."""

    def __init__(self, home: Path, moto: h.MotoServer, engine: str, fanin: str):
        self.home = home
        self.moto = moto
        self.work = home / "work"
        self.tree = self.work / "tree"
        self.plans = home / "plans"
        for d in (self.work, self.plans, home / "aws", home / "tfdata"):
            d.mkdir(parents=True)
        (home / "aws" / "config").write_text("# TEST ONLY: no profile settings\n")
        (home / "aws" / "credentials").write_text("")
        self.inventory = self.work / "fanin.toml"
        self.runs: list[h.Run] = []
        self.fanin = h.Fanin(fanin, self.work, self.runs)
        self.engine = h.Engine(engine, self.tree, h.engine_env(home), self.runs)
        self.aws = h.Aws(moto.url)
        self.text = ""  # the inventory as last written
        self.expected: h.Expected | None = None
        self.test_files: dict[str, str] = {}  # test-only file -> sha256, to prove fanin left it alone
        self.plan_json: dict[str, dict] = {}  # step -> plan JSON
        self.profiles: dict[str, str] = {}  # profile name -> account id
        self.listing: dict[str, dict] = {}  # the last listing that matched the inventory
        # account -> {(region, key ARN)}: keys an apply scheduled for deletion (they stay listed)
        self.pending_keys: dict[str, set] = {}

    def record_provider(self) -> None:
        """After init: the hashicorp/aws version the engine chose, which must be the one the
        installed engine promises (FANIN_AWS_PROVIDER_VERSION, the newest in the mirror)."""
        version = h.aws_provider_version(self.tree)
        _providers.add(version)
        expected = os.environ.get("FANIN_AWS_PROVIDER_VERSION")
        assert not expected or version == expected, f"init chose hashicorp/aws {version}, not {expected}"

    def write_inventory(self, text: str) -> None:
        self.text = text
        self.inventory.write_text(text)

    def generate(self, *extra: str) -> h.Run:
        return self.fanin("generate", str(self.inventory), "--out", str(self.tree), *extra)


# ---------------------------------------------------------------- ordered steps, loud failures
_failed: dict[str, str] = {}
_durations: list[tuple[str, float]] = []
_providers: set[str] = set()  # every hashicorp/aws version an engine step ran on


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        _durations.append((item.name, report.duration))
    if report.failed and item.get_closest_marker("step"):
        _failed.setdefault(item.module.__name__, item.name)


@pytest.fixture(autouse=True)
def _earlier_steps_passed(request):
    """Each step builds on the state the previous ones left: after a failure, the later steps
    fail too (naming the first failure) instead of running against a broken state."""
    if request.node.get_closest_marker("step"):
        first = _failed.get(request.module.__name__)
        if first:
            pytest.fail(f"not run: the earlier step {first} failed", pytrace=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "step: an ordered step of the end-to-end scenario")
    config._e2e_started = time.monotonic()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    total = time.monotonic() - config._e2e_started
    tr = terminalreporter
    tr.section("fanin e2e provider")
    tr.write_line(f"every engine step ran on hashicorp/aws {', '.join(sorted(_providers)) or '(none: no step ran init)'}")
    tr.section("fanin e2e timings")
    for name, seconds in _durations:
        tr.write_line(f"{seconds:7.1f}s  {name}")
    tr.write_line(f"{total:7.1f}s  total (session, moto start/stop included)")
