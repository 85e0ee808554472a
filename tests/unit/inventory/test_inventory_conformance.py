"""Our loader against the real ``ansible-inventory --list`` on tricky inventories.

For every host, the merged variables and the group membership must be
exactly what Ansible computes.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from sshorch.inventory import Inventory, load_inventory

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[3] / "inventories"
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"

# Each case: inventory sources, in the order given to Ansible with -i.
CASES: dict[str, list[Path]] = {
    "nested_children": [FIXTURES / "nested_children" / "hosts.ini"],
    "diamond": [FIXTURES / "diamond" / "hosts.yml"],
    "ranges": [FIXTURES / "ranges" / "hosts.ini", FIXTURES / "ranges" / "more.yaml"],
    "group_vars_dirs": [FIXTURES / "group_vars_dirs" / "hosts.yml"],
    "host_vars_override": [FIXTURES / "host_vars_override" / "hosts.ini"],
    "group_priority": [FIXTURES / "group_priority" / "hosts.yml", FIXTURES / "group_priority" / "more.ini"],
    "ini_types": [FIXTURES / "ini_types" / "hosts"],
    "multi_group": [FIXTURES / "multi_group" / "hosts.yml"],
    "dir_of_inventories": [FIXTURES / "dir_of_inventories" / "inv"],
    "yaml_null_hosts": [FIXTURES / "yaml_null_hosts" / "hosts.yaml"],
    "multi_source": [FIXTURES / "multi_source" / "one" / "hosts.ini", FIXTURES / "multi_source" / "two" / "hosts.yml"],
    "example_ini": [EXAMPLES / "example-ini"],
    "example_yaml": [EXAMPLES / "example-yaml" / "hosts.yml"],
}

# Variables Ansible itself sets on hosts and strips from --list output anyway.
_ANSIBLE_INTERNAL = {"inventory_file", "inventory_dir", "inventory_hostname", "inventory_hostname_short", "group_names"}


@pytest.fixture(scope="module")
def ansible_lists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """``ansible-inventory --list`` for every case, run in parallel."""
    if not ANSIBLE_INVENTORY.exists():
        pytest.skip(f"ansible-inventory not found next to {sys.executable} (install ansible-core)")
    home = tmp_path_factory.mktemp("ansible-home")
    config = home / "ansible.cfg"
    config.write_text("")
    env = {
        **os.environ,
        "HOME": str(home),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_NOCOLOR": "1",
    }
    running = {
        name: subprocess.Popen(
            [str(ANSIBLE_INVENTORY), *[arg for source in sources for arg in ("-i", str(source))], "--list"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=home,
        )
        for name, sources in CASES.items()
    }
    results: dict[str, dict[str, Any]] = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"ansible-inventory failed on {name}:\n{err}"
        results[name] = json.loads(out)
    yield results


def _plain(value: Any) -> Any:
    """What the value looks like in Ansible's JSON output."""

    def default(item: Any) -> Any:
        if isinstance(item, (datetime.date, datetime.datetime)):
            return item.isoformat()
        if isinstance(item, Mapping):
            return dict(item)
        raise TypeError(f"cannot encode {item!r}")

    return json.loads(json.dumps(value, default=default))


def _unwrap(value: Any) -> Any:
    """Ansible's JSON marks untrusted strings as {"__ansible_unsafe": text}; the value is the text."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _ansible_membership(listing: Mapping[str, Any]) -> dict[str, set[str]]:
    """host -> every group containing it (directly or via children), without all/ungrouped."""
    groups = {name: body for name, body in listing.items() if name != "_meta"}

    def members(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        body = groups.get(name, {})
        found = set(body.get("hosts", []))
        for child in body.get("children", []):
            if child not in seen:
                found |= members(child, seen | {name})
        return found

    membership: dict[str, set[str]] = {}
    for name in groups:
        for host in members(name):
            membership.setdefault(host, set())
            if name not in ("all", "ungrouped"):
                membership[host].add(name)
    return membership


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_ansible(case: str, ansible_lists: dict[str, dict[str, Any]]) -> None:
    listing = ansible_lists[case]
    inventory: Inventory = load_inventory(CASES[case])
    hostvars = listing["_meta"]["hostvars"]
    membership = _ansible_membership(listing)

    assert sorted(host.name for host in inventory.hosts) == sorted(membership)
    for host in inventory.hosts:
        expected = {k: _unwrap(v) for k, v in hostvars.get(host.name, {}).items() if k not in _ANSIBLE_INTERNAL}
        assert _plain(host.vars) == expected, f"{case}: vars of {host.name}"
        assert set(host.groups) == membership[host.name], f"{case}: groups of {host.name}"
    ungrouped = set(listing.get("ungrouped", {}).get("hosts", []))
    assert set(inventory.groups["ungrouped"].hosts) == ungrouped


def test_every_fixture_is_used() -> None:
    used = {path.relative_to(FIXTURES).parts[0] for sources in CASES.values() for path in sources if FIXTURES in path.parents}
    assert used == {path.name for path in FIXTURES.iterdir() if path.is_dir()}
