"""build_upload: the tar that carries config and secret files on the exec's stdin."""

from __future__ import annotations

import io
import tarfile

from sshorch.plan.nodescript import build_upload
from sshorch.plan.model import FileUpload
from sshorch.spec.model import SecretBytes

CONFIG = "/run/sshorch/configs/default/settings-0123456789"
SECRET = "/run/sshorch/secrets/default/creds-0123456789"
FILES = [
    FileUpload(f"{SECRET}/pw", SecretBytes(b"hunter2"), 0o400),
    FileUpload(f"{CONFIG}/conf/app.conf", b"a=1\n", 0o644),
    FileUpload(f"{CONFIG}/LEVEL", b"info", 0o444),
]


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def contents(data: bytes) -> dict[str, bytes]:
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            stream = tar.extractfile(member) if member.isfile() else None
            if stream is not None:
                found[member.name] = stream.read()
    return found


def test_paths_are_relative_with_their_parent_dirs_first() -> None:
    data = build_upload(FILES)
    assert list(members(data)) == [
        "run/sshorch",
        "run/sshorch/configs",
        "run/sshorch/configs/default",
        "run/sshorch/configs/default/settings-0123456789",
        "run/sshorch/configs/default/settings-0123456789/LEVEL",
        "run/sshorch/configs/default/settings-0123456789/conf",
        "run/sshorch/configs/default/settings-0123456789/conf/app.conf",
        "run/sshorch/secrets",
        "run/sshorch/secrets/default",
        "run/sshorch/secrets/default/creds-0123456789",
        "run/sshorch/secrets/default/creds-0123456789/pw",
    ]


def test_modes_types_and_owner() -> None:
    found = members(build_upload(FILES))
    modes = {name: (m.type, m.mode) for name, m in found.items()}
    assert modes == {
        "run/sshorch": (tarfile.DIRTYPE, 0o755),
        "run/sshorch/configs": (tarfile.DIRTYPE, 0o755),
        "run/sshorch/configs/default": (tarfile.DIRTYPE, 0o755),
        "run/sshorch/configs/default/settings-0123456789": (tarfile.DIRTYPE, 0o755),
        "run/sshorch/configs/default/settings-0123456789/LEVEL": (tarfile.REGTYPE, 0o444),
        "run/sshorch/configs/default/settings-0123456789/conf": (tarfile.DIRTYPE, 0o755),
        "run/sshorch/configs/default/settings-0123456789/conf/app.conf": (tarfile.REGTYPE, 0o644),
        "run/sshorch/secrets": (tarfile.DIRTYPE, 0o700),
        "run/sshorch/secrets/default": (tarfile.DIRTYPE, 0o700),
        # Its own directory open, so that a container user who is not root reaches what the
        # file modes allow; the two above keep everyone but root on the node out.
        "run/sshorch/secrets/default/creds-0123456789": (tarfile.DIRTYPE, 0o755),
        "run/sshorch/secrets/default/creds-0123456789/pw": (tarfile.REGTYPE, 0o400),
    }
    assert {(m.uid, m.gid) for m in found.values()} == {(0, 0)}
    assert all(not name.startswith("/") and ".." not in name.split("/") for name in found)


def test_file_contents_and_the_secret_only_inside_the_tar() -> None:
    data = build_upload(FILES)
    assert contents(data) == {
        "run/sshorch/configs/default/settings-0123456789/LEVEL": b"info",
        "run/sshorch/configs/default/settings-0123456789/conf/app.conf": b"a=1\n",
        "run/sshorch/secrets/default/creds-0123456789/pw": b"hunter2",
    }
    assert b"hunter2" in data  # it travels on stdin ...
    assert "hunter2" not in repr(FILES) and "hunter2" not in str(FILES[0])  # ... and nowhere else


def test_same_files_same_bytes() -> None:
    assert build_upload(FILES) == build_upload(list(reversed(FILES)))


def test_nothing_to_send_is_an_empty_archive() -> None:
    assert members(build_upload([])) == {}
