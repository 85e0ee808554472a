"""Host patterns: ports and [begin:end(:step)] ranges."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshorch.inventory.hostnames import is_valid_host_name
from sshorch.inventory.ranges import (
    MAX_HOSTS_PER_PATTERN,
    HostPatternError,
    expand_host_pattern,
    parse_host_pattern,
    split_host_port,
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web", ["web"]),
        ("web[1:3]", ["web1", "web2", "web3"]),
        ("web[01:03]", ["web01", "web02", "web03"]),
        ("web[08:11]", ["web08", "web09", "web10", "web11"]),
        ("web[1:10:4]", ["web1", "web5", "web9"]),
        ("web[01:10:3]", ["web01", "web04", "web07", "web10"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("db-[a:e:2]", ["db-a", "db-c", "db-e"]),
        ("s[y:B]", ["sy", "sz", "sA", "sB"]),
        ("host[:2]", ["host0", "host1", "host2"]),
        ("n[0:1]-[x:y]", ["n0-x", "n0-y", "n1-x", "n1-y"]),
        ("rack[1:2].dc[1:2].example", ["rack1.dc1.example", "rack1.dc2.example", "rack2.dc1.example", "rack2.dc2.example"]),
        ("[1:2]web", ["1web", "2web"]),
        ("10.0.0.[1:3]", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
        ("x[5:5]", ["x5"]),
    ],
)
def test_expand_host_pattern(pattern: str, expected: list[str]) -> None:
    assert expand_host_pattern(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("web[3:1]", "ends before it begins"),
        ("web[c:a]", "ends before it begins"),
        ("web[01:3]", "same number of digits"),
        ("web[001:10]", "same number of digits"),
        ("web[1:3:0]", "step must be a positive integer"),
        ("web[1:3:x]", "step must be a positive integer"),
        ("web[1:b]", "numbers or single letters"),
        ("web[aa:ac]", "numbers or single letters"),
        ("web[1]", "must be [begin:end]"),
        ("web[1:2:3:4]", "must be [begin:end]"),
        ("web[1:]", "has no end"),
        ("web[1:3", "without a closing"),
        ("web[1:99999999]", "more than 65536 hosts"),
        ("web[1:300]-[1:300]", "more than 65536 hosts"),
    ],
)
def test_expand_host_pattern_errors(pattern: str, problem: str) -> None:
    with pytest.raises(HostPatternError, match=problem.replace("[", r"\[")):
        expand_host_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web1", ("web1", None)),
        ("web1:2222", ("web1", 2222)),
        ("web[1:3]:2222", ("web[1:3]", 2222)),
        ("198.18.0.1:22", ("198.18.0.1", 22)),
        ("[2001:db8::1]:2222", ("2001:db8::1", 2222)),
        ("2001:db8::1", ("2001:db8::1", None)),
        ("::1", ("::1", None)),
        ("web[1:3]", ("web[1:3]", None)),
        ("we b:22", ("we b:22", None)),  # not a host before the port: left whole, as Ansible does
    ],
)
def test_split_host_port(pattern: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(pattern) == expected


def test_parse_host_pattern_validates_names() -> None:
    assert parse_host_pattern("web[1:2]:2200") == (["web1", "web2"], 2200)
    for bad in ("-oProxyCommand=x", "web;reboot", "a b", "web$(id)", "web-", "", "web[1:2]$"):
        with pytest.raises(HostPatternError, match="invalid host name"):
            parse_host_pattern(bad)
    with pytest.raises(HostPatternError, match="port must be 1-65535"):
        parse_host_pattern("web:70000")


@pytest.mark.parametrize("name", ["web1", "web-1", "web_1", "a.b.example", "198.18.0.1", "::1", "2001:db8::1", "1web"])
def test_valid_host_names(name: str) -> None:
    assert is_valid_host_name(name)


@pytest.mark.parametrize("name", ["", "-web", "web-", "a..b", "a b", "a;b", "a/b", "fe80::1%eth0", "x" * 254, "ünï"])
def test_invalid_host_names(name: str) -> None:
    assert not is_valid_host_name(name)


# -- property: the same expansion as Ansible's own function, for every valid range --

_letters = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@st.composite
def _range(draw: st.DrawFn) -> str:
    step = draw(st.one_of(st.just(""), st.integers(1, 4).map(lambda n: f":{n}")))
    if draw(st.booleans()):
        first, last = sorted((draw(_letters), draw(_letters)), key="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".index)
        return f"[{first}:{last}{step}]"
    low = draw(st.integers(0, 30))
    high = draw(st.integers(low, low + 12))
    width = draw(st.integers(len(str(high)), len(str(high)) + 2))
    padded = draw(st.booleans())
    begin = str(low).zfill(width) if padded else str(low)
    end = str(high).zfill(width) if padded else str(high)
    if padded and not begin.startswith("0"):
        end = str(high)  # no leading zero: Ansible does no padding and allows any end width
    return f"[{begin}:{end}{step}]"


_label = st.text("abcxyz019-", min_size=0, max_size=4)


@pytest.fixture(scope="module")
def ansible_expand(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[str]]:
    """Ansible's own range expansion; importing Ansible must not write into ~/.ansible."""
    home = tmp_path_factory.mktemp("ansible-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANSIBLE_HOME", str(home))
        patch.setenv("ANSIBLE_LOCAL_TEMP", str(home / "tmp"))
        patch.setenv("ANSIBLE_CONFIG", str(home / "ansible.cfg"))
        module = pytest.importorskip("ansible.plugins.inventory", reason="ansible-core is not installed")
    expand: Callable[[str], list[str]] = module.expand_hostname_range
    return expand


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(_label, _range()), min_size=1, max_size=3), tail=_label)
def test_expansion_matches_ansible(
    ansible_expand: Callable[[str], list[str]], parts: list[tuple[str, str]], tail: str
) -> None:
    pattern = "".join(text + rng for text, rng in parts) + tail
    try:
        ours = expand_host_pattern(pattern)
    except HostPatternError as error:
        # Three letter ranges can exceed our cap on hosts per pattern, which Ansible lacks.
        assert "more than" in str(error)
        assert len(ansible_expand(pattern)) > MAX_HOSTS_PER_PATTERN
        return
    assert ours == ansible_expand(pattern)
