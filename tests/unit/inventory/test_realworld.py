"""Real inventories written by other people, loaded by sshorch and by ``ansible-inventory --list``.

The inventories live beside the repository in ``../shared/realworld/inventories``
(``manifest.json`` names each one's entry files, ``SOURCES.md`` where it comes
from); the test skips where that folder is absent.

Two tools agree on an inventory when

* both load it, with the same hosts, each host in the same groups (directly or
  through children; ``all`` aside) and ``ungrouped`` holding the same hosts, and
  each host's effective variables equal: Ansible's JSON marks strings
  ``{"__ansible_unsafe": text}`` and vault values ``{"__ansible_vault": text}``,
  which compare to the text and to sshorch's ``Vaulted`` value; Jinja2 text
  compares as written, because ``ansible-inventory --list`` does not render
  templates either (``test_templates_are_listed_as_written`` checks that); or
* both refuse it (Ansible with unparsed sources made fatal, as a run would
  have no hosts), sshorch with one line naming the file.

Every other outcome must be a deliberate refusal listed in ``REFUSALS`` with
its reason: sshorch refuses with one line containing the text given there.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sshorch.errors import InventoryError
from sshorch.inventory import Inventory, Vaulted, load_inventory
from sshorch.secrets.vault import vault_decrypter

REALWORLD = Path(__file__).parents[3].parent / "shared" / "realworld" / "inventories"
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"
_ANSIBLE_INTERNAL = {"inventory_file", "inventory_dir", "inventory_hostname", "inventory_hostname_short", "group_names"}

# Inventories sshorch refuses where Ansible loads them: directory -> (text of sshorch's error, why).
REFUSALS: dict[str, tuple[str, str]] = {
    "ansible__ansible__yaml_unicode": (
        "invalid host name 'příbor'",
        "a host name is the node's name in labels, state and commands: sshorch keeps node names to DNS"
        " characters (write the IDNA form, xn--pbor-..., or an ASCII alias with ansible_host)",
    ),
    "kubernetes-sigs__kubespray__sample": (
        "the inventory has no hosts",
        "every host is commented out: sshorch says so at once instead of planning onto no node",
    ),
    "geerlingguy__ansible-for-devops__lamp_digitalocean": (
        "the inventory has no hosts",
        "groups only (hosts come from a cloud API at run time): no node to run on",
    ),
    "kubernetes-sigs__kubespray__sample_yaml_2019": (
        "the inventory has no hosts",
        "everything commented out: no node to run on",
    ),
    "kubernetes-sigs__kubespray__sample_yaml_2020": (
        "invalid host name 'node1 node2 node3'",
        "'hosts:' written as indented names without colons is one multi-line string: Ansible makes one host"
        " named 'node1 node2 node3', which no SSH connection can reach",
    ),
    "ansible__ansible__constructed": (
        "inventory plugin configurations (plugin: 'ansible.builtin.constructed') are not supported",
        "inventory plugins run Ansible code (here: groups from Jinja2 expressions); sshorch reads static inventories",
    ),
    "ansible__ansible__toml": (
        "TOML inventories are not supported",
        "a format almost nobody writes; INI and YAML cover the same inventories",
    ),
    "ansible__ansible__delegate_to": (
        "ansible_host must be a host name or IP address",
        "Jinja2 in a connection variable ('{{myhost}}') would need Ansible's whole templating (lookups,"
        " facts); sshorch renders no inventory value and says which one to write out",
    ),
    "mitogen-hq__mitogen__default_hosts": (
        "ansible_user must be a user name",
        "Jinja2 in connection variables (\"{{ lookup('pipe', 'whoami') }}\"): as above",
    ),
    "ansible__ansible__invalid_sample": (
        "variable name 7.2 must be a non-empty string",
        "a float as a variable name; Ansible's own test calls this inventory invalid",
    ),
}

# Vault passwords of inventories that need one: the password ansible/ansible's
# ansible-vault test target encrypts its files with.
VAULT_PASSWORDS = {"ansible__ansible__vaulted_inventory": "test-vault-password"}


@dataclass(frozen=True)
class Case:
    name: str
    sources: tuple[Path, ...]


def _cases() -> list[Case]:
    manifest = REALWORLD / "manifest.json"
    if not manifest.exists():
        return []
    entries = json.loads(manifest.read_text())
    return [Case(entry["dir"], tuple(REALWORLD / entry["dir"] / file for file in entry["entry"])) for entry in entries]


CASES = _cases()
needs_realworld = pytest.mark.skipif(not CASES, reason=f"{REALWORLD} is absent")


@dataclass(frozen=True)
class AnsibleResult:
    listing: dict[str, Any] | None
    error: str


def _run_ansible(case: Case, home: Path, password_dir: Path) -> AnsibleResult:
    command = [str(ANSIBLE_INVENTORY), *[arg for source in case.sources for arg in ("-i", str(source))], "--list"]
    if case.name in VAULT_PASSWORDS:
        password = password_dir / case.name
        password.write_text(VAULT_PASSWORDS[case.name])
        command += ["--vault-password-file", str(password)]
    env = {
        **os.environ,
        "HOME": str(home),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_CONFIG": str(home / "ansible.cfg"),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_NOCOLOR": "1",
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=home, timeout=300)
    if done.returncode != 0:
        return AnsibleResult(None, done.stderr.strip())
    return AnsibleResult(json.loads(done.stdout), "")


def _fingerprint() -> str:
    """The inventories' content and the ansible-core that reads them: the key of cached listings."""
    digest = hashlib.sha256(ANSIBLE_INVENTORY.resolve().read_bytes())
    digest.update(importlib.metadata.version("ansible-core").encode())
    for path in sorted(REALWORLD.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(REALWORLD)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def ansible_results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, AnsibleResult]]:
    if not ANSIBLE_INVENTORY.exists():
        pytest.skip(f"ansible-inventory not found next to {sys.executable} (install ansible-core)")
    # Ansible's answers only change with the inventories or ansible-core: kept in pytest's cache.
    key = f"sshorch/realworld-ansible/{_fingerprint()}"
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    cached = cache.get(key, None) if cache is not None else None
    if cached is not None:
        yield {name: AnsibleResult(**result) for name, result in cached.items()}
        return
    home = tmp_path_factory.mktemp("ansible-home")
    (home / "ansible.cfg").write_text("")
    passwords = tmp_path_factory.mktemp("vault-passwords")
    # Four at a time: each run is about a second of CPU, and the machine has two cores.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip([c.name for c in CASES], pool.map(lambda c: _run_ansible(c, home, passwords), CASES)))
    if cache is not None:
        cache.set(key, {name: {"listing": r.listing, "error": r.error} for name, r in results.items()})
    yield results


