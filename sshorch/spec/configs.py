"""ConfigMaps and Secrets.  A Secret's values never appear in a message, only their keys."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from sshorch.inventory.model import FrozenMap

from .fields import Fields, describe, describe_type
from .model import ConfigMap, ObjectMeta, Secret, SecretBytes
from .names import check_config_key, check_secret_type
from .pullsecrets import check_registry_secret

# Keys Kubernetes requires for its built-in Secret types.
_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
}


def _decode_base64(value: str) -> bytes:
    # Long values are often wrapped over several lines; Kubernetes ignores the line breaks.
    return base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)


def _parse_data(fields: Fields, key: str, convert: Callable[[str], bytes], secret: bool) -> dict[str, bytes]:
    """A mapping of config keys to values converted to bytes; values shown only when not secret."""
    value = fields.raw(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        fields.fail(key, f"must be a mapping, got {describe_type(value) if secret else describe(value)}")
        return {}
    show = describe_type if secret else describe
    result = {}
    for name, item in value.items():
        path = f"{fields.at(key)}[{name}]"
        rule = check_config_key(name) if isinstance(name, str) else "must be a string"
        if rule is not None:
            fields.report.add(path, f"key {rule}, got {describe(name)}")
        elif not isinstance(item, str):
            fields.report.add(path, f"must be a string, got {show(item)}")
        else:
            try:
                result[name] = convert(item)
            except (binascii.Error, ValueError):
                fields.report.add(path, "must be base64-encoded" + ("" if secret else f", got {describe(item)}"))
    return result


def parse_config_map(top: Fields, meta: ObjectMeta) -> ConfigMap:
    data = top.str_map("data", check_config_key)
    binary = _parse_data(top, "binaryData", _decode_base64, secret=False)
    for name in binary:
        if name in data:
            top.report.add(f"{top.at('binaryData')}[{name}]", "must not also be a key of data")
    return ConfigMap(meta=meta, data=data, binary_data=FrozenMap(binary))


def parse_secret(top: Fields, meta: ObjectMeta) -> Secret:
    secret_type = top.get_str("type", "Opaque", check_secret_type)
    data = _parse_data(top, "data", _decode_base64, secret=True)
    # stringData is written over data, as the Kubernetes API server does.
    data.update(_parse_data(top, "stringData", lambda text: text.encode(), secret=True))
    for required in _REQUIRED_KEYS.get(secret_type, ()):
        if required not in data and not top.report.problems:
            top.report.add("data", f"must have the key {required!r} for type {secret_type}")
    check_registry_secret(top, secret_type, data)
    return Secret(meta=meta, data=FrozenMap({k: SecretBytes(v) for k, v in data.items()}), type=secret_type)
