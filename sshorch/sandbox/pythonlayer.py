"""An image layer holding this machine's Python interpreter with just what one program needs.

The program is run once on the controller's own interpreter (the one running sshorch, which has
grpcio) to learn what it imports; the layer then holds that interpreter, those modules (each whole
package it touched, for what the package imports lazily), the shared libraries the interpreter and
the extension modules link, and the program itself. Nothing is downloaded: it is a copy of what this
machine runs, laid out under /usr/local.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sshorch.errors import SandboxError
from sshorch.sandbox import host

PREFIX = PurePosixPath("usr/local")
LIBRARIES = PREFIX / "lib"  # the interpreter's shared libraries; LD_LIBRARY_PATH names it
PYTHON = PREFIX / "bin" / "python3"
_SKIPPED = ("__pycache__", "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip")
_MODULE_SUFFIXES = (".py", ".so")


@dataclass(frozen=True)
class Imports:
    """What running a program on an interpreter loaded: its files and where they were found."""

    executable: str
    search_path: tuple[str, ...]
    files: tuple[str, ...]


def stdlib_dir(version: tuple[int, int] = (sys.version_info[0], sys.version_info[1])) -> PurePosixPath:
    return LIBRARIES / f"python{version[0]}.{version[1]}"


def environment() -> tuple[str, ...]:
    """The image environment that makes the copied interpreter find its modules and libraries."""
    return (f"PYTHONHOME=/{PREFIX}", f"LD_LIBRARY_PATH=/{LIBRARIES}")


def parse_ldd(text: str) -> tuple[list[str], str | None]:
    """`ldd` output -> (the libraries it found, the dynamic loader); a library not found is an error."""
    found: list[str] = []
    loader = None
    for line in text.splitlines():
        line = line.strip()
        if "=>" in line:
            name, _, rest = line.partition("=>")
            path = rest.strip().split(" (")[0].strip()
            if path == "not found":
                raise SandboxError(f"ldd: shared library {name.strip()} not found")
            if path.startswith("/"):
                found.append(path)
        elif line.startswith("/"):
            loader = line.split(" (")[0].strip()
    return found, loader


def module_entries(imports: Imports) -> dict[str, str]:
    """Layer paths (relative to the stdlib directory) -> host files: each file the program loaded,
    under the search-path entry it was found in; for a package, every module of the whole package."""
    roots = sorted((p for p in imports.search_path if p.startswith("/")), key=len, reverse=True)
    entries: dict[str, str] = {}
    for file in imports.files:
        root = next((r for r in roots if file.startswith(r.rstrip("/") + "/")), None)
        if root is None:
            continue
        relative = PurePosixPath(file).relative_to(root)
        if len(relative.parts) == 1:
            entries[str(relative)] = file
            continue
        package = Path(root) / relative.parts[0]
        for path in _package_files(package):
            entries[str(PurePosixPath(relative.parts[0]) / path.relative_to(package))] = str(path)
    return entries


def _package_files(package: Path) -> Iterable[Path]:
    for path in sorted(package.rglob("*")):
        parts = path.relative_to(package).parts
        if path.is_file() and path.name.endswith(_MODULE_SUFFIXES) and not set(parts) & set(_SKIPPED):
            yield path


# Loads the program as a module (its main() does not run), starts its server and calls it, so
# what it imports while answering is loaded too, then prints what the interpreter loaded.
_COLLECT = """
import json, os, runpy, sys, tempfile
program = runpy.run_path(sys.argv[1], run_name="collected")
exec(sys.argv[2], program)
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "search_path": [p for p in sys.path if p],
    "files": sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)}),
}))
"""


def collect_imports(program: Path, exercise: str) -> Imports:
    """Run `program` on this interpreter with `exercise` (Python run in its namespace) and see what loaded."""
    out = host.run([sys.executable, "-c", _COLLECT, str(program), exercise], timeout=60, what=f"running {program.name} to see what it imports")
    data = json.loads(out)
    return Imports(data["executable"], tuple(data["search_path"]), tuple(data["files"]))


def shared_libraries(binaries: Sequence[str]) -> tuple[list[str], str]:
    """The shared libraries the binaries need (in first-seen order) and the dynamic loader."""
    libraries: dict[str, None] = {}
    loader = None
    for binary in binaries:
        found, its_loader = parse_ldd(host.run(["ldd", binary], what=f"ldd {binary}"))
        libraries.update(dict.fromkeys(found))
        loader = loader or its_loader
    if loader is None:
        raise SandboxError(f"ldd names no dynamic loader for {binaries[0]}")
    return [lib for lib in libraries if Path(lib).name != Path(loader).name], loader


def _add(tar: tarfile.TarFile, name: PurePosixPath, data: bytes, mode: int, made: set[PurePosixPath]) -> None:
    for parent in reversed(name.parents[:-1]):
        if parent not in made:
            made.add(parent)
            info = tarfile.TarInfo(str(parent))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
    info = tarfile.TarInfo(str(name))
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def build_python_layer(files: dict[PurePosixPath, tuple[bytes, int]]) -> bytes:
    """A reproducible layer tar of these files (path in the image -> content, mode), with their directories."""
    buf = io.BytesIO()
    made: set[PurePosixPath] = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (data, mode) in sorted(files.items()):
            _add(tar, name, data, mode, made)
    return buf.getvalue()


def layer_files(imports: Imports, program: bytes, program_path: PurePosixPath) -> dict[PurePosixPath, tuple[bytes, int]]:
    """What the layer holds: the interpreter, its modules, the libraries, the loader and the program."""
    modules = module_entries(imports)
    extensions = [file for file in modules.values() if file.endswith(".so")]
    libraries, loader = shared_libraries([imports.executable, *extensions])
    stdlib = stdlib_dir()
    files: dict[PurePosixPath, tuple[bytes, int]] = {
        PYTHON: (Path(imports.executable).read_bytes(), 0o755),
        PurePosixPath(loader.lstrip("/")): (Path(loader).read_bytes(), 0o755),
        program_path: (program, 0o755),
        # The interpreter looks for its extension-module directory; modules found elsewhere sit above it.
        stdlib / "lib-dynload" / ".keep": (b"", 0o644),
    }
    files.update({LIBRARIES / Path(lib).name: (Path(lib).read_bytes(), 0o755) for lib in libraries})
    files.update({stdlib / name: (Path(file).read_bytes(), 0o755 if file.endswith(".so") else 0o644) for name, file in modules.items()})
    return files
