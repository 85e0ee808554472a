"""Errors users see: each names the place and the fix, and the CLI prints one line."""


class SshorchError(Exception):
    """An error caused by input or environment, reported without a traceback."""


class InventoryError(SshorchError):
    """The inventory cannot be loaded: names the file and the problem."""


class SandboxError(SshorchError):
    """The local sandbox cluster cannot be built, changed or removed."""


class TransportError(SshorchError):
    """An SSH connection or command failed."""
