"""securityContext on a live sandbox: each setting is seen from inside the container (`id`,
/proc/self/status, a write to `/`), runAsNonRoot refuses an image that runs as root with the
kubelet's message, and privileged pods run only on a node whose inventory allows them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import Sandbox, built_sandbox, on_node, own_state, sshorch

NAME = "security"
IMAGE = "localhost/sshorch/busybox:latest"  # no USER: the image runs as root
# Each apply here is the module's whole state: a refused workload does not stay to fail the next.
ONE_SET = ("--applyset", "security", "--prune")

LOCKED = f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: locked-conf}}
data: {{key: value}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: locked}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: locked}}}}
  template:
    metadata: {{labels: {{app: locked}}}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {{kubernetes.io/hostname: node1}}
      securityContext:
        runAsUser: 1000
        runAsGroup: 3000
        runAsNonRoot: true
        fsGroup: 2000
        supplementalGroups: [4000]
      containers:
        - name: main
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE]}}
          volumeMounts:
            - {{name: conf, mountPath: /etc/locked}}
            - {{name: scratch, mountPath: /scratch}}
      volumes:
        - {{name: conf, configMap: {{name: locked-conf}}}}
        - {{name: scratch, emptyDir: {{}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: caps}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: caps}}}}
  template:
    metadata: {{labels: {{app: caps}}}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {{kubernetes.io/hostname: node1}}
      securityContext:
        sysctls: [{{name: net.core.somaxconn, value: "1000"}}]
      containers:
        - name: main
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
          securityContext:
            capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE]}}
            seccompProfile: {{type: Unconfined}}
"""

ROOT_IMAGE = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: rooted}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: rooted}}}}
  template:
    metadata: {{labels: {{app: rooted}}}}
    spec:
      terminationGracePeriodSeconds: 1
      securityContext: {{runAsNonRoot: true}}
      containers:
        - name: main
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
"""

PRIVILEGED = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: powerful}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: powerful}}}}
  template:
    metadata: {{labels: {{app: powerful}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
          securityContext: {{privileged: true}}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    """A 2-node sandbox of its own, and a copy of its inventory where only node2 allows privilege."""
    root = tmp_path_factory.mktemp("security")
    with own_state(root), built_sandbox(NAME, 2) as box:
        data = yaml.safe_load(Path(box.inventory).read_text())
        data["all"]["children"]["sandbox"]["hosts"]["node2"]["sshorch_allow_privileged"] = True
        allowing = root / "allowing.yml"
        allowing.write_text(yaml.safe_dump(data))
        yield box, root


def _write(root: Path, name: str, text: str) -> str:
    path = root / name
    path.write_text(text)
    return str(path)


def in_container(sandbox: Sandbox, node: str, owner: str, script: str) -> str:
    """Run `script` with sh in the main container of `owner`'s pod on `node`; its output and exit status."""
    find = f"podman ps -q --filter label=sshorch.io/owner={owner} --filter label=sshorch.io/container=main | head -1"
    return on_node(sandbox, node, f"c=$({find}); podman exec $c sh -c '{script}' 2>&1; echo \"rc=$?\"")


def status_field(text: str, field: str) -> str:
    match = re.search(rf"^{field}:\s*(\S+)", text, re.MULTILINE)
    assert match, text
    return match.group(1)


def test_each_setting_takes_effect_inside_the_container(cluster: tuple[Sandbox, Path]) -> None:
    box, root = cluster
    sshorch("apply", *ONE_SET, "-i", box.inventory, "-f", _write(root, "locked.yaml", LOCKED), "--yes")

    ids = in_container(box, "node1", "locked", "id")
    assert re.search(r"uid=1000\b.* gid=3000\b", ids), ids
    groups = re.search(r"groups=(\S+)", ids)
    assert groups and {"2000", "4000"} <= set(re.findall(r"\d+", groups.group(1))), ids

    status = in_container(box, "node1", "locked", "cat /proc/self/status")
    assert int(status_field(status, "CapBnd"), 16) == 1 << 10, status  # only CAP_NET_BIND_SERVICE is left
    assert status_field(status, "NoNewPrivs") == "1", status

    # A read-only root; the emptyDir is the fsGroup's and writable; the config file the group's.
    write = in_container(box, "node1", "locked", "touch /probe")
    assert "Read-only file system" in write and not write.endswith("rc=0\n"), write
    scratch = in_container(box, "node1", "locked", "touch /scratch/ok && stat -c %g /scratch/ok /etc/locked/key")
    assert scratch.split() == ["2000", "2000", "rc=0"], scratch

    caps = in_container(box, "node1", "caps", "cat /proc/self/status; cat /proc/sys/net/core/somaxconn")
    assert int(status_field(caps, "CapEff"), 16) == 1 << 10, caps  # root, with ALL dropped but one
    assert status_field(caps, "Seccomp") == "0", caps  # Unconfined
    assert "\n1000\n" in caps, caps


