"""Running probes: the only I/O of the package.

exec probes run through the runtime on the node, every due one of a node in
ONE exec: a script runs them side by side (each bounded by `timeout` on the
node), each into its own file, then prints them (the last 4 KiB of each
command's output) framed by `render_section`.
The markers carry a random token, so that a probed command cannot print a
result for another probe. httpGet, tcpSocket and grpc probes run from the
controller to `node_address:hostPort` and never to any other address.
"""

from __future__ import annotations

import secrets
import shlex
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from sshorch.observe.facts import render_section, split_sections
from sshorch.probes.grpcprobe import grpc_probe
from sshorch.probes.model import ProbeKey, ProbeResult, ProbeTarget, ProbeTask
from sshorch.runtime.base import Runtime
from sshorch.runtime.registry import runtime_for
from sshorch.spec.limits import MAX_PROBE_TIMEOUT_SECONDS
from sshorch.spec.model import ExecAction, GrpcAction, HttpGetAction, TcpSocketAction

if TYPE_CHECKING:
    import http.client

HEADER = "@@sshorch-probes:"
TIMED_OUT = 124  # `timeout`'s exit status when the time ran out
KILL_AFTER = 1  # seconds `timeout` waits after TERM before it sends KILL
USER_AGENT = "kube-probe/sshorch"
BODY_LIMIT = 1024  # bytes of a response body read for the message
OUTPUT_LIMIT = 4096  # bytes of an exec probe's output sent back (the message is its last line)


# --- exec probes ------------------------------------------------------------


def exec_probe_argv(task: ProbeTask, runtime: Runtime) -> list[str]:
    action = task.probe.action
    if not isinstance(action, ExecAction):
        raise ValueError(f"{task.key}: not an exec probe")
    exec_argv = runtime.exec(task.target.container_name, action.command)
    return ["timeout", "-k", str(KILL_AFTER), str(task.probe.timeout_seconds), *exec_argv]


def _section_name(token: str, index: int) -> str:
    return f"probe-{token}-{index}"


def render_exec_probe_script(tasks: Sequence[ProbeTask], runtime: Runtime, token: str | None = None) -> str:
    """One shell script running every exec task side by side and printing their framed results in order.

    `token` (random unless given) makes the markers unguessable by the probed commands."""
    token = token if token is not None else secrets.token_hex(8)
    lines = [
        "exec 2>&1 </dev/null",
        "export LC_ALL=C",
        f"echo '{HEADER}{token}'",
        "d=$(mktemp -d) || exit",
        'trap \'rm -rf "$d"\' EXIT',
    ]
    for index, task in enumerate(tasks):
        # Only the end of the output travels back: a chatty probe must not fill the SSH channel.
        command = (f'{shlex.join(exec_probe_argv(task, runtime))} >"$d/{index}.out" 2>&1; rc=$?; '
                   f'tail -c {OUTPUT_LIMIT} "$d/{index}.out"; exit $rc')
        section = render_section(_section_name(token, index), command)
        lines.append("{\n" + section + f'}} >"$d/{index}" 2>&1 &')
    lines.append("wait")
    lines += [f'cat "$d/{index}"' for index in range(len(tasks))]
    return "\n".join(lines) + "\n"


SCRIPT_SLACK = 10.0  # seconds for SSH and the runtime's start-up around a node's exec probes


def script_timeout(tasks: Iterable[ProbeTask]) -> float:
    """How long the exec of a rendered script may take (probes run side by side), with slack for SSH."""
    return max((t.probe.timeout_seconds for t in tasks), default=0) + KILL_AFTER + SCRIPT_SLACK


# The longest any node's exec probes may take: the exec's own timeout.
MAX_SCRIPT_SECONDS = MAX_PROBE_TIMEOUT_SECONDS + KILL_AFTER + SCRIPT_SLACK


def _exec_result(task: ProbeTask, exit_status: int, output: str) -> ProbeResult:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if exit_status == 0:
        return True, last or "exited 0"
    if exit_status == TIMED_OUT:
        return False, f"timed out after {task.probe.timeout_seconds}s"
    return False, f"exited {exit_status}: {last}" if last else f"exited {exit_status}"


