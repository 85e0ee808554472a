"""bench/realworld.py over the real-world corpus (../shared/realworld/k8s, when present): what it
accepts may grow, never shrink. Raise the figures when a change accepts more."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS, realworld_report

# Reached by the compatibility work of issue 19 (the report's total line).
ACCEPTED_FILES = 52
ACCEPTED_OBJECTS = 135
FILES, OBJECTS = 73, 161


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no real-world corpus at {CORPUS}")
def test_the_corpus_is_accepted_at_least_as_far_as_before() -> None:
    report = realworld_report()
    total = report.summarise(report.judge_corpus(CORPUS)).total
    assert (total.files, total.objects) == (FILES, OBJECTS)
    assert total.accepted_files >= ACCEPTED_FILES
    assert total.accepted_objects >= ACCEPTED_OBJECTS


def test_the_report_counts_files_objects_and_blockers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixtures = Path(__file__).parent / "compat"
    repository = tmp_path / "someone__app"
    repository.mkdir()
    for name in ("service-account.yaml", "grouped.yaml", "ingress.yaml"):
        (repository / name).write_text((fixtures / name).read_text())
    (repository / "broken.yaml").write_text("a: [\n")
    report = realworld_report()
    result = report.summarise(report.judge_corpus(tmp_path))
    assert result.total == report.Tally(files=4, accepted_files=1, objects=3 + 4 + 1, accepted_objects=3)
    first = result.blockers[0]
    assert (first.path, first.message, first.objects, first.files) == (
        "spec.template.spec.containers[].notAField", "unsupported field", 3, 1)
    assert report.main([str(tmp_path), "--json"]) == 0
    assert '"accepted_objects": 3' in capsys.readouterr().out


def test_the_report_says_when_there_is_no_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert realworld_report().main([str(tmp_path / "absent")]) == 0
    assert "no corpus at" in capsys.readouterr().out
