"""Which host and group names sshorch accepts: nothing a shell or ssh would interpret."""

from __future__ import annotations

import ipaddress
import re

# DNS-like labels of ASCII letters, digits, '-' and '_' that neither start nor
# end with '-', so a host name can never be taken for an ssh option.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# Ansible only warns about group names that are not identifiers; '-' and '.'
# are common in real inventories, so they are allowed too.
_GROUP_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def is_valid_host_name(name: str) -> bool:
    """A DNS-like host name or an IPv4/IPv6 address (without a zone index)."""
    if not name or len(name) > 253 or "%" in name:
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return _HOSTNAME.fullmatch(name) is not None
    return True


def is_valid_group_name(name: str) -> bool:
    return _GROUP_NAME.fullmatch(name) is not None


HOST_NAME_RULE = "use a DNS name (letters, digits, '-', '_', '.') or an IP address"
GROUP_NAME_RULE = "use letters, digits, '_', '-' and '.', starting with a letter, digit or '_'"
