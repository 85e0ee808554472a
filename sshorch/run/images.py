"""Images the nodes lack, streamed from the controller over SSH.

Before a node creates pods, one exec asks it which of the needed images it
has, by ID. An image the controller has locally (podman or docker here) whose
ID the node lacks is streamed (`save` here, `load` there, over the exec's
stdin); an image the controller does not have is left for the node to pull.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping

from sshorch.errors import SshorchError
from sshorch.runtime.base import Runtime
from sshorch.runtime.registry import RUNTIMES
from sshorch.transport import Connection

# An image archive is held in memory to stream it to nodes; a bigger image belongs in a
# registry the nodes pull from.
MAX_ARCHIVE_BYTES = 2 * 1024**3


class ImageArchiveError(SshorchError):
    """The controller's image cannot be streamed: `save` failed, or the archive is too big."""


def read_archive(argv: list[str], image: str, limit: int = MAX_ARCHIVE_BYTES) -> bytes:
    """The output of `save` (argv), at most `limit` bytes; ImageArchiveError otherwise."""
    chunks: list[bytes] = []
    size = 0
    # stderr to a file: a pipe nobody reads while stdout is read could fill and stall `save`.
    with tempfile.TemporaryFile() as errors, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors) as process:
        assert process.stdout is not None
        while chunk := process.stdout.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                process.kill()
                raise ImageArchiveError(
                    f"image {image} is more than {limit // 1024**2} MiB as an archive; "
                    "push it to a registry the nodes pull from"
                )
            chunks.append(chunk)
        process.wait()
        errors.seek(0)
        error = errors.read(4096).decode(errors="replace").strip().splitlines()
    if process.returncode != 0:
        raise ImageArchiveError(f"{argv[0]} save {image} failed: {error[-1] if error else f'exit status {process.returncode}'}")
    return b"".join(chunks)


def render_image_check(runtime: Runtime, images: Iterable[str]) -> str:
    """Prints "<image> <id>" for each image the node has (nothing for the others)."""
    quoted = " ".join(shlex.quote(i) for i in sorted(set(images)))
    return (
        f"for image in {quoted}; do "
        f'id=$({runtime.name} image inspect --format "{{{{.Id}}}}" "$image" 2>/dev/null) && echo "$image $id"; '
        "done; true"
    )


def parse_image_check(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        name, _, image_id = line.strip().rpartition(" ")
        if name and image_id:
            found[name] = image_id.removeprefix("sha256:")
    return found


def images_to_stream(needed: Iterable[str], local: Mapping[str, str], node_has: Mapping[str, str]) -> list[str]:
    """Needed images the controller has and the node lacks (by ID)."""
    return sorted(i for i in set(needed) if i in local and node_has.get(i) != local[i])


class LocalImages:
    """The controller's own images: IDs looked up once, archives saved once per run. Without
    a runtime here (none given, none installed) there are none: the nodes pull every image."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime or next((r for r in RUNTIMES.values() if shutil.which(r.name)), None)
        self._ids: dict[str, str | None] = {}
        self._archives: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def ids(self, images: Iterable[str]) -> dict[str, str]:
        result = {}
        for image in sorted(set(images)):
            with self._lock:
                if image not in self._ids:
                    self._ids[image] = self._inspect(image)
                found = self._ids[image]
            if found:
                result[image] = found
        return result

    def _inspect(self, image: str) -> str | None:
        if self.runtime is None:
            return None
        done = subprocess.run(self.runtime.image_id(image), capture_output=True, text=True)
        if done.returncode != 0:
            return None
        return done.stdout.strip().removeprefix("sha256:") or None

    def archive(self, image: str) -> bytes:
        with self._lock:
            if image not in self._archives:
                assert self.runtime is not None
                self._archives[image] = read_archive(self.runtime.save_image(image), image)
            return self._archives[image]


def stream_missing_images(
    conn: Connection, runtime: Runtime, needed: Iterable[str], local: LocalImages, progress: Callable[[str], None]
) -> list[str]:
    """Make sure the node has every needed image the controller has; return the ones streamed."""
    needed = sorted(set(needed))
    ours = local.ids(needed)
    if not ours:
        return []
    node_has = parse_image_check(conn.run(["sh", "-c", render_image_check(runtime, ours)]).text)
    streamed = []
    for image in images_to_stream(needed, ours, node_has):
        try:
            archive = local.archive(image)
        except ImageArchiveError as error:
            progress(f"{conn.target.name}: not streaming {image}: {error}")  # the node pulls it, or the create fails naming it
            continue
        progress(f"{conn.target.name}: streaming image {image}")
        result = conn.run(runtime.load_image(), stdin=archive, timeout=1800)
        if result.ok:
            streamed.append(image)
        else:
            # The pod's create then fails naming the image; the node reports it.
            progress(f"{conn.target.name}: loading {image} failed: {result.error_line()}")
    return streamed
