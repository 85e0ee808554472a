"""A node's container listing is skipped while podman's state files are unchanged: the
rendered shell is run for real against files in tmp_path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sshorch.observe.cluster import build_node_observation
from sshorch.observe.listing import MAX_AGE, KeptListing, Listing, listing_command, offered, parse_listing, resolve
from sshorch.transport import NodeOutcome, SshTarget

FIXTURES = Path(__file__).parent / "fixtures"
NODE1 = SshTarget("node1", "198.18.0.66")


def run(command: str) -> str:
    done = subprocess.run(["sh", "-c", f"( {command}\n)"], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def state(tmp_path: Path) -> tuple[str, ...]:
    (tmp_path / "state.db").write_bytes(b"x" * 100)
    (tmp_path / "exits").mkdir()
    return (str(tmp_path / "state.db"), str(tmp_path / "exits"), str(tmp_path / "absent.sql"))


def test_a_first_read_lists_and_says_the_fingerprint(state: tuple[str, ...]) -> None:
    listing = parse_listing(run(listing_command("echo listed", "", state)))
    assert listing.fingerprint.startswith("100:") and listing.body == "listed\n"


def test_the_same_state_is_answered_unchanged_without_listing(state: tuple[str, ...]) -> None:
    fingerprint = parse_listing(run(listing_command("echo listed", "", state))).fingerprint
    assert parse_listing(run(listing_command("echo listed", fingerprint, state))) == Listing(fingerprint, None)


@pytest.mark.parametrize("change", ["write", "exit"])
def test_a_state_change_or_an_exited_container_lists_again(state: tuple[str, ...], change: str) -> None:
    fingerprint = parse_listing(run(listing_command("echo listed", "", state))).fingerprint
    if change == "write":
        Path(state[0]).write_bytes(b"y" * 101)
    else:
        (Path(state[1]) / "0123abcd").write_text("137")  # conmon's exit file
    again = parse_listing(run(listing_command("echo listed", fingerprint, state)))
    assert again.body == "listed\n" and again.fingerprint != fingerprint


def test_without_state_files_nothing_is_ever_skipped(tmp_path: Path) -> None:
    listing = parse_listing(run(listing_command("echo listed", "", (str(tmp_path / "none"),))))
    assert listing == Listing("", "listed\n")
    assert resolve(listing, None, 0.0) == ("listed\n", None)


def test_a_listing_without_a_fingerprint_line_is_taken_whole() -> None:
    assert parse_listing('{"Id":"a"}\n') == Listing("", '{"Id":"a"}\n')


def test_a_kept_copy_is_offered_until_it_is_too_old() -> None:
    kept = KeptListing("fp", "body", read_at=1000.0)
    assert offered(kept, 1000.0 + MAX_AGE - 1) == "fp"
    assert offered(kept, 1000.0 + MAX_AGE) == ""
    assert offered(None, 0.0) == ""


def test_resolve_keeps_fresh_listings_and_reuses_kept_ones() -> None:
    fresh, keep = resolve(Listing("fp2", "new"), KeptListing("fp1", "old", 5.0), 9.0)
    assert (fresh, keep) == ("new", KeptListing("fp2", "new", 9.0))
    kept = KeptListing("fp2", "new", 9.0)
    assert resolve(Listing("fp2", None), kept, 50.0) == ("new", kept)  # the copy goes on ageing
    with pytest.raises(ValueError):
        resolve(Listing("fp3", None), kept, 50.0)
    assert KeptListing.from_json(kept.to_json()) == kept


CAPTURE = (FIXTURES / "gather-owned-podman.txt").read_text()
_START = CAPTURE.index("@@sshorch-fact:containers\n") + len("@@sshorch-fact:containers\n")
_END = CAPTURE.index("@@sshorch-end:containers:")
LISTED = CAPTURE[_START:_END]  # the captured listing of the containers section


def gather_text(containers_section: str) -> str:
    """The captured gather with another containers section."""
    return CAPTURE[:_START] + containers_section + CAPTURE[_END:]


def test_a_node_that_says_unchanged_is_observed_from_the_kept_copy() -> None:
    first = build_node_observation(NODE1, "podman", "obs", NodeOutcome(NODE1, value=gather_text(f"state fp1\n{LISTED}")), now=10.0)
    assert first.owned is not None and first.listing is not None
    assert (first.listing.fingerprint, first.listing.body.strip(), first.listing.read_at) == ("fp1", LISTED.strip(), 10.0)
    again = build_node_observation(
        NODE1, "podman", "obs", NodeOutcome(NODE1, value=gather_text("state fp1\nunchanged\n\n")), kept=first.listing, now=20.0
    )
    assert again.owned == first.owned and again.listing == first.listing


def test_unchanged_without_a_kept_copy_leaves_owned_unknown() -> None:
    node = build_node_observation(NODE1, "podman", "obs", NodeOutcome(NODE1, value=gather_text("state fp1\nunchanged\n\n")))
    assert node.owned is None and "no copy of them is kept" in node.error
