"""SSH connections, parallel fan-out and retries: the only code that talks to nodes."""

from sshorch.transport.connection import CommandResult, Connection, ConnectOptions, SshTarget, Unreachable
from sshorch.transport.session import NodeOutcome, Session

__all__ = ["CommandResult", "Connection", "ConnectOptions", "NodeOutcome", "Session", "SshTarget", "Unreachable"]
