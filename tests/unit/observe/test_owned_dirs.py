"""The directories a gather reports: only exactly ours ever reach a clean-up."""

from sshorch.observe.owned import parse_dirs


def test_only_paths_of_our_layout_are_kept() -> None:
    output = "\n".join([
        "/run/sshorch/clusters/prod/configs/default/settings-0123456789",
        "/run/sshorch/secrets/default/creds-0123456789",
        "/var/lib/sshorch/clusters/prod/pods/web-0123456789-bcdfg",
        "/var/lib/sshorch/pods/web-0123456789-bcdfg",
        # A directory named with a newline and a path, `..`, and what is not ours.
        "/run/sshorch/clusters/prod/configs/default/x",
        "/etc",
        "/run/sshorch/configs/default/..",
        "/run/sshorch/clusters/prod/configs/default/a/b",
        "relative/path",
        "",
    ])
    assert parse_dirs(output) == {
        "/run/sshorch/clusters/prod/configs/default/settings-0123456789",
        "/run/sshorch/secrets/default/creds-0123456789",
        "/var/lib/sshorch/clusters/prod/pods/web-0123456789-bcdfg",
        "/var/lib/sshorch/pods/web-0123456789-bcdfg",
        "/run/sshorch/clusters/prod/configs/default/x",
    }
