"""The real-world manifest corpus beside the repository (../shared/realworld/k8s), and
bench/realworld.py, the report over it, loaded as a module for tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPOSITORY = Path(__file__).resolve().parents[1]
CORPUS = REPOSITORY.parent / "shared" / "realworld" / "k8s"


def realworld_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realworld_report", REPOSITORY / "bench" / "realworld.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
