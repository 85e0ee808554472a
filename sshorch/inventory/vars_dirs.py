"""``group_vars/`` and ``host_vars/``: which files belong to a name, and their merged variables.

The directory is read beforehand into a ``VarsTree`` snapshot, so the choice
of files (Ansible's rules, see ``find_vars_files``) and their parsing are pure.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sshorch.errors import InventoryError

from .vaulted import Decrypt, open_vault_file
from .yaml_source import load_yaml_text

__all__ = ["VarsTree", "find_vars_files", "merge_vars_files", "parse_vars_file"]

VARS_EXTENSIONS = (".yml", ".yaml", ".json")


@dataclass(frozen=True)
class VarsTree:
    """The contents of one ``group_vars`` or ``host_vars`` directory.

    ``files`` maps relative POSIX paths to raw content; ``dirs`` maps each
    directory's relative path ('' for the top) to its entry names.
    """

    root: str
    files: Mapping[str, bytes] = field(hash=False)
    dirs: Mapping[str, tuple[str, ...]] = field(hash=False)

    def display_path(self, relative: str) -> str:
        return posixpath.join(self.root, relative)


def find_vars_files(tree: VarsTree, name: str) -> tuple[str, ...]:
    """The files holding ``name``'s variables, in the order they are merged.

    As in Ansible, the first of ``NAME`` (file or directory), ``NAME.yml``,
    ``NAME.yaml``, ``NAME.json`` that exists is used and the others are ignored;
    a directory contributes its files recursively in sorted order.
    """
    for candidate in (name, *(name + ext for ext in VARS_EXTENSIONS)):
        if candidate in tree.dirs:
            return _files_below(tree, candidate)
        if candidate in tree.files:
            return (candidate,)
    return ()


def _files_below(tree: VarsTree, directory: str) -> tuple[str, ...]:
    found: list[str] = []
    for entry in sorted(tree.dirs[directory]):
        if entry.startswith(".") or entry.endswith("~"):
            continue  # hidden files and editor backups
        relative = posixpath.join(directory, entry)
        extension = posixpath.splitext(entry)[1]
        if relative in tree.dirs and not extension:
            found.extend(_files_below(tree, relative))
        elif relative in tree.files and (not extension or extension in VARS_EXTENSIONS):
            found.append(relative)
    return tuple(found)


def parse_vars_file(data: bytes, path: str, decrypt: Decrypt | None = None) -> dict[str, Any]:
    """The variables of one vars file (vault-encrypted or not); an empty file has none."""
    data = open_vault_file(data, path, decrypt)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InventoryError(f"{path}: line {line}: not valid UTF-8") from None
    loaded = load_yaml_text(text, path)
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise InventoryError(f"{path}: a vars file must be a mapping of variable names to values")
    for key in loaded:
        if not isinstance(key, str) or not key:
            raise InventoryError(f"{path}: variable name {key!r} must be a non-empty string")
    return dict(loaded)


def merge_vars_files(
    tree: VarsTree, name: str, decrypt: Decrypt | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """``name``'s variables from ``tree`` and, for each, the file it came from.

    Later files replace earlier ones key by key; dicts are replaced, not merged
    (Ansible's default ``hash_behaviour=replace``).
    """
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for relative in find_vars_files(tree, name):
        path = tree.display_path(relative)
        file_vars = parse_vars_file(tree.files[relative], path, decrypt)
        values.update(file_vars)
        origins.update(dict.fromkeys(file_vars, path))
    return values, origins
