"""The iptables-restore text for a node: every chain of ours, declared (so flushed) and refilled.

Applied with `iptables-restore -w --noflush`, it replaces our chains in one
transaction and leaves every other chain and rule on the node alone. Options
are written in the order iptables-save prints them, so what a node reports
reads the same as what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sshorch.ipfamily import IpFamily, Network
from sshorch.proxy.hairpin import POD_BRIDGE_INTERFACES
from sshorch.proxy.model import Endpoint, NodeRules, ServicePort
from sshorch.proxy.chains import ClusterChains, cluster_chains, is_legacy_chain

MASQ_MARK = "0x4000/0x4000"

ExistingChains = Iterable[str] | Mapping[str, Iterable[str]]


class _Table:
    """Chains in declaration order and their -A lines, in the order written."""

    def __init__(self, name: str, fixed_chains: Iterable[str]) -> None:
        self.name = name
        self.chains: list[str] = list(fixed_chains)
        self.lines: list[str] = []

    def declare(self, chain: str) -> None:
        self.chains.append(chain)

    def append(self, chain: str, *args: str) -> None:
        self.lines.append(" ".join(("-A", chain, *args)))


# iptables-nft (1.8.9) finds the chain a rule jumps to by a linear search of the
# table's chains, so restoring N chains that are all jumped to costs N^2: 1000
# services x 5 endpoints (6009 chains) took 0.84 s of CPU, 1000 chains 0.05 s.
# Above this many endpoints on a node, a service chain DNATs to its endpoints
# directly instead of through one chain each, as kube-proxy trims its rules for
# large clusters; the packets land in the same places with the same odds.
ENDPOINT_CHAINS_UP_TO = 1000


def _reject(family: IpFamily) -> tuple[str, ...]:
    return ("-j", "REJECT", "--reject-with", family.reject_with)


def _comment(text: str) -> tuple[str, ...]:
    # Names were validated as DNS-1123 labels, so no quote can end up inside.
    return ("-m", "comment", "--comment", f'"{text}"')


def _ordered(chains: ClusterChains, services: Iterable[ServicePort]) -> list[ServicePort]:
    ordered = sorted(services, key=lambda p: (p.namespace, p.service, p.port_name, p.protocol, p.port))
    seen: dict[str, ServicePort] = {}
    for port in ordered:
        chain = chains.service(port)
        if chain in seen:
            if _port_key(seen[chain]) == _port_key(port):
                raise ValueError(f"{port.display_name}/{port.protocol}: listed twice in the node's services")
            raise ValueError(f"{port.display_name} and {seen[chain].display_name}: their chain names collide ({chain})")
        seen[chain] = port
    return ordered


def _port_key(port: ServicePort) -> tuple[str, ...]:
    return (port.namespace, port.service, port.port_name, port.protocol)


def _endpoints(port: ServicePort) -> list[Endpoint]:
    ordered = sorted(port.endpoints, key=lambda e: (int(port.family.address(e.address)), e.port))
    for before, after in zip(ordered, ordered[1:]):
        if (before.address, before.port) == (after.address, after.port):
            raise ValueError(f"{port.display_name}: endpoint {after.address}:{after.port} listed twice")
    return ordered


def render_probability(index: int, count: int) -> str:
    """Endpoint index of count is picked with 1/(count-index) of what the earlier rules left."""
    return f"{1.0 / (count - index):0.10f}"


def _external(chains: ClusterChains, port: ServicePort) -> str:
    """Where node-port and load-balancer traffic goes: the service chain, or under Local policy local endpoints."""
    return chains.local_service(port) if port.external_policy == "Local" else chains.service(port)


def _render_picks(
    nat: _Table, chain: str, chains: ClusterChains, port: ServicePort, endpoints: list[Endpoint], endpoint_chains: bool
) -> None:
    """One of `endpoints`, each as likely: its endpoint chain, or a DNAT straight to it."""
    proto = port.protocol
    for index, endpoint in enumerate(endpoints):
        pick: tuple[str, ...] = ()
        if index < len(endpoints) - 1:
            pick = ("-m", "statistic", "--mode", "random", "--probability", render_probability(index, len(endpoints)))
        if endpoint_chains:
            nat.append(chain, *pick, "-j", chains.endpoint(port, endpoint))
        else:  # in iptables-save's order, so that a node holding these rules matches them
            nat.append(chain, "-p", proto, *pick, "-m", proto, *_dnat(endpoint))


def _render_service_nat(nat: _Table, chains: ClusterChains, port: ServicePort, endpoint_chains: bool) -> None:
    svc = chains.service(port)
    proto = port.protocol
    nat.declare(svc)
    nat.append(
        chains.services, "-d", port.family.host(port.cluster_ip), "-p", proto,
        *_comment(f"{port.display_name} cluster IP"), "-m", proto, "--dport", str(port.port), "-j", svc,
    )
    external = _external(chains, port)
    for address in port.load_balancer_addresses:
        nat.append(
            chains.services, "-d", port.family.host(address), "-p", proto,
            *_comment(f"{port.display_name} load balancer"), "-m", proto, "--dport", str(port.port),
            "-j", chains.firewall(port) if port.source_ranges else external,
        )
    endpoints = _endpoints(port)
    if endpoints:
        # Always masqueraded: the other node answers to whoever sent the packet, and
        # a pod on this node's bridge would answer a neighbour (or itself) directly;
        # masquerading makes the reply come back through our conntrack to be un-DNATed.
        # Marked once here rather than in every endpoint chain: a third fewer rules to restore.
        nat.append(svc, "-j", chains.mark_masq)
    _render_picks(nat, svc, chains, port, endpoints, endpoint_chains)
    if endpoint_chains:
        for endpoint in endpoints:
            sep = chains.endpoint(port, endpoint)
            nat.declare(sep)
            nat.append(sep, "-p", proto, "-m", proto, *_dnat(endpoint))
    if port.source_ranges and port.load_balancer_addresses:
        firewall = chains.firewall(port)
        nat.declare(firewall)
        for source in port.source_ranges:
            nat.append(firewall, "-s", port.family.network(source).with_prefixlen, "-j", external)
        # What falls off its end is not DNATed, and the filter table drops it (as kube-proxy's KUBE-FW).
    if port.external_policy == "Local":
        local = chains.local_service(port)
        nat.declare(local)
        # Pods are inside the cluster: they go to any endpoint, masqueraded (kube-proxy sends
        # its pod CIDR to the cluster-wide chain the same way).
        for interface in POD_BRIDGE_INTERFACES:
            nat.append(local, "-i", interface, "-j", svc)
        _render_picks(nat, local, chains, port, [e for e in endpoints if e.local], endpoint_chains)


def _dnat(endpoint: Endpoint) -> tuple[str, ...]:
    return ("-j", "DNAT", "--to-destination", f"{endpoint.address}:{endpoint.port}")


def _render_nodeport_nat(nat: _Table, chains: ClusterChains, port: ServicePort) -> None:
    if port.node_port is None:
        return
    proto = port.protocol
    nat.append(
        chains.nodeports, "-p", proto, *_comment(f"{port.display_name} node port"),
        "-m", proto, "--dport", str(port.node_port), "-j", _external(chains, port),
    )


def _render_nat(chains: ClusterChains, services: list[ServicePort], endpoint_chains_up_to: int) -> _Table:
    nat = _Table("nat", (chains.services, chains.nodeports, chains.mark_masq, chains.postrouting, chains.canary))
    served = [port for port in services if port.endpoints]
    endpoint_chains = sum(len(port.endpoints) for port in served) <= endpoint_chains_up_to
    for port in served:
        _render_service_nat(nat, chains, port, endpoint_chains)
    # Node ports are checked after every VIP: the node's own address is LOCAL.
    nat.append(
        chains.services, *_comment("sshorch node ports"), "-m", "addrtype", "--dst-type", "LOCAL", "-j", chains.nodeports
    )
    for port in served:
        _render_nodeport_nat(nat, chains, port)
    nat.append(chains.mark_masq, "-j", "MARK", "--set-xmark", MASQ_MARK)
    nat.append(chains.postrouting, "-m", "mark", "!", "--mark", MASQ_MARK, "-j", "RETURN")
    # Clear the mark so a packet that is forwarded again is not masqueraded twice.
    nat.append(chains.postrouting, "-j", "MARK", "--set-xmark", "0x4000/0x0")
    nat.append(chains.postrouting, "-j", "MASQUERADE")
    return nat


def _render_refusals(table: _Table, chains: ClusterChains, port: ServicePort, comment: str, target: tuple[str, ...]) -> None:
    """`target` for new connections to the port's load balancer addresses and node port."""
    proto = port.protocol
    for address in port.load_balancer_addresses:
        table.append(
            chains.services, "-d", port.family.host(address), "-p", proto, *_comment(f"{port.display_name} {comment}"),
            "-m", proto, "--dport", str(port.port), *target,
        )
    if port.node_port is not None:
        table.append(
            chains.services, "-p", proto, *_comment(f"{port.display_name} {comment}"), "-m", "addrtype", "--dst-type", "LOCAL",
            "-m", proto, "--dport", str(port.node_port), *target,
        )


