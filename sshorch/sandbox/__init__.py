"""The local multi-node sandbox cluster (DESIGN.md section 9)."""

from sshorch.sandbox.manager import down, fail, list_sandboxes, recover, status, up

__all__ = ["down", "fail", "list_sandboxes", "recover", "status", "up"]
