"""Host key checking against a known_hosts file.

An unknown key is refused unless the user asked to accept new keys, in which
case it is appended to the file; a changed key is always refused (paramiko
raises BadHostKeyException before any policy is asked).
"""

from __future__ import annotations

import threading
from pathlib import Path

import paramiko


class UnknownHostKey(paramiko.SSHException):
    def __init__(self, hostname: str, key: paramiko.PKey, known_hosts: Path) -> None:
        super().__init__(
            f"host key for {hostname} is not in {known_hosts} "
            f"({key.get_name()} {key.fingerprint}); add it or pass --accept-new-host-keys"
        )


class RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise UnknownHostKey(hostname, key, self.known_hosts)


class AcceptNew(paramiko.MissingHostKeyPolicy):
    """Trust on first use: record the new key in the known_hosts file."""

    _lock = threading.Lock()

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        with self._lock:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with open(self.known_hosts, "a", encoding="utf-8") as out:
                out.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def load_known_hosts(path: Path) -> paramiko.HostKeys:
    keys = paramiko.HostKeys()
    if path.exists():
        keys.load(str(path))
    return keys
