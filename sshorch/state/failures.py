"""The state store's error: names the state file and what to do about it."""

from sshorch.errors import SshorchError


class StateError(SshorchError):
    """The state file cannot be opened, read or written, or a write would break an invariant."""


class DamagedRecord(StateError):
    """A record that no longer decodes; the store adds the file's name before it reaches the user."""