def _render_rejects(table: _Table, chains: ClusterChains, port: ServicePort) -> None:
    # A service with no ready endpoint refuses connections instead of letting them hang.
    proto = port.protocol
    table.append(
        chains.services, "-d", port.family.host(port.cluster_ip), "-p", proto, *_comment(f"{port.display_name} has no endpoints"),
        "-m", proto, "--dport", str(port.port), *_reject(port.family),
    )
    _render_refusals(table, chains, port, "has no endpoints", _reject(port.family))


def _render_external_filter(table: _Table, chains: ClusterChains, port: ServicePort) -> None:
    """Drops as kube-proxy's: load balancer traffic from outside loadBalancerSourceRanges (the
    firewall chain left it un-DNATed), and under Local policy outside traffic to a node
    with no endpoint of its own (so a load balancer in front of the nodes moves on)."""
    proto = port.protocol
    if port.source_ranges:
        for address in port.load_balancer_addresses:
            table.append(
                chains.services, "-d", port.family.host(address), "-p", proto,
                *_comment(f"{port.display_name} load balancer, source not allowed"),
                "-m", proto, "--dport", str(port.port), "-j", "DROP",
            )
    if port.endpoints and port.external_policy == "Local" and not port.local_endpoints:
        _render_refusals(table, chains, port, "has no local endpoints", ("-j", "DROP"))


