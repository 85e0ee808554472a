"""Inventory variables for manifest templates, with Ansible Vault values decrypted.

A ``!vault`` value must never reach a template as its placeholder text: it is
decrypted with the vault password, and one that cannot be (no password, a
wrong one) becomes a Jinja2 undefined value whose message says why, so a
template that uses it fails on that line and one that does not still renders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sshorch.inventory import Inventory
from sshorch.inventory.vaulted import reveal_nested
from sshorch.secrets.vault import decrypt_vault


def template_variables(inventory: Inventory, vault_password: Callable[[], bytes]) -> dict[str, Any]:
    """The inventory's `all` variables as templates see them."""
    import jinja2  # only commands that render templates pay for it

    def decrypt(text: str) -> bytes:
        return decrypt_vault(text, vault_password())

    def refused(message: str) -> Any:
        return jinja2.StrictUndefined(hint=message)

    where = ", ".join(inventory.sources) or "inventory"
    return {
        key: reveal_nested(value, decrypt, f"{where}: inventory variable {key}", refused)
        for key, value in inventory.cluster_vars.items()
    }
