from __future__ import annotations

from dataclasses import replace

import pytest

from sshorch.run.apply import command_line, config_changes
from sshorch.spec import parse_documents
from sshorch.spec.model import Desired, Source


def desired(password: str, setting: str) -> Desired:
    docs = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": password}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"mode": setting}},
    ]
    return replace(parse_documents([(Source("app.yaml", i), d) for i, d in enumerate(docs)]), hash_key=b"k" * 32)


def test_a_changed_secret_is_named_and_its_value_hidden() -> None:
    lines = config_changes(desired("old-pass", "a"), desired("new-pass", "a"))
    assert lines == ["secret/db changed (value hidden)"]
    assert not any("pass" in line.replace("password", "") for line in lines)


def test_changed_configmaps_and_new_objects() -> None:
    assert config_changes(desired("p", "a"), desired("p", "b")) == ["configmap/app changed"]
    assert config_changes(None, desired("p", "a")) == ["secret/db new (value hidden)", "configmap/app new"]
    assert config_changes(desired("p", "a"), desired("p", "a")) == []


@pytest.mark.parametrize(
    ("argv", "recorded"),
    [
        (["apply", "-f", "app/", "--set", "db.password=hunter2", "--set=token=abc", "--yes"],
         "sshorch apply -f app/ --set db.password=*** --set=token=*** --yes"),
        (["apply", "--set", "oops", "-f", "x"], "sshorch apply --set *** -f x"),
        (["secret", "set", "db", "password=@/home/me/pw.txt", "user=@-"], "sshorch secret set db password=@*** user=@***"),
        (["scale", "web=3"], "sshorch scale web=3"),
        (["apply", "-f", "x" * 300], "sshorch apply -f " + "x" * 183),
    ],
)  # fmt: skip
def test_the_run_lock_records_no_template_values(argv: list[str], recorded: str) -> None:
    assert command_line(argv) == recorded