def _render_kept_clients(table: _Table, chains: ClusterChains, port: ServicePort) -> None:
    """Under Local policy outside traffic is not marked (so not masqueraded): let it through
    the forward chain by where it was sent, as the mark lets the rest through."""
    if port.external_policy != "Local" or not port.local_endpoints:
        return
    proto = port.protocol
    comment = _comment(f"{port.display_name} client address kept")
    for address in port.load_balancer_addresses:
        table.append(
            chains.forward, "-p", proto, *comment, "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdst", address,
            "--ctorigdstport", str(port.port), "--ctdir", "ORIGINAL", "-j", "ACCEPT",
        )
    if port.node_port is not None:
        table.append(
            chains.forward, "-p", proto, *comment, "-m", "conntrack", "--ctstate", "DNAT",
            "--ctorigdstport", str(port.node_port), "--ctdir", "ORIGINAL", "-j", "ACCEPT",
        )


def _render_host_ports(table: _Table, chains: ClusterChains, rules: NodeRules) -> None:
    """Connections DNATed to a pod host port of this node: only from the allowed sources."""
    for source in rules.allowed_sources:
        table.append(chains.hostports, "-s", rules.family.network(source).with_prefixlen, "-j", "RETURN")
    low, high = rules.host_ports
    guarded = [(proto, f"{low}:{high}") for proto in ("tcp", "udp")]
    # A manifest's hostPort may lie outside the range the others are allocated from.
    guarded += [(proto, str(port)) for proto, port in sorted(set(rules.published_ports)) if not low <= port <= high]
    for proto, ports in guarded:
        # --ctdir ORIGINAL: the pod's replies carry the same DNAT state and must pass.
        table.append(
            chains.hostports, "-p", proto, "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdst", rules.node_address,
            "--ctorigdstport", ports, "--ctdir", "ORIGINAL", *_reject(rules.family),
        )


