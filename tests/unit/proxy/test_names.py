import pytest

from sshorch.proxy import chain_name, endpoint_chain, is_owned_chain, service_chain
from sshorch.proxy.model import Endpoint
from tests.unit.proxy.samples import CART, DB, WEB


def test_service_chain_names_are_pinned_so_they_survive_upgrades() -> None:
    # A changed hash would orphan every chain on every node at the next upgrade.
    assert service_chain(WEB) == "SSHORCH-SVC-GG6TP4UGIVMDRQT7"
    assert endpoint_chain(WEB, WEB.endpoints[1]) == "SSHORCH-SEP-YN4LSANH6HB3HLSL"


def test_chain_names_fit_iptables_limit_and_keep_the_prefix() -> None:
    names = [service_chain(port) for port in (WEB, CART, DB)]
    names += [endpoint_chain(DB, endpoint) for endpoint in DB.endpoints]
    for name in names:
        assert len(name) == 28
        assert name.startswith(("SSHORCH-SVC-", "SSHORCH-SEP-"))
        assert is_owned_chain(name)
    assert len(set(names)) == len(names)


def test_same_parts_give_the_same_name_and_parts_do_not_run_together() -> None:
    assert chain_name("SSHORCH-SVC-", "a", "b") == chain_name("SSHORCH-SVC-", "a", "b")
    assert chain_name("SSHORCH-SVC-", "a", "bc") != chain_name("SSHORCH-SVC-", "ab", "c")
    assert chain_name("SSHORCH-SVC-", "a") != chain_name("SSHORCH-SEP-", "a")


def test_endpoint_chain_depends_on_service_port_and_endpoint() -> None:
    endpoint = Endpoint("198.18.0.3", 20001, local=False)
    assert endpoint_chain(WEB, endpoint) != endpoint_chain(DB, endpoint)
    assert endpoint_chain(WEB, endpoint) != endpoint_chain(WEB, Endpoint("198.18.0.3", 20002, local=False))


@pytest.mark.parametrize("prefix", ["KUBE-SVC-", "SSHORCH-A-VERY-LONG-PREFIX-"])
def test_prefix_must_be_ours_and_leave_room_for_the_hash(prefix: str) -> None:
    with pytest.raises(ValueError, match="chain prefix"):
        chain_name(prefix, "x")


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("SSHORCH-SERVICES", True),
        ("SSHORCH-SVC-GG6TP4UGIVMDRQT7", True),
        ("KUBE-SERVICES", False),
        ("FOREIGN", False),
        ("SSHORCH-", False),
        ("SSHORCH-X Y", False),
        ("SSHORCH-SVC-GG6TP4UGIVMDRQT7X", False),
    ],
)
def test_is_owned_chain(name: str, owned: bool) -> None:
    assert is_owned_chain(name) is owned
