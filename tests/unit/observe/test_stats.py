import json
from pathlib import Path

import pytest

from sshorch.observe.stats import cpu_millicores_between, parse_go_duration, parse_podman_cpu_seconds
from sshorch.runtime.registry import runtime_for

FIXTURES = Path(__file__).parent / "fixtures" / "stats"

# When the two podman captures ran (UNIX seconds, midpoints; see the README).
FIRST_AT = (1795385371.861 + 1795385371.951) / 2
LATER_AT = (1795385393.568 + 1795385393.652) / 2


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_podman_percent_is_the_average_since_start() -> None:
    # cpu_percent == avg_cpu with --no-stream: cpu_time over the time since the start.
    started = 1795385360.5735  # hpa-burn started 22:09:20.573 UTC
    seconds = parse_podman_cpu_seconds(fixture("podman-stats-later.json"))["hpa-burn"]
    assert seconds == pytest.approx(26.737469608)
    (burn,) = [e for e in json.loads(fixture("podman-stats-later.json")) if e["name"] == "hpa-burn"]
    assert burn["cpu_percent"] == "80.84%"  # what podman itself reports: not the current rate
    assert seconds / (LATER_AT - started) * 100 == pytest.approx(80.84, abs=0.2)


def test_podman_cpu_time_difference_gives_the_current_rate() -> None:
    before = parse_podman_cpu_seconds(fixture("podman-stats.json"))
    after = parse_podman_cpu_seconds(fixture("podman-stats-later.json"))
    rates = cpu_millicores_between(before, after, LATER_AT - FIRST_AT)
    assert set(rates) == {"hpa-idle", "hpa-burn"}  # hpa-burn2 was not in the first reading
    assert rates["hpa-idle"] == 0
    assert rates["hpa-burn"] == pytest.approx((26.737469608 - 10.750560697) * 1000 / 21.704, abs=0.5)  # ~737m


def test_named_containers_not_running_read_zero() -> None:
    output = fixture("podman-stats-by-name.json")
    assert parse_podman_cpu_seconds(output) == pytest.approx({"hpa-idle": 0.029080147, "hpa-created": 0, "hpa-exited": 0})


def test_no_containers() -> None:
    assert parse_podman_cpu_seconds(fixture("podman-stats-empty.json")) == {}


def test_unavailable_values_are_left_out() -> None:
    podman = '[{"id": "a", "name": "web", "cpu_time": "--", "cpu_percent": "--"}]'
    assert parse_podman_cpu_seconds(podman) == {}


@pytest.mark.parametrize(
    "output",
    [
        "Error: unable to get list of containers",
        '{"name": "web"}',
        '[{"name": "web"}]',
        '[{"name": "web", "cpu_time": "lots"}]',
        '[{"cpu_time": "1s"}]',
    ],
)
def test_podman_output_of_another_shape_is_a_value_error(output: str) -> None:
    with pytest.raises(ValueError):
        parse_podman_cpu_seconds(output)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("830ns", 830e-9), ("1.5µs", 1.5e-6), ("31.492425ms", 0.031492425), ("10.750560697s", 10.750560697),
     ("1m2.5s", 62.5), ("2h0m0s", 7200)],
)  # fmt: skip
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "10", "1.5 s", "10sx", "-1s"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


def test_restarted_container_is_left_out_of_rates() -> None:
    assert cpu_millicores_between({"a": 5.0, "b": 1.0}, {"a": 0.5, "b": 1.5}, 10) == {"b": 50.0}
    with pytest.raises(ValueError):
        cpu_millicores_between({}, {}, 0)


def test_the_cpu_fact_reads_only_this_clusters_running_containers() -> None:
    fact = runtime_for("podman").cpu_fact("it's")
    assert "--filter label=sshorch.io/cluster='it'\"'\"'s' --filter status=running" in fact.command
    assert runtime_for("docker").cpu_fact("c").parse("anything") == {}