def _render_node_access(table: _Table, chains: ClusterChains, rules: NodeRules, services: list[ServicePort]) -> None:
    """New connections from pods to the node itself (INPUT) or to the cluster's nodes and
    controller (FORWARD) are refused, unless a DNAT (a Service, a node port, the
    runtime's host port) sent them there, or they are for a Service's node port on
    another node (which DNATs them there)."""
    table.append(chains.node_access, "-m", "conntrack", "--ctstate", "DNAT", "-j", "RETURN")
    for interface in POD_BRIDGE_INTERFACES:
        table.append(chains.node_access, "-i", interface, "-j", chains.from_pods)
    for port in services:
        if port.node_port is not None:
            table.append(
                chains.from_pods, "-p", port.protocol, *_comment(f"{port.display_name} node port"),
                "-m", port.protocol, "--dport", str(port.node_port), "-j", "RETURN",
            )
    family = rules.family
    table.append(chains.from_pods, "-m", "addrtype", "--dst-type", "LOCAL", *_reject(family))
    for address in sorted(set(rules.protected_addresses), key=lambda a: _network_order(family.network(a))):
        table.append(chains.from_pods, "-d", family.network(address).with_prefixlen, *_reject(family))


def _network_order(network: Network) -> tuple[int, int]:
    # As ipaddress orders the networks of one family: by address, then mask.
    return (int(network.network_address), int(network.netmask))


def _render_filter(chains: ClusterChains, rules: NodeRules, services: list[ServicePort]) -> _Table:
    fixed = (chains.services, chains.forward, chains.hostports, chains.node_access, chains.from_pods, chains.canary)
    table = _Table("filter", fixed)
    for port in services:
        _render_external_filter(table, chains, port)
        if not port.endpoints:
            _render_rejects(table, chains, port)
    # Docker and others may drop forwarded traffic by default; ours must pass.
    table.append(
        chains.forward, *_comment("sshorch service traffic"), "-m", "mark", "--mark", MASQ_MARK, "-j", "ACCEPT"
    )
    for port in services:
        _render_kept_clients(table, chains, port)
    table.append(chains.forward, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
    _render_host_ports(table, chains, rules)
    _render_node_access(table, chains, rules, services)
    return table


def _stale(table: _Table, chains: ClusterChains, existing: ExistingChains, rendered: set[str]) -> list[str]:
    if isinstance(existing, Mapping):
        names: Iterable[str] = existing.get(table.name, ())
        keep = set(table.chains)
    else:
        # Bare names do not say which table they were found in: keep any we still render.
        names, keep = existing, rendered
    # Only this cluster's: other clusters' chains, and legacy ones (see render_legacy_removal), stay.
    return sorted({name for name in names if chains.owns(name) and name not in keep})


def _render_table(table: _Table, stale: list[str]) -> list[str]:
    lines = [f"*{table.name}"]
    lines += [f":{chain} - [0:0]" for chain in (*table.chains, *stale)]
    lines += table.lines
    # Declared first: that flushes it, or creates it where it is absent, so -X
    # succeeds unless a rule outside our chains still jumps to it.
    lines += [f"-X {chain}" for chain in stale]
    lines.append("COMMIT")
    return lines


def render_restore(
    rules: NodeRules, existing_chains: ExistingChains = (), endpoint_chains_up_to: int = ENDPOINT_CHAINS_UP_TO
) -> str:
    """Restore text for both tables.

    existing_chains: chains found on the node, as a mapping table -> names
    (RulesState.by_table()) or as bare names; this cluster's chains no longer
    rendered are deleted. Other clusters' chains, legacy chains and names
    without the SSHORCH- prefix are never touched.
    Up to endpoint_chains_up_to endpoints, each has its own SEP chain; above,
    the service chains DNAT directly.
    """
    chains = cluster_chains(rules.cluster)
    services = _ordered(chains, rules.services)
    tables = (_render_nat(chains, services, endpoint_chains_up_to), _render_filter(chains, rules, services))
    rendered = {chain for table in tables for chain in table.chains}
    lines: list[str] = []
    for table in tables:
        lines += _render_table(table, _stale(table, chains, existing_chains, rendered))
    return "\n".join(lines) + "\n"


def render_legacy_removal(legacy_chains: Mapping[str, Iterable[str]]) -> str:
    """Restore text that flushes and deletes chains sshorch wrote before chains were
    scoped by cluster (table -> names; other names are ignored). Run it once the
    jumps into them are gone, or its -X lines fail."""
    lines: list[str] = []
    for table in ("nat", "filter"):
        names = sorted({name for name in legacy_chains.get(table, ()) if is_legacy_chain(name)})
        if names:
            lines += [f"*{table}", *(f":{name} - [0:0]" for name in names), *(f"-X {name}" for name in names), "COMMIT"]
    return "".join(line + "\n" for line in lines)
