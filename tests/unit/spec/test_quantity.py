from __future__ import annotations

import pytest

from sshorch.spec.quantity import QuantityError, format_cpu, format_memory, parse_cpu_millis, parse_memory_bytes


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        ("500m", 500), ("0.5", 500), (0.5, 500), (1, 1000), ("2", 2000), ("1.5", 1500), ("100m", 100),
        ("0.0001", 1),  # rounded up to 1m, as Kubernetes does
        ("1e-1", 100), ("2e0", 2000), ("1e-3", 1), (".25", 250), ("0", 0), ("250000u", 250), ("1k", 1_000_000),
    ],
)  # fmt: skip
def test_cpu(value: object, millis: int) -> None:
    assert parse_cpu_millis(value) == millis


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("128Mi", 128 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("1e6", 10**6), ("1E6", 10**6), ("500k", 500_000),
        (1048576, 2**20), ("1048576", 2**20), ("0.5Gi", 2**29), ("1Ki", 1024), ("2Ti", 2 * 2**40), ("1M", 10**6),
        ("1E", 10**18), ("1.5", 2),
    ],
)  # fmt: skip
def test_memory(value: object, size: int) -> None:
    assert parse_memory_bytes(value) == size


@pytest.mark.parametrize("value", ["", "m", "5x", "1e3m", "1.2.3", "-1", "-500m", "1 Gi", "1gi", "Mi", "1e", True, None, [1], "1e999", "inf", float("nan")])
def test_bad_cpu(value: object) -> None:
    with pytest.raises(QuantityError):
        parse_cpu_millis(value)


@pytest.mark.parametrize("value", ["128m", "1u", "5n", "12MB", "1mi", "-1Gi", "", False, "1e40"])
def test_bad_memory(value: object) -> None:
    with pytest.raises(QuantityError):
        parse_memory_bytes(value)


def test_formatting() -> None:
    assert [format_cpu(m) for m in (0, 250, 1000, 1500)] == ["0", "250m", "1", "1500m"]
    assert [format_memory(b) for b in (0, 1000, 2**20, 3 * 2**30 // 2)] == ["0", "1000", "1Mi", "1536Mi"]
