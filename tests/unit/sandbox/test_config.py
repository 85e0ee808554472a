import ipaddress
from pathlib import Path

import yaml

from sshorch.sandbox.config import build_inventory, render_containers_conf, render_known_hosts, render_node_setup, render_sshd_config
from sshorch.sandbox.layout import build_layout

LAYOUT = build_layout("demo", Path("/var/lib/sb"), ipaddress.IPv4Network("198.18.0.0/28"), 2)


def test_sshd_is_key_only_on_the_node_address() -> None:
    text = render_sshd_config(LAYOUT.nodes[0])
    assert "ListenAddress 198.18.0.2:22" in text
    assert "PasswordAuthentication no" in text
    assert "UsePAM no" in text
    assert f"HostKey {LAYOUT.nodes[0].host_key}" in text


def test_podman_uses_runc_cgroupfs_and_the_pod_subnet() -> None:
    text = render_containers_conf()
    assert 'runtime = "runc"' in text
    assert 'cgroup_manager = "cgroupfs"' in text
    assert "default_ulimits = []" in text
    assert '"198.18.0.128/25"' in text


def test_node_setup_mounts_its_own_run_var_storage_home_and_tmp() -> None:
    steps = [line.split(" || ")[0] for line in render_node_setup(LAYOUT.nodes[1]).splitlines()]
    assert steps[0] == "hostname node2"
    for target in ("/run", "/var", "/var/lib/containers", "/root", "/tmp", "/etc/containers"):
        assert any(step.endswith(f" {target}") for step in steps if step.startswith("mount")), target


def test_inventory_is_ansible_yaml_with_key_known_hosts_and_service_cidr() -> None:
    inventory = build_inventory(LAYOUT)
    assert yaml.safe_load(yaml.safe_dump(inventory)) == inventory
    all_vars = inventory["all"]["vars"]
    assert all_vars["sshorch_service_cidr"] == "198.19.0.0/16"
    assert all_vars["ansible_ssh_private_key_file"] == "/var/lib/sb/demo/id_ed25519"
    assert all_vars["sshorch_known_hosts"] == "/var/lib/sb/demo/known_hosts"
    assert inventory["all"]["children"]["sandbox"]["hosts"] == {
        "node1": {"ansible_host": "198.18.0.2"},
        "node2": {"ansible_host": "198.18.0.3"},
    }


def test_known_hosts_lines() -> None:
    assert render_known_hosts([("198.18.0.2", "ssh-ed25519 AAAA")]) == "198.18.0.2 ssh-ed25519 AAAA\n"


def test_node_setup_makes_each_mount_point_under_var_before_mounting_it() -> None:
    # On a machine where podman never ran, /var/lib/containers does not exist.
    lines = [line.split(" || ")[0] + " " for line in render_node_setup(LAYOUT.nodes[0]).splitlines()]
    made = next(i for i, line in enumerate(lines) if line.startswith("mkdir -p /var/lib/containers "))
    mounted = next(i for i, line in enumerate(lines) if line.startswith("mount --bind") and " /var/lib/containers " in line)
    assert made < mounted


def test_a_failed_node_setup_step_names_itself(tmp_path: Path) -> None:
    import subprocess

    script = render_node_setup(LAYOUT.nodes[0]).replace("hostname node1", "false")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == "failed: false"
