"""Ansible-compatible inventory loading: INI or YAML files and directories, ranges, group_vars/host_vars."""

from sshorch.errors import InventoryError

from .load import load_inventory
from .model import FrozenMap, Group, Host, Inventory
from .vault import Vaulted

__all__ = ["FrozenMap", "Group", "Host", "Inventory", "InventoryError", "Vaulted", "load_inventory"]