def parse_exec_probe_output(tasks: Sequence[ProbeTask], output: str) -> dict[ProbeKey, ProbeResult]:
    """Each task's (success, message) from a rendered script's output: exit 0 is success, the
    message is the last line the command printed. A task without a section (the script did not
    get to run it) has no result."""
    first = output.lstrip().partition("\n")[0].strip()
    if not first.startswith(HEADER):
        return {}
    token = first.removeprefix(HEADER)
    sections = split_sections(output)
    results: dict[ProbeKey, ProbeResult] = {}
    for index, task in enumerate(tasks):
        section = sections.get(_section_name(token, index))
        if section is not None:
            results[task.key] = _exec_result(task, section.exit_status, section.output)
    return results


# --- network probes ---------------------------------------------------------


def resolve_host_port(target: ProbeTarget, port: int | str) -> int | str:
    """The node's host port for a probe's port (a number or a container port name), or why there is none."""
    number = target.named_ports.get(port) if isinstance(port, str) else port
    if number is None:
        return f"container {target.container} has no port named {port!r}"
    host_port = target.host_ports.get(number)
    if host_port is None:
        return f"port {number} of pod {target.pod} is not published on node {target.node} (list it in the container's ports)"
    return host_port


def _http_headers(action: HttpGetAction) -> dict[str, str | bytes]:
    headers: dict[str, str | bytes] = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if action.host:
        headers["Host"] = action.host
    for name, value in action.headers:
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        # As the kubelet (Go) sends them: a value's bytes in UTF-8, not Latin-1.
        headers[name] = value.encode()
    return headers


# Printable ASCII but for the space: what a request line carries as written.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def request_path(path: str) -> str:
    """The path as sent: non-ASCII characters percent-encoded in UTF-8, as the kubelet's URL does."""
    import urllib.parse

    return urllib.parse.quote(path, safe=_PATH_SAFE)


