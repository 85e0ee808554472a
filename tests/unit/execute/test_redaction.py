"""SecretBytes and FileUpload never show a secret: not in str, repr, f-strings, or a plan's repr."""

from __future__ import annotations

from sshorch.plan.model import Action, FileUpload, Plan, Step
from sshorch.spec.model import SecretBytes

VALUE = b"hunter2"


def test_secret_bytes_hide_the_value() -> None:
    secret = SecretBytes(VALUE)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", str([secret]), str({"k": secret})):
        assert "hunter2" not in shown
        assert "redacted" in shown
    assert secret.reveal() == VALUE


def test_secret_bytes_compare_and_hash_by_value() -> None:
    assert SecretBytes(VALUE) == SecretBytes(VALUE) != SecretBytes(b"other")
    assert SecretBytes(VALUE) != VALUE  # not interchangeable with bytes
    assert len({SecretBytes(VALUE), SecretBytes(VALUE)}) == 1


def test_file_upload_with_a_secret() -> None:
    upload = FileUpload("/run/sshorch/secrets/default/c/pw", SecretBytes(VALUE), 0o400)
    assert upload.secret and upload.data() == VALUE
    for shown in (repr(upload), str(upload), f"{upload}"):
        assert "hunter2" not in shown and "/run/sshorch/secrets/default/c/pw" in shown


def test_file_upload_without_a_secret() -> None:
    upload = FileUpload("/run/sshorch/configs/default/c/LEVEL", b"info")
    assert not upload.secret and upload.data() == b"info" and upload.mode == 0o444


def test_actions_and_plans_do_not_show_their_files() -> None:
    upload = FileUpload("/run/sshorch/secrets/default/c/pw", SecretBytes(VALUE), 0o400)
    action = Action("create-pod", "n1", "web-x", "new pod", (Step(("true",)),), (upload,))
    plan = Plan(actions=(action,))
    for shown in (repr(action), str(plan), action.describe()):
        assert "hunter2" not in shown
    assert "files=" not in repr(action)
    assert action.describe() == "create-pod web-x: new pod"