def test_run_as_non_root_refuses_an_image_that_runs_as_root(cluster: tuple[Sandbox, Path]) -> None:
    box, root = cluster
    done = sshorch("apply", *ONE_SET, "-i", box.inventory, "-f", _write(root, "rooted.yaml", ROOT_IMAGE), "--yes",
                   "--timeout", "20", check=False)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "container has runAsNonRoot and image will run as root" in done.stdout + done.stderr
    main = "podman ps -a -q --filter label=sshorch.io/owner=rooted --filter label=sshorch.io/container=main"
    assert on_node(box, "node1", main) == on_node(box, "node2", main) == ""


def test_a_privileged_pod_is_refused_without_the_inventory_variable(cluster: tuple[Sandbox, Path]) -> None:
    box, root = cluster
    manifest = _write(root, "privileged.yaml", PRIVILEGED)
    done = sshorch("apply", *ONE_SET, "-i", box.inventory, "-f", manifest, "--yes", check=False)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1 and len(errors) == 1, done.stdout + done.stderr
    assert "spec.template.spec.containers[0].securityContext.privileged: needs sshorch_allow_privileged" in errors[0]

    # Allowed on node2 only: it runs there, with every capability.
    sshorch("apply", *ONE_SET, "-i", str(root / "allowing.yml"), "-f", manifest, "--yes")
    assert on_node(box, "node1", "podman ps -q --filter label=sshorch.io/owner=powerful") == ""
    status = in_container(box, "node2", "powerful", "cat /proc/self/status")
    assert status_field(status, "CapEff") == status_field(status, "CapBnd"), status
    assert int(status_field(status, "CapEff"), 16) > 1 << 21, status  # CAP_SYS_ADMIN (21) and more


PODFIELDS = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: podinfo}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: podinfo}}}}
  template:
    metadata:
      labels: {{app: podinfo, tier: front}}
      annotations: {{note: 'say "hi"'}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {{kubernetes.io/hostname: node2}}
      containers:
        - name: main
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sleep", "3600"]
          env: [{{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}]
          resources: {{limits: {{memory: 64Mi}}}}
          securityContext: {{privileged: true}}
          volumeMounts:
            - {{name: info, mountPath: /etc/podinfo}}
            - {{name: in, mountPath: /in, mountPropagation: HostToContainer}}
            - {{name: out, mountPath: /out, mountPropagation: Bidirectional}}
      volumes:
        - name: info
          downwardAPI:
            items:
              - {{path: name, fieldRef: {{fieldPath: metadata.name}}}}
              - {{path: meta/labels, fieldRef: {{fieldPath: metadata.labels}}}}
              - {{path: meta/annotations, fieldRef: {{fieldPath: metadata.annotations}}}}
              - {{path: mem, resourceFieldRef: {{containerName: main, resource: limits.memory, divisor: 1Mi}}}}
        - {{name: in, hostPath: {{path: /run/prop/in}}}}
        - {{name: out, hostPath: {{path: /run/prop/out}}}}
"""


def test_downward_api_files_and_mount_propagation_inside_the_container(cluster: tuple[Sandbox, Path]) -> None:
    box, root = cluster
    data = yaml.safe_load(Path(box.inventory).read_text())
    data["all"]["children"]["sandbox"]["hosts"]["node2"]["sshorch_allow_privileged"] = True
    data["all"]["vars"]["sshorch_allowed_host_paths"] = ["/run/prop"]
    inventory = _write(root, "podfields.yml", yaml.safe_dump(data))
    # A sandbox node's mounts are private; a server's / is shared (systemd): share this one.
    on_node(box, "node2", "mkdir -p /run/prop/in/sub /run/prop/out && mount --bind /run/prop /run/prop && mount --make-rshared /run/prop")
    sshorch("apply", *ONE_SET, "-i", inventory, "-f", _write(root, "podfields.yaml", PODFIELDS), "--yes")

    files = in_container(box, "node2", "podinfo", "cd /etc/podinfo; for f in name meta/labels meta/annotations mem; do cat $f; echo; done")
    name, *rest = files.split("\n")
    assert name.startswith("podinfo-"), files
    assert rest == ['app="podinfo"', 'tier="front"', 'note="say \\"hi\\""', "64", "rc=0", ""], files
    assert not in_container(box, "node2", "podinfo", "touch /etc/podinfo/x").endswith("rc=0\n")  # read-only
    # status.podIP: the address the pod's network was given, read on the node
    address = in_container(box, "node2", "podinfo", 'echo "$POD_IP"; ip -4 -o addr show eth0').split()
    assert re.fullmatch(r"198\.18\.\d+\.\d+", address[0]) and f"{address[0]}/" in address[4], address

    # HostToContainer: a mount the node makes later shows inside; Bidirectional: one the container makes shows on the node.
    on_node(box, "node2", "mount -t tmpfs tmpfs /run/prop/in/sub && echo from-node > /run/prop/in/sub/f")
    assert in_container(box, "node2", "podinfo", "cat /in/sub/f") == "from-node\nrc=0\n"
    made = in_container(box, "node2", "podinfo", "mkdir -p /out/sub && mount -t tmpfs tmpfs /out/sub && echo from-pod > /out/sub/f")
    assert made == "rc=0\n", made
    assert on_node(box, "node2", "cat /run/prop/out/sub/f; umount /run/prop/out/sub /run/prop/in/sub") == "from-pod\n"
