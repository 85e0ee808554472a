"""The Python layer of the grpc-health demo image: ldd's output, which files go where, the layer tar."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

import pytest

from sshorch.errors import SandboxError
from sshorch.sandbox.pythonlayer import Imports, build_python_layer, module_entries, parse_ldd

# `ldd /usr/bin/python3.11` on Debian 12.
LDD_PYTHON = """\
\tlinux-vdso.so.1 (0x00007f6185445000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f6185354000)
\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f6185335000)
\tlibexpat.so.1 => /lib/x86_64-linux-gnu/libexpat.so.1 (0x00007f618530a000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6185128000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f6185447000)
"""


def test_ldd_libraries_and_loader() -> None:
    assert parse_ldd(LDD_PYTHON) == (
        ["/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libz.so.1",
         "/lib/x86_64-linux-gnu/libexpat.so.1", "/lib/x86_64-linux-gnu/libc.so.6"],
        "/lib64/ld-linux-x86-64.so.2",
    )


def test_ldd_a_missing_library_is_an_error() -> None:
    with pytest.raises(SandboxError, match="libstdc\\+\\+.so.6 not found"):
        parse_ldd("\tlibstdc++.so.6 => not found\n")


def test_modules_go_under_their_search_path_entry_and_packages_whole(tmp_path: Path) -> None:
    stdlib, dynload, site = tmp_path / "lib", tmp_path / "lib" / "lib-dynload", tmp_path / "site"
    for path in ("lib/os.py", "lib/lib-dynload/_json.so", "lib/encodings/__init__.py", "lib/encodings/utf_8.py",
                 "lib/encodings/__pycache__/utf_8.cpython-311.pyc", "site/grpc/__init__.py", "site/grpc/_cython/cygrpc.so",
                 "site/grpc/_cython/cygrpc.pyi", "site/grpc/tests/test_x.py", "elsewhere/x.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    imports = Imports("/usr/bin/python3", (str(stdlib), str(dynload), str(site)), (
        str(stdlib / "os.py"), str(dynload / "_json.so"), str(stdlib / "encodings" / "__init__.py"),
        str(site / "grpc" / "__init__.py"), str(tmp_path / "elsewhere" / "x.py"),
    ))
    assert module_entries(imports) == {
        "os.py": str(stdlib / "os.py"),
        "_json.so": str(dynload / "_json.so"),
        "encodings/__init__.py": str(stdlib / "encodings" / "__init__.py"),
        "encodings/utf_8.py": str(stdlib / "encodings" / "utf_8.py"),
        "grpc/__init__.py": str(site / "grpc" / "__init__.py"),
        "grpc/_cython/cygrpc.so": str(site / "grpc" / "_cython" / "cygrpc.so"),
    }


def test_the_layer_holds_its_files_and_their_directories_reproducibly() -> None:
    files = {PurePosixPath("usr/local/bin/python3"): (b"ELF", 0o755), PurePosixPath("lib64/ld.so"): (b"ld", 0o755)}
    layer = build_python_layer(files)
    assert layer == build_python_layer(dict(reversed(files.items())))
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == ["lib64", "lib64/ld.so", "usr", "usr/local", "usr/local/bin", "usr/local/bin/python3"]
    assert members["usr/local"].isdir() and members["usr/local/bin/python3"].mode == 0o755
