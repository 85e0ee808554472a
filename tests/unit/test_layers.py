"""The import arrows between sshorch's packages point one way: the pure packages
(decisions, parsers, renderers) never import the effectful ones (SSH, state, the
run layer, the CLI), and nothing but the entry point imports the CLI.

Read from the source with ast, so a new import that breaks this fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sshorch"

PURE = ("spec", "plan", "proxy", "runtime", "observe", "inventory",
        # the shared vocabulary at the top level
        "errors", "labels", "nodefiles", "durations", "ipfamily", "taints")
EFFECTFUL = ("run", "transport", "state", "cli")
# Values the transport hands over (a node's address, a node's outcome): data both sides share.
SHARED_VALUES = ("sshorch.transport.model",)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every sshorch module `path` imports, at any depth of the file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def arrows() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        for target in imports(path):
            if target.startswith("sshorch.") and not any(target.startswith(v) for v in SHARED_VALUES):
                yield source, target


def test_no_pure_package_imports_an_effectful_one() -> None:
    wrong = [f"{s} -> {t}" for s, t in arrows() if package_of(s) in PURE and package_of(t) in EFFECTFUL]
    assert wrong == []


def test_nothing_imports_the_cli_but_the_entry_point() -> None:
    wrong = [f"{s} -> {t}" for s, t in arrows()
             if package_of(t) == "cli" and package_of(s) != "cli" and s != "sshorch.__main__"]
    assert wrong == []


def test_the_check_sees_real_arrows() -> None:
    # Guards the reader: a broken walk would pass the tests above with nothing to check.
    found = set(arrows())
    assert ("sshorch.cli.nodes", "sshorch.run.gather") in found
    assert any(package_of(s) == "plan" and package_of(t) == "spec" for s, t in found)
