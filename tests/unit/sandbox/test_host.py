import pytest

from sshorch.errors import SandboxError
from sshorch.sandbox import host

# stderr of `mount --bind /x /var/lib/containers` on a machine where podman never
# ran (util-linux 2.38), followed by the node setup's own line.
MOUNT_FAILED = """mount: /var/lib/containers: mount point does not exist.
       dmesg(1) may have more information after failed mount system call.
failed: mount --bind /run/.sshorch-node/storage /var/lib/containers
"""


@pytest.mark.parametrize(
    ("stderr", "detail"),
    [
        (MOUNT_FAILED, "failed: mount --bind /run/.sshorch-node/storage /var/lib/containers: "
                       "mount: /var/lib/containers: mount point does not exist."),
        ("RTNETLINK answers: File exists\n", "RTNETLINK answers: File exists"),
        ("", "exit 2"),
    ],
)
def test_failure_detail_is_the_line_that_names_the_cause(stderr: str, detail: str) -> None:
    assert host.failure_detail(stderr, 2) == detail


def test_a_failed_script_is_one_line_naming_what_failed() -> None:
    with pytest.raises(SandboxError) as raised:
        host.run(["sh", "-c", "true\necho nope >&2; exit 3"], what="node1: its mounts")
    assert str(raised.value) == "node1: its mounts: nope"


def test_a_script_argument_is_not_spelled_out() -> None:
    assert host.describe(["sh", "-c", "a\nb"]) == "sh -c SCRIPT"


def test_a_zombie_is_still_there_until_its_parent_reaps_it() -> None:
    import subprocess

    child = subprocess.Popen(["true"])
    processes = host.start_times([child.pid])
    assert processes, "the child is in the process table"
    # It exits at once but stays a zombie: nobody has waited for it.
    assert host.wait_gone(processes, 0.3) == [child.pid]
    child.wait()
    assert host.wait_gone(processes, 1.0) == []
