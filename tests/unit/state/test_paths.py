from pathlib import Path

import pytest

from sshorch.state import StateError, default_state_location, default_state_path


def test_explicit_state_path_wins() -> None:
    env = {"SSHORCH_STATE": "/srv/state/prod.db", "XDG_STATE_HOME": "/x", "HOME": "/home/u"}
    assert default_state_path("prod", env) == Path("/srv/state/prod.db")


def test_explicit_state_path_expands_home() -> None:
    assert default_state_path("prod", {"SSHORCH_STATE": "~/s.db", "HOME": "/home/u"}) == Path.home() / "s.db"


def test_xdg_state_home() -> None:
    env = {"XDG_STATE_HOME": "/var/xdg", "HOME": "/home/u"}
    assert default_state_path("prod", env) == Path("/var/xdg/sshorch/prod.db")


def test_home_fallback() -> None:
    assert default_state_path("prod", {"HOME": "/home/u"}) == Path("/home/u/.local/state/sshorch/prod.db")


def test_empty_or_relative_xdg_is_ignored() -> None:
    assert default_state_path("c", {"XDG_STATE_HOME": "", "HOME": "/h"}) == Path("/h/.local/state/sshorch/c.db")
    assert default_state_path("c", {"XDG_STATE_HOME": "rel/dir", "HOME": "/h"}) == Path("/h/.local/state/sshorch/c.db")


def test_empty_sshorch_state_is_ignored() -> None:
    assert default_state_path("c", {"SSHORCH_STATE": "", "HOME": "/h"}) == Path("/h/.local/state/sshorch/c.db")


@pytest.mark.parametrize("name", ["", "Prod", "a_b", "../etc", "a/b", "-a", "a-", "a.b", "x" * 64])
def test_invalid_cluster_names_are_refused(name: str) -> None:
    with pytest.raises(StateError, match="cluster name"):
        default_state_path(name, {"HOME": "/h"})


@pytest.mark.parametrize("name", ["a", "prod", "web-01", "0", "x" * 63])
def test_valid_cluster_names(name: str) -> None:
    assert default_state_path(name, {"HOME": "/h"}).name == f"{name}.db"


def test_a_url_in_sshorch_state_is_kept_as_written() -> None:
    assert default_state_location("prod", {"SSHORCH_STATE": "sqlite:///srv/prod.db"}) == "sqlite:///srv/prod.db"
    assert default_state_location("prod", {"SSHORCH_STATE": "~/s.db", "HOME": "/home/u"}) == Path.home() / "s.db"
    assert default_state_location("prod", {"HOME": "/h"}) == Path("/h/.local/state/sshorch/prod.db")
    with pytest.raises(StateError, match="cluster name"):
        default_state_location("Prod", {"SSHORCH_STATE": "memory://"})
