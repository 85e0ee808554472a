"""The sandbox record (sandbox.json): what `up` built, read by every other command."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sshorch.errors import SandboxError
from sshorch.sandbox.layout import SandboxLayout, build_layout


@dataclass
class SandboxRecord:
    """What `sandbox up` built (sandbox.json): name, address block, node count, failed nodes, readiness."""

    name: str
    block: str
    nodes: int
    failed: list[str] = field(default_factory=list)
    created: float = 0.0
    ready: bool = False

    def layout(self, root: Path) -> SandboxLayout:
        return build_layout(self.name, root, ipaddress.IPv4Network(self.block), self.nodes)


def record_path(root: Path, name: str) -> Path:
    return root / name / "sandbox.json"


def load_record(root: Path, name: str) -> SandboxRecord | None:
    path = record_path(root, name)
    try:
        data = json.loads(path.read_text())
        return SandboxRecord(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise SandboxError(f"{path}: unreadable sandbox record ({error}); remove it with 'sshorch sandbox down --name {name}'") from None


def save_record(root: Path, record: SandboxRecord) -> None:
    path = record_path(root, record.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=2) + "\n")
    tmp.replace(path)


def all_records(root: Path) -> list[SandboxRecord]:
    if not root.is_dir():
        return []
    records = []
    for entry in sorted(root.iterdir()):
        record = load_record(root, entry.name) if entry.is_dir() else None
        if record is not None:
            records.append(record)
    return records
