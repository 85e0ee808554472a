"""Stored taints: the command's, merged with the inventory's, whose first-seen times are kept."""

from __future__ import annotations

from dataclasses import replace

from sshorch.inventory import Host
from sshorch.run.nodetaints import TAINTS, StoredTaints, node_taints
from sshorch.state import open_store
from sshorch.taints import Taint


def host(name: str, *taints: Taint) -> Host:
    return Host(name, "10.0.0.1", 22, "root", None, False, (), {}, {}, "podman", {}, taints=taints)


DB = Taint("dedicated", "NoSchedule", "db")


def test_inventory_taints_are_added_when_first_seen() -> None:
    taints, stored = node_taints(StoredTaints(), [host("n1", DB), host("n2")], 100.0)
    assert taints == {"n1": (replace(DB, added=100.0),)}
    again, kept = node_taints(stored, [host("n1", DB), host("n2")], 200.0)
    assert again == taints and kept == stored
    # Gone from the inventory: forgotten, so a later return is a new taint.
    _, forgotten = node_taints(stored, [host("n1"), host("n2")], 300.0)
    assert forgotten.first_seen == {}


def test_command_taints_join_and_win_for_the_same_key_and_effect() -> None:
    stored = StoredTaints({"n1": (Taint("dedicated", "NoSchedule", "web", 50.0), Taint("gone", "NoExecute", "", 60.0))})
    taints, _ = node_taints(stored, [host("n1", DB)], 100.0)
    assert taints["n1"] == (Taint("dedicated", "NoSchedule", "web", 50.0), Taint("gone", "NoExecute", "", 60.0))


def test_hosts_not_given_keep_their_first_seen_times() -> None:
    stored = StoredTaints(first_seen={"n9": {"dedicated:NoSchedule": 5.0}})
    _, kept = node_taints(stored, [host("n1")], 100.0)
    assert kept.first_seen == {"n9": {"dedicated:NoSchedule": 5.0}}


def test_the_record_round_trips_through_the_store() -> None:
    value = StoredTaints({"n1": (Taint("gone", "NoExecute", "", 60.0), DB)}, {"n1": {"dedicated:NoSchedule": 5.0}})
    with open_store("memory://") as store:
        store.save(TAINTS, value)
        assert store.load(TAINTS) == value
