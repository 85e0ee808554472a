"""hostPath volumes only where the inventory allows them (`sshorch_allowed_host_paths`).

A manifest must not reach outside what the node's owner allows: without this, any
manifest could mount `/` read-write or have `FileOrCreate` make a file anywhere.
The paths are compared after normalisation, as prefixes; the node checks the same
list again after resolving symlinks, just before it mounts or creates anything.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence

from sshorch.errors import SshorchError
from sshorch.spec.workloadkinds import kind_of

from .problems import Problem, ProblemList
from .model import Desired, HostPathVolume, ManifestObject, PodTemplate
from .names import check_absolute_path

VARIABLE = "sshorch_allowed_host_paths"


def parse_allowed_host_paths(value: object, where: str) -> tuple[str, ...]:
    """The inventory's list, normalised; a bad entry is an error naming the variable."""
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise SshorchError(f"{where}: {VARIABLE} must be a list of absolute paths, e.g. [/srv/data, /var/log/app]")
    allowed = []
    for item in items:
        problem = check_absolute_path(item)
        if problem:
            raise SshorchError(f"{where}: {VARIABLE}: {item!r} {problem}")
        allowed.append(posixpath.normpath(item))
    return tuple(sorted(set(allowed)))


def is_allowed(path: str, allowed: Sequence[str]) -> bool:
    normal = posixpath.normpath(path)
    return any(root == "/" or normal == root or normal.startswith(root + "/") for root in allowed)


def _templates(obj: ManifestObject) -> Iterator[tuple[str, PodTemplate]]:
    kind = kind_of(obj)
    if kind is not None:
        yield kind.template_field, kind.template_of(obj)


def check_host_paths(desired: Desired, allowed: Sequence[str]) -> None:
    """Every hostPath of every pod template lies under an allowed path; all refusals at once."""
    problems = ProblemList()
    for obj in desired.objects:
        for prefix, template in _templates(obj):
            for i, volume in enumerate(template.spec.volumes):
                source = volume.source
                if isinstance(source, HostPathVolume) and not is_allowed(source.path, allowed):
                    where = f"allowed are {', '.join(allowed)}" if allowed else "none is allowed"
                    problems.add(obj.meta.source, Problem(
                        obj.meta.source.file, f"{obj.meta.kind}/{obj.meta.name}", f"{prefix}.volumes[{i}].hostPath.path",
                        f"{source.path} is not under {VARIABLE} of the inventory ({where}): "
                        f"add it, or a directory above it, to {VARIABLE} on `all`",
                    ))
    problems.raise_if_any()
