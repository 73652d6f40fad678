"""Steps shared by the end-to-end scenarios (test_lifecycle.py, test_upgrade.py): each takes
the scenario's World (conftest.py) and acts on its tree, engine and fake AWS.
"""

from __future__ import annotations

import tomllib

import harness as h


def emails(w) -> list[str]:
    return tomllib.loads(w.text)["notify"]["emails"]


def assert_landed(w, accounts: list[str], why: str) -> None:
    """Every listed account holds exactly what the inventory says, nothing more (keys that an
    earlier apply scheduled for deletion included), and every applied policy is as narrow as
    the wiring that exists allows."""
    want = h.expected_snapshot(w.expected, accounts, emails(w), w.pending_keys)
    listing = w.aws.snapshot(accounts)
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
    w.record_provider()


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


def regenerate(w, text: str, *flags: str) -> h.Run:
    w.write_inventory(text)
    r = w.generate(*flags)
    assert r.rc == 0, f"fanin generate failed:\n{r.describe()}"
    assert_test_files_untouched(w)
    w.expected = h.expected_from(text)
    return r


def expected_aliases(e: h.Expected) -> set[str]:
    out = {f"{e.keys[e.hub_id]}_{e.hub_region.replace('-', '_')}"}
    for account, regions in e.spokes.items():
        out |= {f"{e.keys[account]}_{r.replace('-', '_')}" for r in regions}
    return out
