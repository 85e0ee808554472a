"""Every file of the real-world corpus (../shared/realworld/k8s, when present) that sshorch
accepts plans against a 3-node sandbox without an error: images need not exist for a plan."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.corpus import CORPUS, realworld_report
from tests.e2e.conftest import Sandbox, own_state, sshorch

WORKLOADS = ("kind: Deployment", "kind: DaemonSet", "kind: Job", "kind: CronJob")


def accepted_workload_files() -> list[Path]:
    report = realworld_report()
    return [
        CORPUS / verdict.repository / verdict.file
        for verdict in report.judge_corpus(CORPUS)
        if verdict.ok and any(kind in (CORPUS / verdict.repository / verdict.file).read_text() for kind in WORKLOADS)
    ]


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no real-world corpus at {CORPUS}")
def test_every_accepted_workload_file_plans_on_a_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    files = accepted_workload_files()
    assert len(files) >= 30, files  # the corpus has that many that load
    # The log shippers mount the node's logs: an inventory allows that, as its owner would.
    inventory = yaml.safe_load(Path(sandbox.inventory).read_text())
    inventory["all"]["vars"]["sshorch_allowed_host_paths"] = ["/var/log", "/var/lib/docker/containers"]
    allowing = tmp_path / "inventory.yml"
    allowing.write_text(yaml.safe_dump(inventory))
    failed = {}
    with own_state(tmp_path):
        for path in files:
            done = sshorch("plan", "-i", str(allowing), "-f", str(path), check=False, timeout=120)
            # 2: changes pending, 0: none (a CronJob not due yet); a pending pod is an error here too.
            if done.returncode not in (0, 2) or "pending " in done.stdout:
                failed[f"{path.parent.name}/{path.name}"] = (done.stdout + done.stderr).strip().splitlines()[-3:]
    assert not failed, "\n".join(f"{name}: {' | '.join(lines)}" for name, lines in failed.items())
