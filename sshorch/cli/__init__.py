"""The command line: parsing, output and exit codes. No logic lives here."""

from __future__ import annotations

import sys
import traceback

import click

from sshorch import __version__
from sshorch.cli.deploy import apply, plan
from sshorch.cli.nodes import nodes
from sshorch.cli.pods import events, exec_, graph, logs
from sshorch.cli.output import print_error
from sshorch.cli.sandbox import sandbox
from sshorch.cli.status import status
from sshorch.errors import SshorchError

EXIT_FAILED = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sshorch")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """sshorch: Kubernetes-style orchestration of containers over plain SSH.

    Nodes need only sshd, podman (or docker) and iptables; the inventory is an
    Ansible inventory. Start with a local sandbox cluster:

    \b
      sshorch sandbox up --nodes 3
      sshorch nodes -i /var/lib/sshorch-sandboxes/default/inventory.yml
    """
    ctx.obj = {"verbose": verbose}


for command in (apply, plan, status, nodes, logs, exec_, events, graph, sandbox):
    cli.add_command(command)


def main() -> None:
    verbose = "-v" in sys.argv[1:] or "--verbose" in sys.argv[1:]
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        print_error("interrupted")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except SshorchError as error:
        if verbose:
            traceback.print_exc()
        print_error(str(error))
        sys.exit(getattr(error, "exit_code", EXIT_FAILED))
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
