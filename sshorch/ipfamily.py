"""An IP family: its rule tools, address types and host mask.

Everything that differs between IPv4 and IPv6 service rules is a field here, so
the renderer, the sync, the rules fact, the service allocator and the
manifest's address check take a family instead of naming iptables or IPv4.
Only IPV4 is wired today; IPv6 is one more instance (ip6tables-save, /128,
icmp6-port-unreachable, net/ipv6/conf/all/forwarding). A module of its own, importing nothing of sshorch, so
that spec and proxy can both use it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class IpFamily:
    """One IP family's rules: how they are read, written and what addresses they hold."""

    name: str  # "ipv4": how the family is named in messages and settings
    label: str  # "IPv4": as a person reads it
    save: str  # prints the tables (iptables-save)
    restore: str  # applies restore text (iptables-restore)
    tables: str  # checks and edits one rule (iptables)
    host_prefix: int  # the mask of a single address (32)
    reject_with: str  # the ICMP answer of a REJECT
    state_suffix: str  # after the cluster in the names of its rules' state files ("" for IPv4)
    forwarding: str  # the sysctl file that turns packet forwarding on (1) for the family
    address_type: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]
    network_type: type[ipaddress.IPv4Network] | type[ipaddress.IPv6Network]

    def address(self, value: str) -> Address:
        """The address `value`; ValueError when it is none of this family."""
        return self.address_type(value)

    def network(self, value: str) -> Network:
        """The network (or single address) `value`; ValueError when it is none of this family."""
        return self.network_type(value)

    def is_address(self, value: str) -> bool:
        try:
            self.address(value)
        except ValueError:
            return False
        return True

    @property
    def forwarding_name(self) -> str:
        """The forwarding sysctl as sysctl names it: net.ipv4.ip_forward."""
        return self.forwarding.removeprefix("/proc/sys/").replace("/", ".")

    def host(self, address: str) -> str:
        """`address` as a one-address destination: 10.96.0.10/32."""
        return f"{address}/{self.host_prefix}"


IPV4 = IpFamily(
    name="ipv4",
    label="IPv4",
    save="iptables-save",
    restore="iptables-restore",
    tables="iptables",
    host_prefix=32,
    reject_with="icmp-port-unreachable",
    state_suffix="",
    forwarding="/proc/sys/net/ipv4/ip_forward",
    address_type=ipaddress.IPv4Address,
    network_type=ipaddress.IPv4Network,
)
