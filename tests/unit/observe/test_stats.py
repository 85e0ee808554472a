from pathlib import Path

import pytest

from sshorch.observe.stats import (
    cpu_millicores_between,
    parse_docker_stats,
    parse_go_duration,
    parse_percent,
    parse_podman_cpu_seconds,
    parse_podman_stats,
    parse_stats,
    stats_command,
)

FIXTURES = Path(__file__).parent / "fixtures" / "stats"

# When the two podman captures ran (UNIX seconds, midpoints; see the README).
FIRST_AT = (1795385371.861 + 1795385371.951) / 2
LATER_AT = (1795385393.568 + 1795385393.652) / 2


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_podman_percent_is_of_one_cpu_in_millicores() -> None:
    # A one-thread busy loop on a 2-CPU node: ~95% of ONE cpu, i.e. ~950m.
    assert parse_podman_stats(fixture("podman-stats.json")) == pytest.approx({"hpa-idle": 2.7, "hpa-burn": 946.2})


def test_podman_later_capture() -> None:
    assert parse_podman_stats(fixture("podman-stats-later.json")) == pytest.approx({"hpa-burn2": 544.3, "hpa-idle": 0.9, "hpa-burn": 808.4})


def test_podman_percent_is_the_average_since_start() -> None:
    # cpu_percent == avg_cpu with --no-stream: cpu_time over the time since the start.
    started = 1795385360.5735  # hpa-burn started 22:09:20.573 UTC
    seconds = parse_podman_cpu_seconds(fixture("podman-stats-later.json"))["hpa-burn"]
    assert seconds == pytest.approx(26.737469608)
    assert seconds / (LATER_AT - started) * 1000 == pytest.approx(808.4, abs=2)


def test_podman_cpu_time_difference_gives_the_current_rate() -> None:
    before = parse_podman_cpu_seconds(fixture("podman-stats.json"))
    after = parse_podman_cpu_seconds(fixture("podman-stats-later.json"))
    rates = cpu_millicores_between(before, after, LATER_AT - FIRST_AT)
    assert set(rates) == {"hpa-idle", "hpa-burn"}  # hpa-burn2 was not in the first reading
    assert rates["hpa-idle"] == 0
    assert rates["hpa-burn"] == pytest.approx((26.737469608 - 10.750560697) * 1000 / 21.704, abs=0.5)  # ~737m


def test_a_fresh_idle_container_reads_high_on_podman() -> None:
    assert parse_podman_stats(fixture("podman-stats-fresh.json")) == pytest.approx({"hpa-fresh": 405.3})


def test_named_containers_not_running_read_zero() -> None:
    output = fixture("podman-stats-by-name.json")
    assert parse_podman_stats(output) == pytest.approx({"hpa-idle": 23.4, "hpa-created": 0, "hpa-exited": 0})
    assert parse_podman_cpu_seconds(output) == pytest.approx({"hpa-idle": 0.029080147, "hpa-created": 0, "hpa-exited": 0})


def test_no_containers() -> None:
    assert parse_podman_stats(fixture("podman-stats-empty.json")) == {}
    assert parse_podman_stats("") == {}
    assert parse_docker_stats("") == {}


def test_docker_json_lines() -> None:
    assert parse_docker_stats(fixture("docker-stats.jsonl")) == pytest.approx({"hpa-idle": 2.7, "hpa-burn": 946.2})


def test_parse_stats_by_runtime() -> None:
    assert parse_stats("docker", fixture("docker-stats.jsonl")) == parse_docker_stats(fixture("docker-stats.jsonl"))
    assert parse_stats("podman", fixture("podman-stats.json")) == parse_podman_stats(fixture("podman-stats.json"))


def test_unavailable_values_are_left_out() -> None:
    docker = '{"BlockIO":"--","CPUPerc":"--","Container":"0c3763404f6b","ID":"","MemPerc":"--","MemUsage":"-- / --","Name":"--","NetIO":"--","PIDs":"--"}\n'
    assert parse_docker_stats(docker) == {}
    podman = '[{"id": "a", "name": "web", "cpu_time": "--", "cpu_percent": "--"}]'
    assert parse_podman_stats(podman) == {}
    assert parse_podman_cpu_seconds(podman) == {}


@pytest.mark.parametrize(
    "output",
    [
        "Error: unable to get list of containers",
        '{"name": "web"}',
        '[{"name": "web"}]',
        '[{"name": "web", "cpu_percent": "lots"}]',
        '[{"cpu_percent": "1%"}]',
    ],
)
def test_podman_output_of_another_shape_is_a_value_error(output: str) -> None:
    with pytest.raises(ValueError):
        parse_podman_stats(output)


def test_docker_output_of_another_shape_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_docker_stats('{"Name": "a", "CPUPerc": "1%"}\nnot json\n')
    with pytest.raises(ValueError, match="CPUPerc"):
        parse_docker_stats('{"Name": "a"}\n')


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


def test_percent() -> None:
    assert parse_percent("94.62%") == 94.62
    assert parse_percent("190.1%") == 190.1
    assert parse_percent("--") is None
    with pytest.raises(ValueError):
        parse_percent("94.62")


def test_restarted_container_is_left_out_of_rates() -> None:
    assert cpu_millicores_between({"a": 5.0, "b": 1.0}, {"a": 0.5, "b": 1.5}, 10) == {"b": 50.0}
    with pytest.raises(ValueError):
        cpu_millicores_between({}, {}, 0)


def test_commands_name_the_containers() -> None:
    assert stats_command("podman", ["web-1", "it's"]) == "podman stats --no-stream --no-reset --format json web-1 'it'\"'\"'s'"
    assert stats_command("docker", ["web-1"]) == "docker stats --no-stream --format '{{json .}}' web-1"
    with pytest.raises(ValueError):
        stats_command("podman", [])
