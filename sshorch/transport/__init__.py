"""SSH connections, parallel fan-out and retries: the only code that talks to nodes."""

import sys

# paramiko imports invoke (about 50 ms of a command's start) only to run ssh_config
# `Match exec` lines, which sshorch never reads; without it paramiko goes on as if
# invoke were not installed.
sys.modules.setdefault("invoke", None)  # type: ignore[arg-type]

from sshorch.transport.connection import CommandResult, Connection, ConnectOptions, SshTarget, Unreachable
from sshorch.transport.session import NodeOutcome, Session

__all__ = ["CommandResult", "Connection", "ConnectOptions", "NodeOutcome", "Session", "SshTarget", "Unreachable"]
