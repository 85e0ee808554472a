"""Ansible-compatible inventory loading: INI or YAML files and directories, ranges, group_vars/host_vars."""

from sshorch.errors import InventoryError

from .reader import load_inventory
from .model import FrozenMap, Group, Host, Inventory
from .vaulted import Vaulted

__all__ = ["FrozenMap", "Group", "Host", "Inventory", "InventoryError", "Vaulted", "load_inventory"]
