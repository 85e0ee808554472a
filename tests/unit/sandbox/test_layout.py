import ipaddress
from pathlib import Path

import pytest

from sshorch.errors import SandboxError
from sshorch.sandbox.layout import (
    NODE_RANGE,
    POD_SUBNET,
    allocate_block,
    block_prefix,
    build_layout,
    check_name,
    veth_name,
)


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


@pytest.mark.parametrize(("nodes", "prefix"), [(1, 28), (3, 28), (13, 28), (14, 27), (29, 27), (50, 26), (61, 26), (62, 25), (125, 25)])
def test_block_fits_nodes_host_network_and_broadcast(nodes: int, prefix: int) -> None:
    assert block_prefix(nodes) == prefix
    assert 2 ** (32 - prefix) >= nodes + 3


def test_too_many_nodes_is_an_error_saying_the_limit() -> None:
    with pytest.raises(SandboxError, match="at most 125 nodes"):
        block_prefix(126)


def test_blocks_do_not_overlap_other_sandboxes() -> None:
    first = allocate_block(3, [])
    second = allocate_block(50, [first])
    third = allocate_block(3, [first, second])
    assert first == net("198.18.0.0/28")
    assert second == net("198.18.0.64/26")
    assert third == net("198.18.0.16/28")
    assert not any(b.overlaps(POD_SUBNET) for b in (first, second, third))


def test_full_range_is_an_error_naming_the_users() -> None:
    with pytest.raises(SandboxError, match="sandbox down"):
        allocate_block(3, [NODE_RANGE])


def test_layout_addresses_names_and_paths() -> None:
    layout = build_layout("demo", Path("/sb"), net("198.18.0.16/28"), 3)
    assert layout.host_address == "198.18.0.17"
    assert [n.address for n in layout.nodes] == ["198.18.0.18", "198.18.0.19", "198.18.0.20"]
    assert [n.name for n in layout.nodes] == ["node1", "node2", "node3"]
    assert layout.nodes[0].netns == "sshorch-demo-node1"
    assert layout.inventory == Path("/sb/demo/inventory.yml")
    assert all(len(n.veth) <= 15 for n in layout.nodes) and len(layout.bridge) <= 15


def test_interface_names_fit_the_kernel_limit_for_the_largest_sandbox() -> None:
    assert len(veth_name("a-very-long-sandbox-name-indeed", 125)) <= 15


@pytest.mark.parametrize("bad", ["", "Demo", "-x", "x-", "a b", "a;rm", "x" * 33])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(SandboxError, match="sandbox name"):
        check_name(bad)


def test_unknown_node_names_the_known_ones() -> None:
    layout = build_layout("demo", Path("/sb"), net("198.18.0.0/28"), 2)
    with pytest.raises(SandboxError, match="node1, node2"):
        layout.node("node9")
