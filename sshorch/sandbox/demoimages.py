"""Demo images, built offline from the machine's static busybox.

One rootfs layer holds busybox and the demo scripts; each image is that layer
plus a config (command, environment). They are written as one docker-archive,
which `podman load` (and `docker load`) reads in a single call per node.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from sshorch.errors import SandboxError
from sshorch.sandbox import healthserver, host, pythonlayer

BUSYBOX = Path("/bin/busybox")
SCRIPTS = ("web", "never-ready", "crash")


@dataclass(frozen=True)
class DemoImage:
    """A demo image: the shared busybox layer plus its command, environment, exposed ports and labels."""

    name: str
    command: tuple[str, ...]
    env: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)


DEMO_IMAGES = (
    DemoImage("localhost/sshorch/busybox:latest", ("sh",), description="plain busybox, for jobs and shells"),
    DemoImage("localhost/sshorch/web:v1", ("/bin/web",), ("VERSION=v1",), (8080,), "web server answering 'web v1 on NODE'"),
    DemoImage("localhost/sshorch/web:v2", ("/bin/web",), ("VERSION=v2",), (8080,), "web server answering 'web v2 on NODE'"),
    DemoImage("localhost/sshorch/never-ready:v1", ("/bin/never-ready",), (), (8080,), "runs but never becomes ready"),
    DemoImage("localhost/sshorch/crash:v1", ("/bin/crash",), (), (), "exits with 1 after CRASH_AFTER seconds"),
)

# Built only on request (`sandbox up --grpc-image`): it holds a Python interpreter and grpcio, some
# 40-65 MB against the busybox layer's 2 MB (README, "The sandbox").
GRPC_PROGRAM = PurePosixPath("bin/grpc-health")
GRPC_IMAGE = DemoImage(
    "localhost/sshorch/grpc-health:v1",
    (f"/{pythonlayer.PYTHON}", "-S", f"/{GRPC_PROGRAM}"),
    (*pythonlayer.environment(), f"PORT={healthserver.DEFAULT_PORT}", "STATUS=SERVING", "SERVICES="),
    (healthserver.DEFAULT_PORT,),
    "grpc.health.v1 server; its status is read from /tmp/grpc-status on each call",
)
# What the image's program does once on the controller before the layer is built, so that the
# layer holds what it imports while serving: a Check of a known and of an unknown service.
_GRPC_EXERCISE = """
import grpc, tempfile
with tempfile.NamedTemporaryFile("w", suffix="-status") as status:
    status.write("SERVING"); status.flush()
    server, port = start_server("127.0.0.1:0", status.name, ["demo"])
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        assert check(b"", timeout=10) == b"\\x08\\x01"
        try:
            check(b"\\x0a\\x04nope", timeout=10)
        except grpc.RpcError:
            pass
    server.stop(0)
"""

_PATH_ENV = "PATH=/bin"


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def build_rootfs_layer(busybox: bytes, applets: list[str], scripts: dict[str, bytes]) -> bytes:
    """A reproducible layer tar: busybox, a symlink per applet, the scripts."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("bin", "etc", "tmp", "www"):
            _add_dir(tar, directory, 0o1777 if directory == "tmp" else 0o755)
        _add_file(tar, "bin/busybox", busybox, 0o755)
        for applet in sorted(set(applets) - {"busybox"} - set(scripts)):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        for name, body in sorted(scripts.items()):
            _add_file(tar, f"bin/{name}", body, 0o755)
        _add_file(tar, "etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0o644)
        _add_file(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    return buf.getvalue()


def _architecture() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def build_image_config(image: DemoImage, layer_digest: str, *upper_digests: str) -> dict[str, object]:
    return {
        "architecture": _architecture(),
        "os": "linux",
        "config": {
            "Env": [_PATH_ENV, *image.env],
            "Cmd": list(image.command),
            "ExposedPorts": {f"{p}/tcp": {} for p in image.ports},
            # No sshorch.io labels: containers inherit image labels, and
            # sshorch owns only what it labels itself.
            "Labels": {"org.opencontainers.image.title": image.name, **image.labels},
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in (layer_digest, *upper_digests)]},
        "history": [{"created_by": "sshorch sandbox demo image"}],
    }


def build_image_archive(layer: bytes, images: tuple[DemoImage, ...] = DEMO_IMAGES, upper: bytes | None = None) -> bytes:
    """A docker-archive tar holding every image, all sharing one layer (and the `upper` layer over it, if given)."""
    layers = [layer] if upper is None else [layer, upper]
    digests = [hashlib.sha256(data).hexdigest() for data in layers]
    manifest = []
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for digest, data in zip(digests, layers):
            _add_file(tar, f"{digest}/layer.tar", data, 0o644)
        for image in images:
            config = json.dumps(build_image_config(image, *digests), sort_keys=True).encode()
            config_name = f"{hashlib.sha256(config).hexdigest()}.json"
            _add_file(tar, config_name, config, 0o644)
            manifest.append({"Config": config_name, "RepoTags": [image.name], "Layers": [f"{d}/layer.tar" for d in digests]})
        _add_file(tar, "manifest.json", json.dumps(manifest).encode(), 0o644)
    return buf.getvalue()


def read_scripts() -> dict[str, bytes]:
    folder = resources.files("sshorch.sandbox") / "images"
    return {name: (folder / name).read_bytes() for name in SCRIPTS}


def busybox_applets(listing: str) -> list[str]:
    """Parse `busybox --list`."""
    return [line.strip() for line in listing.splitlines() if line.strip()]


def load_busybox() -> bytes:
    if not BUSYBOX.exists():
        raise SandboxError(f"{BUSYBOX} is missing: install the busybox-static package (apt-get install busybox-static)")
    return BUSYBOX.read_bytes()


def demo_archive() -> bytes:
    """Every demo image, built from this machine's busybox, as one docker-archive
    (`podman load` reads it; so do the sandbox nodes and any controller's podman)."""
    applets = busybox_applets(host.run([str(BUSYBOX), "--list"]))
    return build_image_archive(build_rootfs_layer(load_busybox(), applets, read_scripts()))


def grpc_archive() -> bytes:
    """The gRPC health image: the busybox layer (a shell for `exec`) under a layer holding this
    machine's Python interpreter, grpcio and the health server (healthserver.py)."""
    applets = busybox_applets(host.run([str(BUSYBOX), "--list"]))
    program = Path(healthserver.__file__)
    imports = pythonlayer.collect_imports(program, _GRPC_EXERCISE)
    upper = pythonlayer.build_python_layer(pythonlayer.layer_files(imports, program.read_bytes(), GRPC_PROGRAM))
    return build_image_archive(build_rootfs_layer(load_busybox(), applets, read_scripts()), (GRPC_IMAGE,), upper)