def _load(case: Case, tmp_path: Path) -> Inventory | InventoryError:
    decrypt = None
    if case.name in VAULT_PASSWORDS:
        (tmp_path / "password").write_text(VAULT_PASSWORDS[case.name])
        decrypt = vault_decrypter(tmp_path / "password")
    try:
        return load_inventory(list(case.sources), decrypt=decrypt)
    except InventoryError as error:
        assert "\n" not in str(error), f"{case.name}: the error is not one line: {error}"
        return error


def _plain(value: Any) -> Any:
    """What a value of sshorch's looks like in Ansible's JSON."""

    def default(item: Any) -> Any:
        if isinstance(item, Vaulted):
            return {"__ansible_vault": item.ciphertext}
        if isinstance(item, (datetime.date, datetime.datetime)):
            return item.isoformat()
        if isinstance(item, Mapping):
            return dict(item)
        raise TypeError(f"cannot encode {item!r}")

    return json.loads(json.dumps(value, default=default))


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _membership(listing: Mapping[str, Any]) -> dict[str, set[str]]:
    groups = {name: body for name, body in listing.items() if name != "_meta"}

    def members(name: str, seen: frozenset[str]) -> set[str]:
        body = groups.get(name, {})
        found = set(body.get("hosts", []))
        for child in body.get("children", []):
            if child not in seen:
                found |= members(child, seen | {name})
        return found

    membership: dict[str, set[str]] = {}
    for name in groups:
        for host in members(name, frozenset()):
            membership.setdefault(host, set())
            if name not in ("all", "ungrouped"):
                membership[host].add(name)
    return membership


def differences(inventory: Inventory, listing: Mapping[str, Any]) -> list[str]:
    """How sshorch's inventory differs from Ansible's listing; empty when they agree."""
    membership = _membership(listing)
    hostvars = listing["_meta"]["hostvars"]
    ours = sorted(host.name for host in inventory.hosts)
    if ours != sorted(membership):
        return [f"hosts: sshorch {ours}, Ansible {sorted(membership)}"]
    found = []
    for host in inventory.hosts:
        expected = {k: _unwrap(v) for k, v in hostvars.get(host.name, {}).items() if k not in _ANSIBLE_INTERNAL}
        got = _plain(host.vars)
        for key in sorted(set(got) | set(expected)):
            if got.get(key, "<unset>") != expected.get(key, "<unset>"):
                found.append(f"{host.name}: {key}: sshorch {got.get(key, '<unset>')!r}, Ansible {expected.get(key, '<unset>')!r}")
        if set(host.groups) != membership[host.name]:
            found.append(f"{host.name}: groups: sshorch {sorted(host.groups)}, Ansible {sorted(membership[host.name])}")
    ungrouped = set(listing.get("ungrouped", {}).get("hosts", []))
    if set(inventory.groups["ungrouped"].hosts) != ungrouped:
        found.append(f"ungrouped: sshorch {sorted(inventory.groups['ungrouped'].hosts)}, Ansible {sorted(ungrouped)}")
    return found


@needs_realworld
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_sshorch_reads_the_inventory_as_ansible_does(
    case: Case, ansible_results: dict[str, AnsibleResult], tmp_path: Path
) -> None:
    ansible = ansible_results[case.name]
    ours = _load(case, tmp_path)
    if case.name in REFUSALS:
        text, _ = REFUSALS[case.name]
        assert ansible.listing is not None, f"{case.name}: Ansible refuses it too: drop it from REFUSALS"
        assert isinstance(ours, InventoryError), f"{case.name}: sshorch loads it now: drop it from REFUSALS"
        assert text in str(ours), str(ours)
        return
    if ansible.listing is None:
        assert isinstance(ours, InventoryError), f"{case.name}: Ansible refuses it ({ansible.error.splitlines()[-1]}), sshorch loads it"
        return
    assert not isinstance(ours, InventoryError), f"{case.name}: sshorch refuses what Ansible loads: {ours}"
    assert differences(ours, ansible.listing) == []


@needs_realworld
def test_templates_are_listed_as_written(ansible_results: dict[str, AnsibleResult]) -> None:
    # ansible-inventory --list prints Jinja2 text unrendered, so comparing it as text is fair.
    templated = {
        name
        for name, result in ansible_results.items()
        if result.listing is not None and name not in REFUSALS
        and any("{{" in json.dumps(host) for host in result.listing["_meta"]["hostvars"].values())
    }
    assert {"ansible__ansible__inventory_ini", "ansible__ansible-examples__lamp_haproxy"} <= templated


@needs_realworld
def test_every_refusal_names_a_real_inventory() -> None:
    assert set(REFUSALS) <= {case.name for case in CASES}
