"""Image archives the controller streams to nodes are bounded, and a failed save is a clear line."""

from __future__ import annotations

import pytest

from sshorch.run.images import ImageArchiveError, read_archive


def test_an_archive_within_the_limit_is_read_whole() -> None:
    assert read_archive(["sh", "-c", "head -c 3000000 /dev/zero"], "web:v1", limit=3_000_000) == b"\0" * 3_000_000


def test_an_archive_over_the_limit_is_refused_and_save_stopped() -> None:
    with pytest.raises(ImageArchiveError) as raised:
        read_archive(["sh", "-c", "cat /dev/zero"], "big:v1", limit=2 * 1024**2)
    assert str(raised.value) == "image big:v1 is more than 2 MiB as an archive; push it to a registry the nodes pull from"


def test_a_failed_save_names_the_image_and_the_error() -> None:
    with pytest.raises(ImageArchiveError) as raised:
        read_archive(["sh", "-c", "echo 'Error: web:v9: image not known' >&2; exit 125"], "web:v9")
    assert str(raised.value) == "sh save web:v9 failed: Error: web:v9: image not known"
