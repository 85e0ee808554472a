"""Reading inventory sources from disk: the only file I/O of the inventory package."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Union

from sshorch.errors import InventoryError

from .ini import parse_ini
from .merge import VarsRoot, merge_inventory
from .model import Inventory
from .source import ParsedSource
from .vaulted import Decrypt, open_vault_file
from .vars_dirs import VarsTree
from .yaml_source import load_yaml_text, parse_yaml_inventory

__all__ = ["load_inventory", "parse_inventory_file"]

PathLike = Union[str, "os.PathLike[str]"]

YAML_EXTENSIONS = (".yml", ".yaml", ".json")
# What Ansible skips in an inventory directory: hidden files, the vars
# directories, and its default INVENTORY_IGNORE_EXTS.
_IGNORED = re.compile(
    r"^\.|^host_vars$|^group_vars$|^vars_plugins$"
    r"|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.cfg|\.retry)$"
)


def load_inventory(path: PathLike | Sequence[PathLike], *, decrypt: Decrypt | None = None) -> Inventory:
    """Load one or more inventory files or directories, merged in the order given.

    A file is YAML if it ends in .yml/.yaml/.json (or has no extension and reads
    as a YAML mapping), INI otherwise. A directory contributes every file in it,
    recursively, in sorted order, skipping what Ansible skips. ``group_vars/``
    and ``host_vars/`` are read next to each file source and inside each
    directory source. ``decrypt`` opens files and values encrypted with
    Ansible Vault, where sshorch needs them; without it they are an error there.
    """
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise InventoryError("no inventory given")
    sources = tuple(os.fspath(item) for item in paths)
    parsed: list[ParsedSource] = []
    roots: list[VarsRoot] = []
    for source in sources:
        if os.path.isdir(source):
            files, vars_dir = _inventory_files(source), source
        elif os.path.exists(source):
            files, vars_dir = [source], os.path.dirname(source)
        else:
            raise InventoryError(f"{source}: no such file or directory")
        parsed.extend(parse_inventory_file(file, _read_source(file), decrypt) for file in files)
        roots.append(
            VarsRoot(
                group_vars=_read_tree(os.path.join(vars_dir, "group_vars")),
                host_vars=_read_tree(os.path.join(vars_dir, "host_vars")),
            )
        )
    return merge_inventory(sources, parsed, roots, decrypt)


def parse_inventory_file(path: str, data: bytes, decrypt: Decrypt | None = None) -> ParsedSource:
    """Parse one inventory file's content, choosing the format as Ansible does.

    A vault-encrypted file is recognised by its content, whatever its name, and
    parsed as what it holds."""
    data = open_vault_file(data, path, decrypt)
    extension = os.path.splitext(path)[1]
    if extension == ".toml":
        raise InventoryError(f"{path}: TOML inventories are not supported; use INI or YAML")
    if extension in YAML_EXTENSIONS:
        return parse_yaml_inventory(load_yaml_text(_decode(data, path), path), path)
    if extension:
        return parse_ini(data, path)
    # No extension: YAML if it reads as a YAML mapping, INI otherwise (Ansible tries both in that order).
    try:
        loaded = load_yaml_text(_decode(data, path), path)
    except InventoryError:
        loaded = False
    if loaded is None or isinstance(loaded, dict):
        return parse_yaml_inventory(loaded, path)
    return parse_ini(data, path)


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InventoryError(f"{path}: line {line}: not valid UTF-8") from None


def _inventory_files(directory: str, seen: frozenset[str] = frozenset()) -> list[str]:
    real = os.path.realpath(directory)
    if real in seen:
        return []  # a symlink back up the tree
    files: list[str] = []
    for name in sorted(_list(directory)):
        if _IGNORED.search(name):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            files.extend(_inventory_files(path, seen | {real}))
        else:
            files.append(path)
    return files


def _read_tree(root: str) -> VarsTree | None:
    if not os.path.isdir(root):
        return None
    files: dict[str, bytes] = {}
    dirs: dict[str, tuple[str, ...]] = {}
    pending, seen = [""], set()
    while pending:
        relative = pending.pop()
        directory = os.path.join(root, relative) if relative else root
        real = os.path.realpath(directory)
        if real in seen:
            dirs[relative] = ()
            continue
        seen.add(real)
        # Hidden files and editor backups are never vars files; don't read them.
        names = tuple(name for name in _list(directory) if not name.startswith(".") and not name.endswith("~"))
        dirs[relative] = names
        for name in names:
            child = f"{relative}/{name}" if relative else name
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                pending.append(child)
            elif os.path.isfile(path):
                files[child] = _read(path)
    return VarsTree(root=root, files=files, dirs=dirs)


def _list(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError as exc:
        raise InventoryError(f"{directory}: cannot list directory: {exc.strerror}") from None


def _read_source(path: str) -> bytes:
    data = _read(path)
    # Ansible runs an executable inventory file and reads its JSON output; sshorch
    # runs nothing, so say so instead of failing on the script's text.
    if data.startswith(b"#!") and os.access(path, os.X_OK):
        raise InventoryError(
            f"{path}: inventory scripts are not supported (the file is executable and starts with '#!');"
            f" save its output as a static inventory: ansible-inventory -i {path} --list --yaml > inventory.yml"
        )
    return data


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read: {exc.strerror}") from None
