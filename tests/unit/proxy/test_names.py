import pytest

from sshorch.proxy import chain_name, cluster_chains, is_legacy_chain, is_owned_chain
from sshorch.proxy.model import Endpoint
from sshorch.proxy.chains import cluster_tag, is_scoped_chain
from tests.unit.proxy.samples import CART, CLUSTER, DB, OTHER_CLUSTER, WEB

BLUE = cluster_chains(CLUSTER)
GREEN = cluster_chains(OTHER_CLUSTER)


def test_chain_names_are_pinned_so_they_survive_upgrades() -> None:
    # A changed hash would orphan every chain on every node at the next upgrade.
    assert cluster_tag(CLUSTER) == "CZDXN"
    assert BLUE.services == "SSHORCH-CZDXN-SERVICES"
    assert BLUE.service(WEB) == "SSHORCH-CZDXN-SVC-GG6TP4UGIV"
    assert BLUE.endpoint(WEB, WEB.endpoints[1]) == "SSHORCH-CZDXN-SEP-YN4LSANH6H"


def test_every_name_of_a_cluster_starts_with_its_prefix_and_fits_iptables_limit() -> None:
    fixed = [BLUE.services, BLUE.nodeports, BLUE.mark_masq, BLUE.postrouting, BLUE.forward, BLUE.hostports,
             BLUE.node_access, BLUE.from_pods, BLUE.canary]
    hashed = [BLUE.service(port) for port in (WEB, CART, DB)] + [BLUE.endpoint(DB, e) for e in DB.endpoints]
    assert all(len(name) == 28 for name in hashed)
    for name in fixed + hashed:
        assert len(name) <= 28 and name.startswith("SSHORCH-CZDXN-"), name
        assert is_owned_chain(name) and is_scoped_chain(name) and BLUE.owns(name) and not GREEN.owns(name)
        assert not is_legacy_chain(name)
    assert len(set(fixed + hashed)) == len(fixed + hashed)


def test_two_clusters_share_no_name() -> None:
    assert cluster_tag(CLUSTER) != cluster_tag(OTHER_CLUSTER)
    assert BLUE.service(WEB) != GREEN.service(WEB)
    assert BLUE.service(WEB)[-10:] == GREEN.service(WEB)[-10:]  # the same service, another cluster's prefix


def test_same_parts_give_the_same_name_and_parts_do_not_run_together() -> None:
    assert chain_name("SSHORCH-SVC-", "a", "b") == chain_name("SSHORCH-SVC-", "a", "b")
    assert chain_name("SSHORCH-SVC-", "a", "bc") != chain_name("SSHORCH-SVC-", "ab", "c")
    assert chain_name("SSHORCH-SVC-", "a") != chain_name("SSHORCH-SEP-", "a")


def test_endpoint_chain_depends_on_service_port_and_endpoint() -> None:
    endpoint = Endpoint("198.18.0.3", 20001, local=False)
    assert BLUE.endpoint(WEB, endpoint) != BLUE.endpoint(DB, endpoint)
    assert BLUE.endpoint(WEB, endpoint) != BLUE.endpoint(WEB, Endpoint("198.18.0.3", 20002, local=False))


@pytest.mark.parametrize("prefix", ["KUBE-SVC-", "SSHORCH-A-VERY-LONG-PREFIX-"])
def test_prefix_must_be_ours_and_leave_room_for_the_hash(prefix: str) -> None:
    with pytest.raises(ValueError, match="chain prefix"):
        chain_name(prefix, "x")


@pytest.mark.parametrize("cluster", ["", "Blue", "blue_1", "-blue", "a" * 64, "blue\n"])
def test_a_cluster_name_must_be_a_dns_label(cluster: str) -> None:
    with pytest.raises(ValueError, match="DNS-1123 label"):
        cluster_chains(cluster)


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("SSHORCH-SERVICES", True),
        ("SSHORCH-CZDXN-SVC-GG6TP4UGIV", True),
        ("KUBE-SERVICES", False),
        ("FOREIGN", False),
        ("SSHORCH-", False),
        ("SSHORCH-X Y", False),
        ("SSHORCH-CZDXN-SVC-GG6TP4UGIVX", False),
    ],
)
def test_is_owned_chain(name: str, owned: bool) -> None:
    assert is_owned_chain(name) is owned


@pytest.mark.parametrize(
    ("name", "legacy"),
    [
        ("SSHORCH-SERVICES", True),
        ("SSHORCH-MARK-MASQ", True),
        ("SSHORCH-CANARY", True),
        ("SSHORCH-SVC-GG6TP4UGIVMDRQT7", True),
        ("SSHORCH-SEP-YN4LSANH6HB3HLSL", True),
        ("SSHORCH-SVC-GG6TP4UGIV", False),  # not what an earlier sshorch wrote
        ("SSHORCH-SVC-STALE0000000000", False),
        ("SSHORCH-CZDXN-SERVICES", False),
        ("SSHORCH-CZDXN-SVC-GG6TP4UGIV", False),
        ("KUBE-SERVICES", False),
    ],
)
def test_is_legacy_chain(name: str, legacy: bool) -> None:
    assert is_legacy_chain(name) is legacy
