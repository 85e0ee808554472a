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
import threading
from collections.abc import Callable, Iterable, Mapping

from sshorch.runtime import runtime_for
from sshorch.transport import Connection

LOCAL_RUNTIMES = ("podman", "docker")


def render_image_check(runtime: str, images: Iterable[str]) -> str:
    """Prints "<image> <id>" for each image the node has (nothing for the others)."""
    quoted = " ".join(shlex.quote(i) for i in sorted(set(images)))
    return (
        f"for image in {quoted}; do "
        f'id=$({runtime} image inspect --format "{{{{.Id}}}}" "$image" 2>/dev/null) && echo "$image $id"; '
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
    """The controller's own images: IDs looked up once, archives saved once per run."""

    def __init__(self, runtime: str | None = None) -> None:
        self.runtime = runtime or next((r for r in LOCAL_RUNTIMES if shutil.which(r)), None)
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
        done = subprocess.run(
            [self.runtime, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True
        )
        if done.returncode != 0:
            return None
        return done.stdout.strip().removeprefix("sha256:") or None

    def archive(self, image: str) -> bytes:
        with self._lock:
            if image not in self._archives:
                assert self.runtime is not None
                self._archives[image] = subprocess.run(
                    [self.runtime, "save", image], capture_output=True, check=True
                ).stdout
            return self._archives[image]


def stream_missing_images(
    conn: Connection, runtime: str, needed: Iterable[str], local: LocalImages, progress: Callable[[str], None]
) -> list[str]:
    """Make sure the node has every needed image the controller has; return the ones streamed."""
    needed = sorted(set(needed))
    ours = local.ids(needed)
    if not ours:
        return []
    node_has = parse_image_check(conn.run(["sh", "-c", render_image_check(runtime, ours)]).text)
    streamed = []
    for image in images_to_stream(needed, ours, node_has):
        progress(f"{conn.target.name}: streaming image {image}")
        result = conn.run(runtime_for(runtime).load_image(), stdin=local.archive(image), timeout=1800)
        if result.ok:
            streamed.append(image)
        else:
            # The pod's create then fails naming the image; the node reports it.
            progress(f"{conn.target.name}: loading {image} failed: {result.error_line()}")
    return streamed
