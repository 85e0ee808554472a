"""Liveness, readiness and startup probes, with Kubernetes' defaults."""

from __future__ import annotations

from collections.abc import Collection

from .fields import Fields, Report, describe
from .limits import MAX_PROBE_TIMEOUT_SECONDS
from .model import ExecAction, GrpcAction, HttpGetAction, Probe, ProbeAction, TcpSocketAction
from .names import check_header_name, check_header_value, check_host, check_http_path
from .ports import parse_port_or_name

_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_TIMING = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold")


def _parse_http_get(fields: Fields, port_names: Collection[str]) -> HttpGetAction:
    headers = []
    for path, item in fields.items("httpHeaders"):
        header = Fields(fields.report, item, path, ("name", "value"))
        name = header.required_str("name", check_header_name)
        value = header.required_str("value", check_header_value)
        headers.append((name, value))
    return HttpGetAction(
        port=parse_port_or_name(fields, "port", names=port_names),
        path=fields.get_str("path", "/", check_http_path),
        scheme=fields.get_choice("scheme", ("HTTP", "HTTPS"), "HTTP"),
        host=fields.optional_str("host", check_host),
        headers=tuple(headers),
    )


def _parse_grpc(fields: Fields) -> GrpcAction:
    service = fields.get_str("service", "")
    name = fields.raw("port")
    if isinstance(name, str):  # Kubernetes' grpc.port is a number only: say so rather than "must be an integer"
        fields.fail("port", f"must be an integer 1-65535 (a grpc probe takes a port number, not a name), got {describe(name)}")
        return GrpcAction(0, service)
    return GrpcAction(fields.required_int("port", 1, 65535) or 0, service)


def _parse_action(fields: Fields, port_names: Collection[str]) -> ProbeAction:
    handler = fields.exactly_one(_HANDLERS)
    if handler is None:
        return ExecAction(())
    if handler == "exec":
        action = fields.sub("exec", ("command",))
        command = action.str_list("command")
        if not command:
            action.missing("command", "is required and must not be empty")
        return ExecAction(command)
    if handler == "httpGet":
        return _parse_http_get(fields.sub("httpGet", ("path", "port", "host", "scheme", "httpHeaders")), port_names)
    if handler == "grpc":
        return _parse_grpc(fields.sub("grpc", ("port", "service")))
    action = fields.sub("tcpSocket", ("port",))
    return TcpSocketAction(parse_port_or_name(action, "port", names=port_names))


def parse_probe(report: Report, value: object, path: str, *, port_names: Collection[str], startup_or_liveness: bool) -> Probe:
    fields = Fields(report, value, path, _HANDLERS + _TIMING)
    action = _parse_action(fields, port_names)
    success = fields.get_int("successThreshold", 1, 1)
    if startup_or_liveness and success != 1:
        fields.fail("successThreshold", f"must be 1 for liveness and startup probes, got {success}")
    return Probe(
        action=action,
        initial_delay_seconds=fields.get_int("initialDelaySeconds", 0, 0),
        period_seconds=fields.get_int("periodSeconds", 10, 1),
        timeout_seconds=fields.get_int("timeoutSeconds", 1, 1, MAX_PROBE_TIMEOUT_SECONDS),
        success_threshold=success,
        failure_threshold=fields.get_int("failureThreshold", 3, 1),
    )

