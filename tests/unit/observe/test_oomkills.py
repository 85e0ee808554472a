"""Out-of-memory kills read from the kernel log and joined to the containers they hit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sshorch.observe.cluster import owned_facts, parse_owned
from sshorch.observe.facts import parse_gather_output
from sshorch.observe.oomkills import OOM_KILLS, OomKills, oom_kills_fact, parse_oom_kills, with_oom_kills
from sshorch.observe.owned import ObservedContainer
from sshorch.runtime.registry import runtime_for

FIXTURE = Path(__file__).parent / "fixtures" / "gather-owned-oom-podman.txt"
HOG = "6e4e6ec833096ff163cb15afc363d76260f511c038c4a2ad154413f642f8d6ab"
POD = "06f36ef48aa2dd40fd469b62e16176edc30cdaf892b632b6fb18bc8c830542e5"
LINE = "[  200.500000] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=x,mems_allowed=0,oom_memcg={0},task_memcg={0},task=tail,pid=7,uid=0"


@pytest.mark.parametrize(("cgroup", "victim"), [
    (f"/libpod_parent/{POD}/libpod-{HOG}", HOG),  # podman, cgroupfs
    (f"/machine.slice/machine-libpod_pod_{POD}.slice/libpod-{HOG}.scope", HOG),  # podman, systemd
    (f"/machine.slice/libpod-{HOG}.scope/container", HOG),  # podman, cgroup v2 split
    (f"/docker/{HOG}", HOG),  # docker, cgroupfs
    (f"/system.slice/docker-{HOG}.scope", HOG),  # docker, systemd
    ("/user.slice/user-1000.slice/session-2.scope", None),  # not a container
])
def test_the_victim_is_the_last_id_in_its_memory_cgroup(cgroup: str, victim: str | None) -> None:
    kills = parse_oom_kills("1000.25 100.25 180.00\n" + LINE.format(cgroup) + "\n")
    if victim is None:
        assert kills == OomKills({}, {})
    else:
        # boot at 900.0 by the node's clock; the kill 200.5 s later
        assert kills == OomKills({victim: 1}, {victim: 1100.5})


def test_a_log_without_times_still_counts() -> None:
    kills = parse_oom_kills("1000.25 100.25 180.00\n" + LINE.format(f"/docker/{HOG}").replace("[  200.500000] ", "") + "\n")
    assert kills == OomKills({HOG: 1}, {HOG: None})
    assert parse_oom_kills("") == OomKills({}, {})


def test_real_kills_reach_the_restarted_container() -> None:
    facts = (*owned_facts(runtime_for("podman"), "oom", volumes=False), oom_kills_fact())
    parsed = parse_gather_output(facts, FIXTURE.read_text())
    assert parsed.errors == {}
    owned = with_oom_kills(parse_owned(runtime_for("podman"), "node1", parsed.values), parsed.values[OOM_KILLS])
    (pod,) = owned.pods
    (hog,) = pod.containers
    # podman restarted it at once, clearing its own OOMKilled flag: the kernel's log kept every kill
    assert hog.state == "running" and hog.restarts == 43 and hog.oom_kills == 22
    assert hog.last_oom_kill is not None and hog.finished_at is not None
    assert abs(hog.finished_at - hog.last_oom_kill) < 1.0
    assert hog.oom_killed


def _container(finished_at: float | None, kills: int, last: float | None) -> ObservedContainer:
    return ObservedContainer("c", HOG, "img", "id", "running", 0, 0.0, 1, {}, False, finished_at, kills, last)


@pytest.mark.parametrize(("finished_at", "kills", "last", "oom_killed"), [
    (1000.0, 0, None, False),  # never killed
    (1000.2, 1, 1000.0, True),  # the exit that followed the kill
    (999.0, 1, 1000.0, True),  # the kernel log's clock runs a little ahead of the node's
    (1000.0 + 3600, 1, 1000.0, False),  # exited again an hour later, for another reason
    (None, 1, 1000.0, True),  # never exited: a process inside was killed
    (1000.0, 2, None, True),  # no times to compare
])
def test_the_last_exit_is_an_oom_kill_when_none_came_after_it(
    finished_at: float | None, kills: int, last: float | None, oom_killed: bool
) -> None:
    assert _container(finished_at, kills, last).oom_killed is oom_killed


@pytest.mark.parametrize(("vmstat", "reads_the_log"), [("oom_kill 0\n", False), ("oom_kill 3\n", True), ("", True)])
def test_the_log_is_read_only_where_the_kernel_has_killed_since_boot(tmp_path: Path, vmstat: str, reads_the_log: bool) -> None:
    stat = tmp_path / "vmstat"
    stat.write_text(vmstat)  # "": a kernel before 4.13, which does not count kills
    command = oom_kills_fact().command.replace("/proc/vmstat", str(stat))
    output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout
    assert (output != "") is reads_the_log
