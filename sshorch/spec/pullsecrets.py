"""A pod's imagePullSecrets: registry credentials for pulling its images, from Secrets of
the two docker types, as the kubelet reads them (pkg/credentialprovider/secrets).

`kubernetes.io/dockerconfigjson` holds a docker config.json under `.dockerconfigjson`
(`{"auths": {REGISTRY: {...}}}`); `kubernetes.io/dockercfg` the older `~/.dockercfg`
under `.dockercfg`: the same `auths` mapping without its wrapper. A Secret's values
never appear in a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .fields import Fields, Ref, one_of
from .names import check_dns1123_label

# Secret type -> the key its credentials are under.
PULL_SECRET_TYPES = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}
PULL_SECRET_RULE = f"must be of type {one_of(PULL_SECRET_TYPES)} to hold registry credentials"

Auths = dict[str, dict[str, object]]


class RegistryAuthError(ValueError):
    """A registry Secret's value is not the JSON its type says (the message shows no value)."""


def _auths(value: object, what: str) -> Auths:
    if not isinstance(value, dict) or not all(isinstance(entry, dict) for entry in value.values()):
        raise RegistryAuthError(f"must be {what}")
    return {str(registry): dict(entry) for registry, entry in value.items()}


def registry_auths(secret_type: str, data: Mapping[str, bytes]) -> Auths:
    """The registry -> credentials mapping of a Secret of a pull secret type."""
    key = PULL_SECRET_TYPES[secret_type]
    try:
        parsed = json.loads(data[key])
    except (KeyError, ValueError):
        parsed = None
    if key == ".dockercfg":
        return _auths(parsed, "a .dockercfg: a JSON object of registry to credentials")
    config_json = 'a docker config.json: a JSON object with an "auths" object of registry to credentials'
    if not isinstance(parsed, dict):
        raise RegistryAuthError(f"must be {config_json}")
    return _auths(parsed.get("auths", {}), config_json)


def check_registry_secret(fields: Fields, secret_type: str, data: Mapping[str, bytes]) -> None:
    """A Secret of a pull secret type holds JSON of its format, as the API server checks."""
    key = PULL_SECRET_TYPES.get(secret_type)
    if key is None or key not in data:
        return
    try:
        registry_auths(secret_type, data)
    except RegistryAuthError as error:
        fields.report.add(f"{fields.at('data')}[{key}]", str(error))


def parse_image_pull_secrets(fields: Fields) -> tuple[str, ...]:
    """The names of a pod spec's `imagePullSecrets`, each a Secret of a pull secret type."""
    names = []
    for path, item in fields.items("imagePullSecrets"):
        entry = Fields(fields.report, item, path, ("name",))
        name = entry.required_str("name", check_dns1123_label)
        fields.report.refer(Ref("Secret", name, entry.at("name"), types=tuple(PULL_SECRET_TYPES)))
        names.append(name)
    return tuple(names)
