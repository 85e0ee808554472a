#!/usr/bin/env python3
"""How many real-world Kubernetes manifests sshorch accepts, and what stops the rest.

Run from the repository: `.venv/bin/python bench/realworld.py [--json] [CORPUS]`.
CORPUS defaults to ../shared/realworld/k8s (one directory per repository); without
it the script says so and exits 0. Each file is read as `sshorch plan -f FILE` reads
it, without a cluster: loaded, templated and validated by sshorch.spec. A file is
accepted when all its objects are; the blockers are the remaining problems grouped
by field path (indices dropped) and message, ranked by the objects they stop.
Not checked here, because they need an inventory or a state: Secret values kept
with `sshorch secret set`, and the hostPath allow-list (sshorch_allowed_host_paths).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sshorch.spec import ManifestError, Problem, load_documents
from sshorch.spec.load import is_manifest_name
from sshorch.spec.parse import document_problems
from sshorch.spec.problems import cause_path

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "realworld" / "k8s"


@dataclass(frozen=True)
class FileVerdict:
    """One file: its objects, which of them are accepted, and the problems of the others."""

    repository: str
    file: str
    objects: int
    accepted: int
    # (object, problem) pairs; object is None for a problem of the whole file (invalid YAML).
    problems: tuple[tuple[str | None, Problem], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Tally:
    files: int = 0
    accepted_files: int = 0
    objects: int = 0
    accepted_objects: int = 0


@dataclass(frozen=True)
class Blocker:
    path: str | None
    message: str
    objects: int
    files: int


@dataclass(frozen=True)
class Compatibility:
    repositories: dict[str, Tally] = field(default_factory=dict)
    total: Tally = Tally()
    blockers: tuple[Blocker, ...] = ()


def judge_file(repository: str, path: Path) -> FileVerdict:
    """The verdict on one file, read as `plan -f FILE` reads it."""
    try:
        documents = load_documents([path])
    except ManifestError as error:
        # The file cannot be read or parsed as a whole: none of its objects count.
        return FileVerdict(repository, path.name, 0, 0, tuple((None, p) for p in error.problems))
    per_document = document_problems(documents)
    problems = tuple((f"{i}", p) for i, found in enumerate(per_document) for p in found)
    accepted = sum(1 for found in per_document if not found)
    return FileVerdict(repository, path.name, len(documents), accepted, problems)


def judge_corpus(corpus: Path) -> list[FileVerdict]:
    verdicts = []
    for repository in sorted(p for p in corpus.iterdir() if p.is_dir()):
        for path in sorted(repository.rglob("*")):
            if path.is_file() and is_manifest_name(path.name):
                verdicts.append(judge_file(repository.name, path))
    return verdicts


def cause(problem: Problem) -> tuple[str | None, str]:
    """What a problem is, whatever object and list item it is in: the path without indices and
    the message without its list of what is supported."""
    path = cause_path(problem.path) if problem.path else None
    if path == "kind" and problem.obj:
        path = f"kind {problem.obj.split('/')[0]}"  # the message says what to do, the object which kind
    return path, problem.message.split("; supported here:")[0]


def _add(tally: Tally, verdict: FileVerdict) -> Tally:
    return Tally(tally.files + 1, tally.accepted_files + verdict.ok, tally.objects + verdict.objects,
                 tally.accepted_objects + verdict.accepted)  # fmt: skip


def summarise(verdicts: Sequence[FileVerdict]) -> Compatibility:
    repositories: dict[str, Tally] = {}
    total = Tally()
    objects: dict[tuple[str | None, str], set[tuple[str, str | None]]] = {}
    files: dict[tuple[str | None, str], set[str]] = {}
    for verdict in verdicts:
        repositories[verdict.repository] = _add(repositories.get(verdict.repository, Tally()), verdict)
        total = _add(total, verdict)
        where = f"{verdict.repository}/{verdict.file}"
        for obj, problem in verdict.problems:
            key = cause(problem)
            objects.setdefault(key, set()).add((where, obj))
            files.setdefault(key, set()).add(where)
    blockers = sorted(
        (Blocker(path, message, len(objects[(path, message)]), len(files[(path, message)])) for path, message in objects),
        key=lambda b: (-b.objects, -b.files, b.path or "", b.message),
    )
    return Compatibility(repositories, total, tuple(blockers))


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part // whole if whole else 0} %)"


def render(result: Compatibility) -> list[str]:
    width = max([len("total"), *map(len, result.repositories)])
    lines = [f"{'repository':<{width}}  {'files':>14}  {'objects':>15}"]
    rows = [*result.repositories.items(), ("total", result.total)]
    for name, tally in rows:
        lines.append(f"{name:<{width}}  {_share(tally.accepted_files, tally.files):>14}  "
                     f"{_share(tally.accepted_objects, tally.objects):>15}")  # fmt: skip
    lines.append("")
    lines.append("remaining blockers, by objects affected (objects, files: field: problem):")
    for blocker in result.blockers:
        where = f"{blocker.path}: " if blocker.path else ""
        lines.append(f"{blocker.objects:4} {blocker.files:3}  {where}{blocker.message}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON, for scripts")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}: nothing to report (it is ../shared/realworld/k8s beside the repository)")
        return 0
    result = summarise(judge_corpus(args.corpus))
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print("\n".join(render(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
