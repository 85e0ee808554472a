"""Services: stable allocations, endpoints from observed pods, discovery entries,
and the rules each node should hold. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sshorch.errors import SshorchError
from sshorch.ipfamily import IPV4, IpFamily
from sshorch.observe.owned import ObservedPod
from sshorch.plan.naming import pod_template
from sshorch.proxy.model import Endpoint, NodeRules, ServicePort
from sshorch.runtime.model import PortBinding
from sshorch.spec.model import Desired, Service

DEFAULT_SERVICE_CIDR = "10.96.0.0/16"
DEFAULT_NODE_PORTS = (30000, 32767)
DEFAULT_HOST_PORTS = (20000, 29999)


class AllocationError(SshorchError):
    pass


@dataclass(frozen=True)
class ServiceConfig:
    """The inventory's service settings."""

    cidr: str = DEFAULT_SERVICE_CIDR
    node_ports: tuple[int, int] = DEFAULT_NODE_PORTS
    host_ports: tuple[int, int] = DEFAULT_HOST_PORTS
    # Where LoadBalancer Services' ports answer (sshorch_load_balancer_addresses): each
    # node serves those that are its address. None: every node its own.
    load_balancer_addresses: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Allocations:
    """Stable values handed to services: VIP per service, node port per service port."""

    vips: Mapping[str, str]
    node_ports: Mapping[str, int]


def service_key(service: Service) -> str:
    return f"{service.meta.namespace}/{service.meta.name}"


def node_port_key(service: Service, port: int, protocol: str = "TCP") -> str:
    suffix = "" if protocol == "TCP" else f"/{protocol}"
    return f"{service_key(service)}:{port}{suffix}"


