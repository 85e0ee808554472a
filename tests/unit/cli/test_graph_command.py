from pathlib import Path

from click.testing import CliRunner

from sshorch.cli import cli

SHOP = Path(__file__).resolve().parents[3] / "examples" / "shop"


def test_graph_prints_the_example_in_batches() -> None:
    done = CliRunner().invoke(cli, ["graph", "-f", str(SHOP)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == "batch 1:"
    assert "  deployment/web  <- deployment/api" in done.output.splitlines()


def test_graph_dot_names_every_object() -> None:
    done = CliRunner().invoke(cli, ["graph", "-f", str(SHOP), "--format", "dot"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert done.output.startswith("digraph sshorch {")
    assert '  "deployment/api" -> "deployment/web";' in done.output.splitlines()
