"""The node lock, /run/sshorch/node.lock: a run's actions on a node hold it, and
a gather takes it shared.

A controller that dies mid-run leaves its node script going (it creates pods,
and undoes them when it can no longer report). The next run's actions wait for
that script to finish, and so does its gather: it never reads a node half-way
through another run's actions, and never plans from what is about to be undone.
"""

from __future__ import annotations

import os
import shlex

from sshorch.transport import CommandResult

NODE_LOCK = "/run/sshorch/node.lock"
BUSY_STATUS = 75  # flock's exit status when the wait ran out
ACTIONS_WAIT_SECONDS = 300
# Within the gather's own timeout (6 s), which also bounds how long a node that
# went away keeps a pass waiting: a node still busy after this is read next pass.
GATHER_WAIT_SECONDS = 3


def locked(script: str, lock: str = NODE_LOCK, wait_seconds: int = ACTIONS_WAIT_SECONDS) -> list[str]:
    """argv running the script under the lock, alone."""
    return _under_lock(script, lock, wait_seconds, f"mkdir -p {shlex.quote(os.path.dirname(lock))}", "")


def shared(script: str, lock: str = NODE_LOCK, wait_seconds: int = GATHER_WAIT_SECONDS) -> list[str]:
    """argv running a read-only script once no actions hold the lock (others' reads may).
    A node where no run has acted yet has no lock directory: nothing to wait for, nothing made."""
    return _under_lock(script, lock, wait_seconds, f"[ -d {shlex.quote(os.path.dirname(lock))} ]", "-s ")


def _under_lock(script: str, lock: str, wait_seconds: int, precondition: str, mode: str) -> list[str]:
    """`flock -o` keeps the lock out of the containers' processes; where the
    precondition fails or flock is missing, the script runs unlocked."""
    wrapper = (
        f"{precondition} && command -v flock >/dev/null 2>&1 && "
        f'exec flock {mode}-o -w {wait_seconds} -E {BUSY_STATUS} {shlex.quote(lock)} sh -c "$0"; '
        'exec sh -c "$0"'
    )
    return ["sh", "-c", wrapper, script]


def gave_up(result: CommandResult) -> bool:
    """Whether the wrapped script did not run: the lock stayed held for the whole wait."""
    return result.exit_status == BUSY_STATUS and not result.stdout
