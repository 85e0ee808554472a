"""Reuse a node's container listing while podman's state has not changed.

podman writes every change of a container (created, started, exited, restarted,
removed) to its state database, and conmon drops a file into the exits
directory when a container's process ends. The sizes and times of those, read
with stat before the listing, tell whether the listing read last time still
holds. If it does, the node answers "unchanged" and the controller uses the
copy it kept, and the node is spared the two runtime calls that are most of a
gather's CPU there. A copy older than MAX_AGE is not offered, so every node is
read in full at least that often, whatever happens.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

STATE_FILES = (
    "/var/lib/containers/storage/libpod/bolt_state.db",  # podman's boltdb state (4.x)
    "/var/lib/containers/storage/db.sql",  # its sqlite state (4.8 and later)
    "/run/libpod/exits",  # conmon writes a container's exit status here
)
MAX_AGE = 600.0
UNCHANGED = "unchanged"
_STATE = "state "


@dataclass(frozen=True)
class Listing:
    """A node's listing section: the state fingerprint and the listing, or None when unchanged."""

    fingerprint: str  # "" when no state file was found: such a listing is never reused
    body: str | None


@dataclass(frozen=True)
class KeptListing:
    """The controller's copy of a node's last full listing, reused while the state fingerprint holds."""

    fingerprint: str
    body: str
    read_at: float  # when the node last listed in full

    def to_json(self) -> list[Any]:
        return [self.fingerprint, self.body, self.read_at]

    @classmethod
    def from_json(cls, value: Any) -> KeptListing:
        fingerprint, body, read_at = value
        return cls(str(fingerprint), str(body), float(read_at))


def listing_command(listing: str, known: str, state_files: tuple[str, ...] = STATE_FILES) -> str:
    """`listing` preceded by the state fingerprint, and skipped when that is `known`."""
    files = " ".join(shlex.quote(f) for f in state_files)
    command = f"fp=$(stat -c %s:%y {files} 2>/dev/null | tr -d ' \\n'); echo \"{_STATE}$fp\"; "
    if known:
        command += f'if [ -n "$fp" ] && [ "$fp" = {shlex.quote(known)} ]; then echo {UNCHANGED}; exit 0; fi; '
    return command + listing


def parse_listing(output: str) -> Listing:
    first, _, rest = output.partition("\n")
    if not first.startswith(_STATE):
        return Listing("", output)  # no fingerprint line: a listing on its own
    fingerprint = first[len(_STATE):].strip()
    return Listing(fingerprint, None if rest.strip() == UNCHANGED else rest)


def offered(kept: KeptListing | None, now: float) -> str:
    """The fingerprint to send the node: the kept copy's, while it is young enough."""
    return kept.fingerprint if kept is not None and now - kept.read_at < MAX_AGE else ""


def resolve(listing: Listing, kept: KeptListing | None, now: float) -> tuple[str, KeptListing | None]:
    """The listing to parse, and the copy to keep for the next gather."""
    if listing.body is None:
        if kept is None or kept.fingerprint != listing.fingerprint:
            raise ValueError("the node reported its containers unchanged, but no copy of them is kept")
        return kept.body, kept  # read_at stays: the copy goes on ageing
    return listing.body, (KeptListing(listing.fingerprint, listing.body, now) if listing.fingerprint else None)
