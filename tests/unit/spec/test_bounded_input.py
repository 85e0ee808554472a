"""Manifest input that would take the controller minutes or all its memory is refused at load,
quickly, with one line naming the file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sshorch.spec import ManifestError, load_documents
from sshorch.spec.documents import parse_json_text, parse_yaml_text
from sshorch.spec.limits import MAX_MANIFEST_BYTES


def billion_laughs(levels: int = 10, fanout: int = 10) -> str:
    """A ConfigMap whose data holds `levels` levels of `fanout`-fold aliases: fanout**levels strings."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "data:",
             "  l0: &l0 [" + ", ".join(['"lol"'] * fanout) + "]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fanout) + "]")
    lines.append("  all: [" + ", ".join([f"*l{levels - 1}"] * fanout) + "]")
    return "\n".join(lines) + "\n"


def problem_lines(text: str, file: str = "m.yaml") -> list[str]:
    documents, problems = parse_yaml_text(text, file)
    return [str(p) for p in problems.sorted()]


def test_an_alias_bomb_is_refused_in_well_under_a_second(tmp_path: Path) -> None:
    """10 levels of 10-fold aliases: 10**10 strings once expanded. The secret resolver's walk
    of the documents took about 100 minutes of CPU on it before anything was validated."""
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())
    started = time.monotonic()
    with pytest.raises(ManifestError) as raised:
        load_documents([path])
    assert time.monotonic() - started < 1.0
    assert str(raised.value) == (
        f"{path}: line 1: invalid YAML: the document expands to more than 200000 values (aliases counted as copies); refused"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &a [*a]\n", "line 1: invalid YAML: an alias refers to a value that holds it (a recursive alias); refused"),
        ("a: &a {b: *a}\n", "line 1: invalid YAML: an alias refers to a value that holds it (a recursive alias); refused"),
        ("a: " + "[" * 101 + "]" * 101 + "\n", "line 1: invalid YAML: the document is nested more than 100 levels deep; refused"),
        ("a: " + "1" * 5000 + "\n", "line 1: invalid YAML: an integer of 5000 characters is too long"),
        ("ok: 1\n---\na: " + "9" * 101 + "\n", "line 3: invalid YAML: an integer of 101 characters is too long"),
    ],
)  # fmt: skip
def test_documents_too_big_deep_or_circular_are_one_line_each(text: str, expected: str) -> None:
    assert problem_lines(text) == [f"m.yaml: {expected}"]


def test_aliases_that_stay_small_and_deep_enough_documents_still_load() -> None:
    documents, problems = parse_yaml_text(billion_laughs(levels=3) + "---\nx: " + "[" * 99 + "]" * 99 + "\n", "m.yaml")
    assert not len(problems) and len(documents) == 2
    merged, problems = parse_yaml_text("base: &base {a: 1}\nchild: {<<: *base, b: 2}\n", "m.yaml")
    assert merged[0][1]["child"] == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": ' + "1" * 5000 + "}", "invalid JSON: an integer of 5000 characters is too long"),
        ('{"a": ' + "[" * 2000 + "]" * 2000 + "}", "invalid JSON: nested more than 100 levels deep; refused"),
        ('{"a": ' + "[" * 150 + "]" * 150 + "}", "invalid JSON: nested more than 100 levels deep; refused"),
    ],
)  # fmt: skip
def test_json_numbers_and_nesting_are_bounded(text: str, expected: str) -> None:
    documents, problems = parse_json_text(text, "m.json")
    assert [str(p) for p in problems.sorted()] == [f"m.json: {expected}"]


def test_manifest_files_have_a_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * (MAX_MANIFEST_BYTES // 10 + 1))
    fits = tmp_path / "fits.yaml"
    fits.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n" + "#" * (MAX_MANIFEST_BYTES - 100))
    with pytest.raises(ManifestError) as raised:
        load_documents([tmp_path])
    assert str(raised.value) == f"{big}: is larger than 4 MiB; a manifest or values file may be at most 4 MiB"
    assert len(load_documents([fits])) == 1


def test_values_files_have_the_same_limit(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml.j2").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ name }}'}\n")
    values = tmp_path.parent / f"{tmp_path.name}-values.yaml"
    values.write_text("name: x\n" + "#" * MAX_MANIFEST_BYTES)
    with pytest.raises(ManifestError, match="values.yaml: is larger than 4 MiB"):
        load_documents([tmp_path], values_files=[values])
