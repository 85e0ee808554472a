"""The IP family a node's rules are of: IPV4 is what every rule and command names today."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sshorch.ipfamily import IPV4
from sshorch.proxy import Endpoint, NodeRules, ServicePort
from sshorch.spec.names import check_address

OTHER = replace(IPV4, name="other", label="Other")  # a second family, as far as the model can tell


def test_ipv4_names_the_tools_and_masks_the_rules_use() -> None:
    assert (IPV4.save, IPV4.restore, IPV4.tables) == ("iptables-save", "iptables-restore", "iptables")
    assert IPV4.host("10.96.0.10") == "10.96.0.10/32" and IPV4.reject_with == "icmp-port-unreachable"
    assert IPV4.is_address("198.18.0.2") and not IPV4.is_address("::1") and not IPV4.is_address("10.0.0.0/8")
    assert str(IPV4.network("10.0.0.0/8")) == "10.0.0.0/8"
    assert check_address("198.19.0.10") is None and check_address("::1") == "must be an IPv4 address"


def test_rules_hold_services_and_endpoints_of_their_own_family_only() -> None:
    endpoint = Endpoint("198.18.0.3", 8080, False, OTHER)
    with pytest.raises(ValueError, match="endpoint 198.18.0.3 is not IPv4"):
        ServicePort("default", "web", "", "tcp", "198.19.0.10", 80, None, (endpoint,))
    port = ServicePort("default", "web", "", "tcp", "198.19.0.10", 80, None, (endpoint,), OTHER)
    with pytest.raises(ValueError, match="default/web: is not IPv4"):
        NodeRules("blue", "198.18.0.2", (), (20000, 29999), (port,))
    assert NodeRules("blue", "198.18.0.2", (), (20000, 29999), (port,), family=OTHER).family == OTHER
