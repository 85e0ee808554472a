import pytest

from sshorch.runtime.docker import Docker
from sshorch.runtime.podman import Podman
from sshorch.runtime.registry import UnknownRuntimeError, node_runtime, runtime_for


def test_each_runtime_is_found_by_its_name() -> None:
    assert isinstance(runtime_for("podman"), Podman) and runtime_for("podman").name == "podman"
    assert isinstance(runtime_for("docker"), Docker) and runtime_for("docker").name == "docker"


def test_an_unknown_runtime_is_refused_never_taken_for_podman() -> None:
    for name in ("", "Podman", "containerd"):
        with pytest.raises(UnknownRuntimeError, match=repr(name)):
            runtime_for(name)


def test_a_node_whose_runtime_is_not_known_is_an_error() -> None:
    assert node_runtime({"n1": "docker"}, "n1").name == "docker"
    with pytest.raises(UnknownRuntimeError, match="n2: its container runtime is not known"):
        node_runtime({"n1": "docker"}, "n2")
