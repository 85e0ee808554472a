"""Pod volumes: configMap, secret, emptyDir, hostPath, downwardAPI, and named node-local volumes."""

from __future__ import annotations

from typing import Literal

from .downwardvolume import parse_downward_volume
from .fields import Fields, Ref, Report, describe
from .model import (
    ConfigMapVolume,
    EmptyDirVolume,
    HostPathVolume,
    KeyToPath,
    NamedVolume,
    SecretVolume,
    Volume,
    VolumeSource,
)
from .names import check_absolute_path, check_config_key, check_dns1123_label, check_item_path, item_path_clashes
from .quantity import QuantityError, parse_memory_bytes

_SOURCES = ("configMap", "emptyDir", "hostPath", "persistentVolumeClaim", "secret", "downwardAPI")
_HOST_PATH_TYPES: tuple[str, ...] = ("", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket")
_MEDIA: tuple[Literal["", "Memory"], ...] = ("", "Memory")


def _parse_items(fields: Fields) -> tuple[KeyToPath, ...]:
    items = []
    for path, value in fields.items("items"):
        item = Fields(fields.report, value, path, ("key", "path", "mode"))
        items.append(
            KeyToPath(
                key=item.required_str("key", check_config_key),
                path=item.required_str("path", check_item_path),
                mode=item.optional_int("mode", 0, 0o777),
            )
        )
    _check_item_paths(fields, [item.path for item in items])
    return tuple(items)


def _check_item_paths(fields: Fields, paths: list[str]) -> None:
    for i, message in item_path_clashes(paths):
        fields.report.add(f"{fields.at('items')}[{i}].path", message)


def _refer_items(report: Report, fields: Fields, kind: str, name: str, items: tuple[KeyToPath, ...], optional: bool) -> None:
    report.refer(Ref(kind, name, fields.at("secretName" if kind == "Secret" else "name"), optional))
    for i, item in enumerate(items):
        if item.key:
            report.refer(Ref(kind, name, f"{fields.at('items')}[{i}].key", optional, item.key))


def _parse_config_map(fields: Fields) -> ConfigMapVolume:
    volume = ConfigMapVolume(
        name=fields.required_str("name", check_dns1123_label),
        items=_parse_items(fields),
        default_mode=fields.get_int("defaultMode", 0o644, 0, 0o777),
        optional=fields.get_bool("optional", False),
    )
    _refer_items(fields.report, fields, "ConfigMap", volume.name, volume.items, volume.optional)
    return volume


def _parse_secret(fields: Fields) -> SecretVolume:
    volume = SecretVolume(
        secret_name=fields.required_str("secretName", check_dns1123_label),
        items=_parse_items(fields),
        default_mode=fields.get_int("defaultMode", 0o400, 0, 0o777),
        optional=fields.get_bool("optional", False),
    )
    _refer_items(fields.report, fields, "Secret", volume.secret_name, volume.items, volume.optional)
    return volume


def _parse_empty_dir(fields: Fields) -> EmptyDirVolume:
    size_limit = None
    if fields.has("sizeLimit"):
        try:
            size_limit = parse_memory_bytes(fields.raw("sizeLimit"))
        except QuantityError as exc:
            fields.fail("sizeLimit", f"{exc}, got {describe(fields.raw('sizeLimit'))}")
    return EmptyDirVolume(medium=fields.get_choice("medium", _MEDIA, ""), size_limit_bytes=size_limit)


def _parse_source(fields: Fields, kind: str) -> VolumeSource:
    if kind == "configMap":
        return _parse_config_map(fields.sub(kind, ("name", "items", "defaultMode", "optional")))
    if kind == "secret":
        return _parse_secret(fields.sub(kind, ("secretName", "items", "defaultMode", "optional")))
    if kind == "downwardAPI":
        return parse_downward_volume(fields.sub(kind, ("items", "defaultMode")))
    if kind == "emptyDir":
        return _parse_empty_dir(fields.sub(kind, ("medium", "sizeLimit")))
    if kind == "hostPath":
        host = fields.sub(kind, ("path", "type"))
        return HostPathVolume(host.required_str("path", check_absolute_path), host.get_choice("type", _HOST_PATH_TYPES, ""))
    claim = fields.sub(kind, ("claimName", "readOnly"))
    return NamedVolume(claim.required_str("claimName", check_dns1123_label), claim.get_bool("readOnly", False))


def parse_volume(report: Report, path: str, value: object) -> Volume:
    fields = Fields(report, value, path, ("name", *_SOURCES))
    name = fields.required_str("name", check_dns1123_label)
    source = fields.exactly_one(_SOURCES)
    if source is None:
        return Volume(name, EmptyDirVolume())
    return Volume(name, _parse_source(fields, source))