class _Watchdog:
    """Ends an HTTP exchange at its deadline, whatever the server does: socket timeouts bound
    each read, but a server that trickles a byte a second never lets one run out. At the
    deadline the connection's socket is shut down, which wakes the blocked read."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        self._connection = connection
        self._deadline = deadline
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="probe-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        if self._done.wait(max(0.0, self._deadline - time.monotonic())):
            return
        # Again until the exchange ends: the socket may not exist yet (connecting, itself bounded).
        while True:
            sock = self._connection.sock
            if sock is not None:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass
            if self._done.wait(0.05):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _http_probe(address: str, port: int, action: HttpGetAction, timeout: float) -> ProbeResult:
    # Imported here: most passes probe nothing over HTTP, and ssl is slow to import.
    import http.client
    import ssl

    path = request_path(action.path)
    url = f"{action.scheme.lower()}://{address}:{port}{path}"
    timed_out = (False, f"timed out after {timeout:g}s: GET {url}")
    connection: http.client.HTTPConnection
    if action.scheme == "HTTPS":
        # As Kubernetes does: encrypted, but the certificate is not verified.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(address, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    deadline = time.monotonic() + timeout
    watchdog = _Watchdog(connection, deadline)
    try:
        connection.request("GET", path, headers=_http_headers(action))
        response = connection.getresponse()
        response.read(BODY_LIMIT)
    except (TimeoutError, socket.timeout):
        return timed_out
    except Exception as error:  # whatever the server sent, or did not: this probe's failure
        return timed_out if time.monotonic() >= deadline else (False, f"GET {url}: {_describe(error)}")
    finally:
        watchdog.stop()
        connection.close()
    if time.monotonic() >= deadline:
        return timed_out
    ok = 200 <= response.status < 400
    return ok, f"HTTP {response.status} from {url}"


def _tcp_probe(address: str, port: int, timeout: float) -> ProbeResult:
    where = f"{address}:{port}"
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True, f"connected to {where}"
    except (TimeoutError, socket.timeout):
        return False, f"timed out after {timeout:g}s connecting to {where}"
    except OSError as error:
        return False, f"cannot connect to {where}: {_describe(error)}"


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


def run_network_probe(task: ProbeTask) -> ProbeResult:
    """Run an httpGet, tcpSocket or grpc probe against the target's node address and published port.
    httpGet succeeds on a status 200-399 (redirects are not followed); tcpSocket when it connects;
    grpc when the health service answers SERVING."""
    action, target = task.probe.action, task.target
    if not isinstance(action, (HttpGetAction, TcpSocketAction, GrpcAction)):
        return False, "not a network probe"
    if not target.node_address:
        return False, f"node {target.node} has no known address"
    port = resolve_host_port(target, action.port)
    if isinstance(port, str):
        return False, port
    timeout = float(task.probe.timeout_seconds)
    if isinstance(action, HttpGetAction):
        return _http_probe(target.node_address, port, action, timeout)
    if isinstance(action, GrpcAction):
        return grpc_probe(target.node_address, port, action.service, timeout, USER_AGENT)
    return _tcp_probe(target.node_address, port, timeout)


# --- a pass -----------------------------------------------------------------


class ProbeResults(dict[ProbeKey, ProbeResult]):
    """Results by probe; `node_errors` says why the exec probes of a node have none."""

    def __init__(self) -> None:
        super().__init__()
        self.node_errors: dict[str, str] = {}


ExecOnNode = Callable[[str, str], str]


def _run_node(node: str, tasks: Sequence[ProbeTask], runtime: Runtime, exec_on_node: ExecOnNode) -> dict[ProbeKey, ProbeResult]:
    return parse_exec_probe_output(tasks, exec_on_node(node, render_exec_probe_script(tasks, runtime)))


def pass_time_limit(tasks: Iterable[ProbeTask]) -> float:
    """How long a pass waits for its probes in all: the longest exec script, or with network
    probes only the longest timeout and a second. Each probe is bounded by its own timeout,
    so only probes queued behind others for want of threads can miss it."""
    tasks = list(tasks)
    if any(isinstance(t.probe.action, ExecAction) for t in tasks):
        return script_timeout(tasks)
    return max((t.probe.timeout_seconds for t in tasks), default=0) + 1.0


def _guarded_network_probe(task: ProbeTask) -> ProbeResult:
    try:
        return run_network_probe(task)
    except Exception as error:  # one probe's bug or odd input is that probe's failure, never the pass's
        return False, f"probe failed: {type(error).__name__}: {error}"


def run_probes(
    tasks: Iterable[ProbeTask],
    exec_on_node: ExecOnNode,
    runtimes: Mapping[str, str],
    pool_size: int = 32,
) -> ProbeResults:
    """Run a pass's probes: exec probes grouped per node, ONE `exec_on_node(node, script) -> output`
    per node; network probes side by side, all on one pool of `pool_size` threads.

    `runtimes` gives each node's runtime by name. A node whose exec fails, or whose runtime is
    not in `runtimes`, has no results (an error is not a probe failure); the reason is in
    `node_errors`. The pass waits at most `pass_time_limit`: a probe that has not answered by
    then has no result this pass."""
    tasks = list(tasks)
    by_node: dict[str, list[ProbeTask]] = defaultdict(list)
    network: list[ProbeTask] = []
    for task in tasks:
        if isinstance(task.probe.action, ExecAction):
            by_node[task.target.node].append(task)
        else:
            network.append(task)
    results = ProbeResults()
    if not by_node and not network:
        return results
    limit = pass_time_limit(tasks)
    pool = ThreadPoolExecutor(max_workers=max(1, pool_size), thread_name_prefix="probe")
    try:
        node_runs: dict[str, Future[dict[ProbeKey, ProbeResult]]] = {
            node: pool.submit(_run_node, node, node_tasks, runtime_for(runtimes[node]), exec_on_node)
            for node, node_tasks in by_node.items() if node in runtimes
        }
        results.node_errors.update(
            (node, f"{node}: its container runtime is not known") for node in by_node if node not in runtimes
        )
        network_runs = [(task, pool.submit(_guarded_network_probe, task)) for task in network]
        futures: list[Future[Any]] = [*node_runs.values(), *(future for _, future in network_runs)]
        wait(futures, timeout=limit)
        for node, future in node_runs.items():
            if not future.done():
                results.node_errors[node] = f"{node}: exec probes did not answer within {limit:g}s"
                continue
            try:
                results.update(future.result())
            except Exception as error:  # any failure of the caller's exec is that node's error, not a crash
                results.node_errors[node] = f"{node}: {error or type(error).__name__}"
        for task, network_future in network_runs:
            if network_future.done():
                results[task.key] = network_future.result()
    finally:
        # Never wait for a straggler: each ends by its own timeout, its result unread.
        pool.shutdown(wait=False, cancel_futures=True)
    return results
