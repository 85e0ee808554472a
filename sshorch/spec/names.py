"""Name and path syntax, as Kubernetes defines it.

Every name from a manifest ends up in a container name, a label, a file path
or an argv list on a node, so each is checked here before it gets near a shell.
A ``check_*`` function returns None for a good value, else what is allowed
("must be ..."), to which the caller adds the value given.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

from sshorch.ipfamily import IPV4, IpFamily

from .fields import describe

_ALNUM = "A-Za-z0-9"
DNS1123_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
IANA_SVC_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# The name part of a label or annotation key, and a label value.
QUALIFIED_NAME = re.compile(rf"[{_ALNUM}](?:[-{_ALNUM}_.]*[{_ALNUM}])?")
CONFIG_KEY = re.compile(r"[-._A-Za-z0-9]+")
HTTP_HEADER_NAME = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
SECRET_TYPE = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?")

# Characters a shell would interpret, and whitespace: never in an image reference.
SHELL_METACHARACTERS = frozenset(";&|$`'\"<>()\\")

# Docker's reference grammar: [registry[:port]/]path[:tag][@algorithm:digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")

DNS1123_LABEL_RULE = (
    "must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
)
DNS1035_LABEL_RULE = (
    "must be a DNS-1035 label (at most 63 lowercase letters, digits and '-', starting with a letter, ending with a letter or digit)"
)
IANA_SVC_NAME_RULE = "must be at most 15 lowercase letters, digits and '-', with at least one letter, starting and ending with a letter or digit, no '--'"


def _has_control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def is_dns1123_label(value: str) -> bool:
    return len(value) <= 63 and DNS1123_LABEL.fullmatch(value) is not None


def is_dns1035_label(value: str) -> bool:
    return len(value) <= 63 and DNS1035_LABEL.fullmatch(value) is not None


def is_dns1123_subdomain(value: str) -> bool:
    return len(value) <= 253 and DNS1123_SUBDOMAIN.fullmatch(value) is not None


def check_dns1123_label(value: str) -> str | None:
    return None if is_dns1123_label(value) else DNS1123_LABEL_RULE


def check_dns1035_label(value: str) -> str | None:
    return None if is_dns1035_label(value) else DNS1035_LABEL_RULE


def check_max_length(limit: int, check: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """A stricter name check, for names that get a suffix (a CronJob's Jobs)."""

    def checked(value: str) -> str | None:
        rule = check(value)
        if rule is None and len(value) > limit:
            return f"must be at most {limit} characters"
        return rule

    return checked


def check_port_name(value: str) -> str | None:
    ok = (
        len(value) <= 15
        and IANA_SVC_NAME.fullmatch(value) is not None
        and "--" not in value
        and any("a" <= c <= "z" for c in value)
    )
    return None if ok else IANA_SVC_NAME_RULE


def check_env_var_name(value: str) -> str | None:
    if ENV_VAR_NAME.fullmatch(value):
        return None
    return "must be an environment variable name (letters, digits, '_', '.' and '-', not starting with a digit, '.' or '-')"


SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_ENV_RULE = (
    "must be a shell variable name (letters, digits and '_', not starting with a digit) for a value "
    "from a Secret: secret variables are set by a shell in the container, never on a command line"
)


def is_shell_name(value: str) -> bool:
    return SHELL_NAME.fullmatch(value) is not None


def check_env_prefix(value: str) -> str | None:
    return None if value == "" else check_env_var_name(value)


def _check_qualified_name(name: str) -> bool:
    return len(name) <= 63 and QUALIFIED_NAME.fullmatch(name) is not None


def check_label_key(value: str) -> str | None:
    """[DNS-subdomain prefix '/'] name: the syntax of label and annotation keys."""
    prefix, slash, name = value.rpartition("/")
    if slash and not is_dns1123_subdomain(prefix):
        return "must have a DNS subdomain prefix (lowercase letters, digits, '-' and '.') before '/'"
    if not _check_qualified_name(name):
        return "must be [prefix/]name with a name of at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def check_label_value(value: str) -> str | None:
    if value == "" or _check_qualified_name(value):
        return None
    return "must be empty or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"


def check_config_key(value: str) -> str | None:
    if len(value) <= 253 and CONFIG_KEY.fullmatch(value) and value not in (".", ".."):
        return None
    return "must be a file name of letters, digits, '-', '_' and '.' (not '.' or '..')"


def check_image(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if _has_control(value) or any(c.isspace() or c in SHELL_METACHARACTERS for c in value):
        return "must not contain whitespace, shell metacharacters or control characters"
    if len(value) > 512 or IMAGE_REFERENCE.fullmatch(value) is None:
        return "must be an image reference [registry[:port]/]path[:tag][@sha256:digest] with a lowercase path"
    return None


def image_has_fixed_tag(image: str) -> bool:
    """Whether the image names a tag other than latest, or a digest (Kubernetes' pull-policy default)."""
    if "@" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] != "latest"


def _path_problem(value: str) -> str | None:
    # ':' and ',' separate fields of runtime volume options; control characters never belong.
    if _has_control(value) or ":" in value or "," in value:
        return "must not contain ':', ',' or control characters"
    if ".." in value.split("/"):
        return "must not contain '..' components"
    return None


def check_absolute_path(value: str) -> str | None:
    if not value.startswith("/"):
        return "must be an absolute path"
    return _path_problem(value)


def check_relative_path(value: str) -> str | None:
    if not value or value.startswith("/"):
        return "must be a relative path"
    return _path_problem(value)


# The kubelet's limits on a volume item's path (pkg/volume/util/atomic_writer.go).
MAX_ITEM_PATH = 4096
MAX_FILE_NAME = 255


def check_item_path(value: str) -> str | None:
    """A file of a configMap or secret volume (`items[].path`): relative, no '..' element, not
    starting with '..' (Kubernetes' rules; the kubelet keeps '..data' for itself), and, since
    each is a file tar writes on the node, no '.' or empty element (no './', '//' or trailing '/')."""
    rule = check_relative_path(value)
    if rule is not None:
        return rule
    elements = value.split("/")
    if "" in elements:
        return "must be a file path without empty elements (no '//' and no trailing '/')"
    if "." in elements:
        return "must be a file path without '.' elements"
    if value.startswith(".."):
        return "must not start with '..'"
    if len(value) > MAX_ITEM_PATH or any(len(e.encode()) > MAX_FILE_NAME for e in elements):
        return f"must be at most {MAX_ITEM_PATH} characters, each file name at most {MAX_FILE_NAME} bytes"
    return None


def item_path_clashes(paths: Sequence[str]) -> list[tuple[int, str]]:
    """(index, what is wrong) for each of a volume's `items[].path` that clashes with one
    before it: two items cannot be one file, nor one a file and a directory the other's
    path runs through. Empty paths (reported already) are skipped."""
    clashes = []
    files: dict[str, int] = {}
    dirs: dict[str, int] = {}
    for i, path in enumerate(paths):
        if not path:
            continue
        parents = ["/".join(path.split("/")[:depth]) for depth in range(1, path.count("/") + 1)]
        if path in files:
            clashes.append((i, f"must differ from items[{files[path]}].path, got {describe(path)} twice"))
        elif path in dirs:
            clashes.append((i, f"must not be a directory of items[{dirs[path]}].path, got {describe(path)}"))
        elif clash := next((p for p in parents if p in files), None):
            clashes.append((i, f"must not run through items[{files[clash]}].path ({clash!r}, a file), got {describe(path)}"))
        else:
            files[path] = i
            for parent in parents:
                dirs.setdefault(parent, i)
    return clashes


def check_http_path(value: str) -> str | None:
    if not value.startswith("/") or _has_control(value) or any(c.isspace() for c in value):
        return "must start with '/' and contain no whitespace or control characters"
    return None


def check_host(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if is_dns1123_subdomain(value.lower()):
        return None
    return "must be a host name or an IP address"


def check_header_name(value: str) -> str | None:
    return None if HTTP_HEADER_NAME.fullmatch(value) else "must be an HTTP header name"


def check_header_value(value: str) -> str | None:
    return "must not contain control characters" if _has_control(value) else None


def check_secret_type(value: str) -> str | None:
    if len(value) <= 253 and SECRET_TYPE.fullmatch(value):
        return None
    return "must be a Secret type such as Opaque or kubernetes.io/tls"


def check_address(value: str, family: IpFamily = IPV4) -> str | None:
    return None if family.is_address(value) else f"must be an {family.label} address"
