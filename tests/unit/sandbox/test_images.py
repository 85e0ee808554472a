import hashlib
import io
import json
import tarfile

from sshorch.sandbox.demoimages import (
    DEMO_IMAGES, GRPC_IMAGE, build_image_archive, build_rootfs_layer, busybox_applets, read_scripts,
)


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_layer_has_busybox_applet_links_and_scripts() -> None:
    layer = build_rootfs_layer(b"\x7fELF-busybox", ["sh", "httpd", "busybox", "sleep"], read_scripts())
    found = members(layer)
    assert found["bin/busybox"].mode == 0o755
    assert found["bin/sh"].issym() and found["bin/sh"].linkname == "busybox"
    assert found["bin/web"].isfile() and found["bin/web"].mode == 0o755
    assert found["tmp"].mode == 0o1777
    assert "bin/never-ready" in found and "bin/crash" in found


def test_layer_is_reproducible() -> None:
    scripts = read_scripts()
    assert build_rootfs_layer(b"bb", ["sh"], scripts) == build_rootfs_layer(b"bb", ["sh"], scripts)


def test_archive_holds_every_demo_image_on_one_shared_layer() -> None:
    layer = build_rootfs_layer(b"bb", ["sh"], read_scripts())
    archive = build_image_archive(layer)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        digest = hashlib.sha256(layer).hexdigest()
        assert {tag for entry in manifest for tag in entry["RepoTags"]} == {i.name for i in DEMO_IMAGES}
        assert all(entry["Layers"] == [f"{digest}/layer.tar"] for entry in manifest)
        configs = {entry["RepoTags"][0]: json.load(tar.extractfile(entry["Config"])) for entry in manifest}  # type: ignore[arg-type]
    v2 = configs["localhost/sshorch/web:v2"]
    assert "VERSION=v2" in v2["config"]["Env"]
    assert v2["config"]["Cmd"] == ["/bin/web"]
    assert v2["rootfs"]["diff_ids"] == [f"sha256:{digest}"]


def test_an_upper_layer_goes_over_the_shared_one() -> None:
    layer, upper = build_rootfs_layer(b"bb", ["sh"], read_scripts()), b"python layer"
    archive = build_image_archive(layer, (GRPC_IMAGE,), upper)
    digests = [hashlib.sha256(data).hexdigest() for data in (layer, upper)]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        (entry,) = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(entry["Config"]))  # type: ignore[arg-type]
        assert tar.extractfile(f"{digests[1]}/layer.tar").read() == upper  # type: ignore[union-attr]
    assert entry["RepoTags"] == ["localhost/sshorch/grpc-health:v1"]
    assert entry["Layers"] == [f"{d}/layer.tar" for d in digests]
    assert config["rootfs"]["diff_ids"] == [f"sha256:{d}" for d in digests]
    assert config["config"]["Cmd"] == ["/usr/local/bin/python3", "-S", "/bin/grpc-health"]
    assert {"PYTHONHOME=/usr/local", "LD_LIBRARY_PATH=/usr/local/lib", "PORT=50051"} <= set(config["config"]["Env"])
    assert GRPC_IMAGE not in DEMO_IMAGES  # built and loaded only on request


def test_busybox_list_parsing() -> None:
    assert busybox_applets("[\n[[\nsh\n\nhttpd\n") == ["[", "[[", "sh", "httpd"]
