"""The command line: parsing, output and exit codes. No logic lives here."""

from __future__ import annotations

import gc
import importlib
import sys
import traceback

import click

from sshorch import __version__
from sshorch.errors import SshorchError

EXIT_FAILED = 1

# Commands load their module only when used, so `sshorch nodes` does not pay
# for the manifest, graph and state code.
COMMANDS = {
    "apply": "sshorch.cli.deploy:apply",
    "plan": "sshorch.cli.deploy:plan",
    "status": "sshorch.cli.status:status",
    "jobs": "sshorch.cli.status:jobs",
    "nodes": "sshorch.cli.nodes:nodes",
    "logs": "sshorch.cli.pods:logs",
    "exec": "sshorch.cli.pods:exec_",
    "events": "sshorch.cli.pods:events",
    "graph": "sshorch.cli.pods:graph",
    "sandbox": "sshorch.cli.sandbox:sandbox",
    "scale": "sshorch.cli.rollout:scale",
    "rollout": "sshorch.cli.rollout:rollout",
    "converge": "sshorch.cli.rollout:converge",
    "cron": "sshorch.cli.cron:cron",
    "secret": "sshorch.cli.secret:secret",
    "cordon": "sshorch.cli.cordon:cordon",
    "uncordon": "sshorch.cli.cordon:uncordon",
    "drain": "sshorch.cli.cordon:drain",
    "taint": "sshorch.cli.taint:taint",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[name].partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        _modules_loaded()
        return command


def _modules_loaded() -> None:
    """Modules live as long as the process, so the cyclic collector has nothing to
    find among them: it only walks them, 10 ms while they import and 20 ms at exit
    for a short command. main() holds it off; from here it runs again (for the
    long commands, --watch), over what the command makes."""
    gc.freeze()
    gc.enable()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sshorch")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
def cli(verbose: bool) -> None:
    """sshorch: Kubernetes-style orchestration of containers over plain SSH.

    Nodes need only sshd, podman (or docker) and iptables; the inventory is an
    Ansible inventory. Start with a local sandbox cluster:

    \b
      sshorch sandbox up --nodes 3
      sshorch nodes -i /var/lib/sshorch-sandboxes/default/inventory.yml
      sshorch apply -i /var/lib/sshorch-sandboxes/default/inventory.yml -f examples/shop --yes
      sshorch status -i /var/lib/sshorch-sandboxes/default/inventory.yml
    """


def main() -> None:
    gc.disable()  # until the command's modules are in: see _modules_loaded
    verbose = "-v" in sys.argv[1:] or "--verbose" in sys.argv[1:]
    try:
        cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        from sshorch.cli.output import print_error

        print_error("interrupted")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except SshorchError as error:
        from sshorch.cli.output import print_error

        if verbose:
            traceback.print_exc()
        print_error(str(error))
        sys.exit(getattr(error, "exit_code", EXIT_FAILED))
