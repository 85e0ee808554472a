"""sshorch secret init | set | get | list | rm"""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from typing import Any

import click

from sshorch.cli.options import inventory_option, load_cli_inventory, output_option, state_option
from sshorch.cli.output import print_json, print_table
from sshorch.run.apply import open_state
from sshorch.errors import SshorchError
from sshorch.secrets.atrest import default_key_path, init_key
from sshorch.secrets.kept import ensure_key, get_secret, set_secret
from sshorch.spec.names import check_config_key, is_dns1123_subdomain

EPILOG = """\b
Values are encrypted with the controller's key (SSHORCH_SECRET_KEY_FILE,
default ~/.config/sshorch/secret.key) and kept in the cluster's state file.
A Secret manifest uses a stored secret with the annotation
  sshorch.io/stored-secret: NAME
and carries no values itself. Run `sshorch apply` to roll a change out.
"""


def _namespace_option(func: Any) -> Any:
    return click.option("-n", "--namespace", default="default", show_default=True, help="The secret's namespace.")(func)


def _state_options(func: Any) -> Any:
    return inventory_option(state_option(func))


def _check_name(name: str) -> str:
    if not is_dns1123_subdomain(name):
        raise click.BadParameter(f"{name!r}: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
    return name


def _read_value(key: str, spec: str) -> bytes:
    """VALUE, @FILE or @- (stdin)."""
    if not spec.startswith("@"):
        return spec.encode()
    source = spec[1:]
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as error:
        raise SshorchError(f"{key}: cannot read {source}: {error.strerror}") from None


def _parse_pairs(pairs: tuple[str, ...]) -> dict[str, bytes]:
    values: dict[str, bytes] = {}
    for pair in pairs:
        key, sep, spec = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE, KEY=@FILE or KEY=@-", param_hint="KEY=VALUE")
        problem = check_config_key(key)
        if problem:
            raise click.BadParameter(f"key {key!r} {problem}", param_hint="KEY=VALUE")
        if key in values:
            raise click.BadParameter(f"key {key!r} given twice", param_hint="KEY=VALUE")
        values[key] = _read_value(key, spec)
    if sum(spec.endswith("=@-") for spec in pairs) > 1:
        raise click.BadParameter("only one key can be read from stdin", param_hint="KEY=VALUE")
    return values


def _text(value: bytes) -> tuple[str, str]:
    """(value, encoding) for output: text when it is UTF-8, base64 otherwise."""
    try:
        return value.decode(), "text"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode(), "base64"


@click.group(epilog=EPILOG)
def secret() -> None:
    """Keep secret values encrypted on the controller, for Secret manifests to use."""


@secret.command()
def init() -> None:
    """Make the controller's secret key (mode 0600), unless it exists.

    Keep a copy somewhere safe: without it the recorded secrets cannot be read.
    """
    path = default_key_path()
    if init_key(path):
        click.echo(f"made secret key {path} (mode 0600)")
    else:
        click.echo(f"secret key {path} exists; kept")


@secret.command(name="set", epilog=EPILOG)
@_state_options
@_namespace_option
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE|KEY=@FILE|KEY=@-...")
def set_(name: str, pairs: tuple[str, ...], namespace: str, inventory_path: Path, vault_password_file: Path | None, state_path: str | None) -> None:
    """Store (or update) keys of secret NAME; other keys stay.

    KEY=@FILE reads the value from a file and KEY=@- from stdin: prefer them,
    since a value on the command line is seen by `ps` and kept in shell history.

    \b
    Examples:
      sshorch secret set -i inv.yml db password=@db-password.txt
      printf %s "$TOKEN" | sshorch secret set -i inv.yml -n prod api token=@-
    """
    values = _parse_pairs(pairs)
    with open_state(load_cli_inventory(inventory_path, vault_password_file), state_path) as store:
        made = ensure_key(store)
        if made is not None:
            click.echo(f"made secret key {made} (mode 0600); keep a copy", err=True)
        set_secret(store, namespace, _check_name(name), values, time.time())
    click.echo(f"secret {namespace}/{name}: set {', '.join(sorted(values))}")


@secret.command()
@_state_options
@_namespace_option
@output_option
@click.argument("name")
@click.argument("key", required=False)
def get(name: str, key: str | None, namespace: str, output: str, inventory_path: Path, vault_password_file: Path | None, state_path: str | None) -> None:
    """Show the values of secret NAME, or just KEY's value (raw, for scripts)."""
    with open_state(load_cli_inventory(inventory_path, vault_password_file), state_path) as store:
        values = get_secret(store, namespace, name)
    if key is not None:
        if key not in values:
            raise SshorchError(f"secret {namespace}/{name} has no key {key!r} (keys: {', '.join(sorted(values))})")
        if output == "json":
            value, encoding = _text(values[key])
            print_json({"key": key, "value": value, "encoding": encoding})
        else:
            sys.stdout.buffer.write(values[key])
            sys.stdout.flush()
        return
    if output == "json":
        print_json({k: dict(zip(("value", "encoding"), _text(v))) for k, v in sorted(values.items())})
    else:
        print_table(["KEY", "VALUE"], [(k, _text(v)[0]) for k, v in sorted(values.items())])


@secret.command(name="list")
@_state_options
@output_option
def list_(output: str, inventory_path: Path, vault_password_file: Path | None, state_path: str | None) -> None:
    """The stored secrets and their keys (never their values), in every namespace."""
    with open_state(load_cli_inventory(inventory_path, vault_password_file), state_path) as store:
        stored = store.stored_secrets()
    if output == "json":
        print_json([{"namespace": s.namespace, "name": s.name, "keys": list(s.keys), "updated": s.updated_at} for s in stored])
        return
    rows = [(s.namespace, s.name, ",".join(s.keys), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.updated_at)))
            for s in stored]
    print_table(["NAMESPACE", "NAME", "KEYS", "UPDATED"], rows)


@secret.command()
@_state_options
@_namespace_option
@click.argument("name")
@click.argument("keys", nargs=-1)
def rm(name: str, keys: tuple[str, ...], namespace: str, inventory_path: Path, vault_password_file: Path | None, state_path: str | None) -> None:
    """Remove secret NAME, or only the KEYS given."""
    with open_state(load_cli_inventory(inventory_path, vault_password_file), state_path) as store:
        removed = store.remove_stored_secret(namespace, name, keys)
    if not removed:
        raise SshorchError(f"no stored secret {namespace}/{name}" + (f" with keys {', '.join(keys)}" if keys else ""))
    click.echo(f"secret {namespace}/{name}: removed {removed} key{'s' if removed != 1 else ''}")