def _hash_start(key: str, size: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % size


def _pick(key: str, low: int, count: int, used: set[int]) -> int | None:
    """The first free value of low..low+count-1, starting at a hash of the key."""
    start = _hash_start(key, count)
    return next((low + (start + i) % count for i in range(count) if low + (start + i) % count not in used), None)


def allocate(desired: Desired, current: Allocations, config: ServiceConfig, family: IpFamily = IPV4) -> Allocations:
    """Keep what services have, give new ones a VIP and node ports; the manifest's values win.

    Values of services (or ports) that are gone are released first, manifest
    values are reserved next, automatic ones last; a new automatic value starts
    at a hash of its name, so a lost state file usually hands out the same again.
    VIPs are of `family`, from config.cidr (which must be of it)."""
    services = sorted((o for o in desired.objects if isinstance(o, Service)), key=service_key)
    network = family.network(config.cidr)
    hosts = network.num_addresses - 2
    if hosts < 1:
        raise AllocationError(f"service CIDR {network} has no addresses to hand out")
    low, high = config.node_ports
    # A LoadBalancer that allocates none keeps the node ports its manifest gives, as in Kubernetes.
    port_keys = {
        node_port_key(s, p.port, p.protocol): (s, p)
        for s in services for p in s.ports if s.allocates_node_ports or p.node_port is not None
    }
    wanted = {service_key(s) for s in services}
    vips = {k: v for k, v in current.vips.items() if k in wanted}
    ports = {k: v for k, v in current.node_ports.items() if k in port_keys}
    # Manifest values first, so no automatic value can take them.
    for service in services:
        if service.cluster_ip:
            key = service_key(service)
            if family.address(service.cluster_ip) not in network:
                raise AllocationError(f"Service {key}: clusterIP {service.cluster_ip} is outside the service CIDR {network}")
            holder = next((k for k, v in vips.items() if v == service.cluster_ip and k != key), None)
            if holder:
                raise AllocationError(f"Service {key}: clusterIP {service.cluster_ip} is already used by {holder}")
            vips[key] = service.cluster_ip
    for key, (service, port) in port_keys.items():
        if port.node_port is None:
            continue
        if not low <= port.node_port <= high:
            raise AllocationError(f"Service {service_key(service)}: nodePort {port.node_port} is outside {low}-{high}")
        holder = next((k for k, v in ports.items() if v == port.node_port and k != key), None)
        if holder:
            raise AllocationError(f"Service {service_key(service)}: nodePort {port.node_port} is already used by {holder}")
        ports[key] = port.node_port
    used = {int(family.address(v)) - int(network.network_address) - 1 for v in vips.values()}
    for service in services:
        key = service_key(service)
        if key not in vips:
            found = _pick(key, 0, hosts, used)
            if found is None:
                raise AllocationError(f"Service {key}: no free address left in {network}")
            used.add(found)
            vips[key] = str(network.network_address + 1 + found)
    taken = set(ports.values())
    for key, (service, port) in sorted(port_keys.items()):
        if key not in ports:
            found = _pick(key, low, high - low + 1, taken)
            if found is None:
                raise AllocationError(f"Service {service_key(service)}: no free node port left in {low}-{high}")
            taken.add(found)
            ports[key] = found
    in_use: dict[tuple[int, str], str] = {
        (ports[key], port.protocol): service_key(service) for key, (service, port) in port_keys.items()
    }
    check_load_balancer_ports(services, config, in_use)
    return Allocations(vips, ports)


def check_load_balancer_ports(
    services: Iterable[Service], config: ServiceConfig, node_ports: Mapping[tuple[int, str], str]
) -> None:
    """A LoadBalancer's port answers on node addresses, so it may not be another's there:
    every LoadBalancer shares the addresses, a node port answers on them too (node_ports:
    service key by node port and protocol), and a DNAT into the host port range is what
    the host port guard refuses to outsiders."""
    holders: dict[tuple[int, str], str] = {}
    low, high = config.host_ports
    for service in sorted((s for s in services if s.type == "LoadBalancer"), key=service_key):
        key = service_key(service)
        for port in service.ports:
            where = f"Service {key}: port {port.port}/{port.protocol}"
            holder = holders.setdefault((port.port, port.protocol), key)
            if holder != key:
                raise AllocationError(
                    f"{where} is already used on the load balancer addresses by Service {holder}; give one of them another port"
                )
            if (port.port, port.protocol) in node_ports:
                raise AllocationError(
                    f"{where} is the node port of Service {node_ports[(port.port, port.protocol)]}, which answers on"
                    " the same addresses; give one of them another port"
                )
            if low <= port.port <= high:
                raise AllocationError(
                    f"{where} is in the host port range {low}-{high} (sshorch_hostport_range); give it another port"
                )


def load_balancer_addresses(config: ServiceConfig, node_address: str) -> tuple[str, ...]:
    """The load balancer addresses `node` serves: those that are its address."""
    if config.load_balancer_addresses is None:
        return (node_address,)
    return tuple(a for a in config.load_balancer_addresses if a == node_address)


def selects(service: Service, labels: Mapping[str, str]) -> bool:
    return bool(service.selector) and all(labels.get(k) == v for k, v in service.selector.items())


def _container_port(target: int | str, pod: ObservedPod, desired: Desired, protocol: str) -> int | None:
    """targetPort as a number, or a named port of the pod's containers."""
    if isinstance(target, int):
        return target
    template = pod_template(pod, desired)
    if template is None:
        return None
    for container in template.spec.containers:
        for port in container.ports:
            if port.name == target and port.protocol == protocol:
                return port.container_port
    return None


@dataclass(frozen=True)
class EndpointPod:
    """A ready pod behind a service port, and where to reach it: node address, host port, container port."""

    pod: ObservedPod
    node_address: str
    host_port: int
    container_port: int


def endpoints(
    service: Service,
    pods: Sequence[ObservedPod],
    desired: Desired,
    addresses: Mapping[str, str],
    ready: frozenset[str] | None = None,
) -> dict[tuple[int, str], list[EndpointPod]]:
    """Per service port (number, protocol): the ready pods it selects (running ones
    when readiness is unknown), with where to reach them."""
    found: dict[tuple[int, str], list[EndpointPod]] = {(p.port, p.protocol): [] for p in service.ports}
    for pod in pods:
        if pod.namespace != service.meta.namespace or not pod.running or not selects(service, pod.labels):
            continue
        if ready is not None and pod.name not in ready:
            continue
        for port in service.ports:
            container_port = _container_port(port.target_port, pod, desired, port.protocol)
            binding = next(
                (b for b in pod.ports if b.container_port == container_port and b.protocol == port.protocol.lower()), None
            )
            if container_port is not None and binding is not None and pod.node in addresses:
                found[(port.port, port.protocol)].append(EndpointPod(pod, addresses[pod.node], binding.host_port, container_port))
    return found


EndpointMap = Mapping[str, Mapping[tuple[int, str], Sequence[EndpointPod]]]


def all_endpoints(
    desired: Desired, pods: Sequence[ObservedPod], addresses: Mapping[str, str], ready: frozenset[str] | None = None
) -> dict[str, dict[tuple[int, str], list[EndpointPod]]]:
    """Every service's endpoints, found once a pass and shared by every node's rules."""
    # Index pods by (namespace, label, value) so each service looks only at pods it may select.
    index: dict[tuple[str, str, str], list[ObservedPod]] = {}
    for pod in pods:
        for label, value in pod.labels.items():
            index.setdefault((pod.namespace, label, value), []).append(pod)
    found = {}
    for service in (o for o in desired.objects if isinstance(o, Service)):
        ns = service.meta.namespace
        lists = [index.get((ns, k, v), []) for k, v in sorted(service.selector.items())]
        candidates = min(lists, key=len) if lists else []
        found[service_key(service)] = endpoints(service, candidates, desired, addresses, ready)
    return found


def build_node_rules(
    cluster: str,
    node: str,
    desired: Desired,
    allocations: Allocations,
    found: EndpointMap,
    addresses: Mapping[str, str],
    allowed_sources: Sequence[str],
    config: ServiceConfig,
    published: Iterable[PortBinding] = (),
    family: IpFamily = IPV4,
) -> NodeRules:
    """The rules `node` should hold for `cluster`: the same on every node but for which
    endpoints are local and which host ports pods publish there (`published`).

    allowed_sources, the cluster's nodes and controller, may reach pod host ports,
    and pods may not reach them (unless through a Service)."""
    service_ports = []
    served = load_balancer_addresses(config, addresses[node])
    for service in sorted((o for o in desired.objects if isinstance(o, Service)), key=service_key):
        by_port = found[service_key(service)]
        for port in service.ports:
            eps = tuple(sorted(
                (
                    Endpoint(e.pod.ip, e.container_port, True, family) if e.pod.node == node and e.pod.ip
                    else Endpoint(e.node_address, e.host_port, False, family)
                    for e in by_port[(port.port, port.protocol)]
                ),
                key=lambda e: (e.address, e.port),
            ))
            service_ports.append(ServicePort(
                namespace=service.meta.namespace,
                service=service.meta.name,
                port_name=port.name or str(port.port),
                protocol=port.protocol.lower(),  # type: ignore[arg-type]
                cluster_ip=allocations.vips[service_key(service)],
                port=port.port,
                node_port=allocations.node_ports.get(node_port_key(service, port.port, port.protocol)),
                endpoints=eps,
                family=family,
                load_balancer_addresses=served if service.type == "LoadBalancer" else (),
                source_ranges=service.load_balancer_source_ranges,
                external_policy=service.external_traffic_policy,
            ))
    allowed = tuple(sorted(set(allowed_sources)))
    ports = tuple(sorted({(b.protocol, b.host_port) for b in published}))
    return NodeRules(cluster, addresses[node], allowed, config.host_ports, tuple(service_ports), ports, allowed, family)


def discovery(namespace: str, desired: Desired, allocations: Allocations) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Host entries and environment variables for pods of `namespace`, as Kubernetes gives them."""
    hosts: list[tuple[str, str]] = []
    env: list[tuple[str, str]] = []
    for service in sorted((o for o in desired.objects if isinstance(o, Service)), key=service_key):
        if service.meta.namespace != namespace or service_key(service) not in allocations.vips:
            continue
        vip = allocations.vips[service_key(service)]
        name, ns = service.meta.name, service.meta.namespace
        hosts += [(name, vip), (f"{name}.{ns}", vip), (f"{name}.{ns}.svc.cluster.local", vip)]
        prefix = name.upper().replace("-", "_")
        env += [(f"{prefix}_SERVICE_HOST", vip), (f"{prefix}_SERVICE_PORT", str(service.ports[0].port))]
        for port in service.ports:
            if port.name:
                env.append((f"{prefix}_SERVICE_PORT_{port.name.upper().replace('-', '_')}", str(port.port)))
    return tuple(hosts), tuple(env)


def parse_range(value: object, default: tuple[int, int], what: str) -> tuple[int, int]:
    """"30000-32767" from the inventory."""
    if value is None:
        return default
    text = str(value)
    low, sep, high = text.partition("-")
    try:
        result = (int(low), int(high if sep else low))
    except ValueError:
        raise AllocationError(f"{what}: {text!r} is not a port range like 30000-32767") from None
    if not 1 <= result[0] <= result[1] <= 65535:
        raise AllocationError(f"{what}: {text!r} is not a port range within 1-65535")
    return result


LOAD_BALANCER_ADDRESSES_VARIABLE = "sshorch_load_balancer_addresses"


def parse_load_balancer_addresses(value: object, family: IpFamily = IPV4) -> tuple[str, ...] | None:
    """The inventory's list of load balancer addresses (None when unset: every node's own)."""
    if value is None:
        return None
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise AllocationError(f"{LOAD_BALANCER_ADDRESSES_VARIABLE}: must be a list of {family.label} addresses, got {value!r}")
    bad = [item for item in items if not family.is_address(item)]
    if bad:
        raise AllocationError(f"{LOAD_BALANCER_ADDRESSES_VARIABLE}: {bad[0]!r} is not an {family.label} address")
    return tuple(dict.fromkeys(items))
