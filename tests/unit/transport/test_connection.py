import socket
from pathlib import Path

import paramiko
import pytest

from sshorch.errors import TransportError
from sshorch.transport.connection import MAX_OUTPUT_BYTES, SshTarget, _collect, _transient, describe_connect_error
from sshorch.transport.hostkeys import AcceptNew, RefuseUnknown, UnknownHostKey, load_known_hosts

TARGET = SshTarget("node1", "198.18.0.2", key_file="/k/id")


def test_descriptions_name_the_place_and_the_cause() -> None:
    assert describe_connect_error(TARGET, socket.timeout(), 5) == "root@198.18.0.2:22: connection timed out after 5s"
    assert "authentication failed with /k/id" in describe_connect_error(TARGET, paramiko.AuthenticationException(), 5)
    assert "connection refused" in describe_connect_error(TARGET, ConnectionRefusedError(111, "Connection refused"), 5)


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (ConnectionResetError(), True),
        (EOFError(), True),
        (paramiko.SSHException("Error reading SSH protocol banner"), True),
        (socket.timeout(), False),
        (paramiko.AuthenticationException(), False),
    ],
)
def test_only_transient_errors_are_retried(error: BaseException, retry: bool) -> None:
    assert _transient(error) is retry


def _key() -> paramiko.PKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    import io

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))


def test_unknown_key_is_refused_by_default(tmp_path: Path) -> None:
    with pytest.raises(UnknownHostKey, match="--accept-new-host-keys"):
        RefuseUnknown(tmp_path / "kh").missing_host_key(paramiko.SSHClient(), "198.18.0.2", _key())


def test_accept_new_records_the_key(tmp_path: Path) -> None:
    key = _key()
    client = paramiko.SSHClient()
    AcceptNew(tmp_path / "kh").missing_host_key(client, "[198.18.0.2]:2222", key)
    stored = load_known_hosts(tmp_path / "kh")
    assert stored.check("[198.18.0.2]:2222", key)
    assert client.get_host_keys().check("[198.18.0.2]:2222", key)


class EndlessChannel:
    """A channel whose node prints `total` bytes (None: without end) on stdout, then exits."""

    def __init__(self, total: int | None) -> None:
        self.left = total
        self.eof_received = False

    def recv_ready(self) -> bool:
        return self.left is None or self.left > 0

    def recv(self, size: int) -> bytes:
        chunk = size if self.left is None else min(size, self.left)
        if self.left is not None:
            self.left -= chunk
            self.eof_received = self.left == 0
        return b"x" * chunk

    def recv_stderr_ready(self) -> bool:
        return False

    def exit_status_ready(self) -> bool:
        return not self.recv_ready()


def test_output_past_the_limit_is_an_error_not_unbounded_memory() -> None:
    with pytest.raises(TransportError, match=r"^node1: command output exceeds 1 MiB; not read further$"):
        _collect(EndlessChannel(None), 5.0, "node1", lambda: None, max_output=2**20)  # type: ignore[arg-type]
    out, err = _collect(EndlessChannel(2**20), 5.0, "node1", lambda: None, max_output=2**20)  # type: ignore[arg-type]
    assert (len(out), err) == (2**20, b"")
    assert MAX_OUTPUT_BYTES == 64 * 2**20
