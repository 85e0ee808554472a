"""enableServiceLinks: parsed, and a part of the pod template only when it differs from Kubernetes' default."""

from __future__ import annotations

import pytest

from sshorch.plan.revision import revision_hash
from sshorch.spec.model import Deployment

from .manifests import changed, deployment, parse, problems

FIELD = "spec.template.spec.enableServiceLinks"


@pytest.mark.parametrize(("value", "expected"), [(None, True), (True, True), (False, False)])
def test_enable_service_links_parses(value: bool | None, expected: bool) -> None:
    document = deployment() if value is None else changed(deployment(), FIELD, value)
    (web,) = parse(document).objects
    assert isinstance(web, Deployment) and web.template.spec.enable_service_links is expected


def test_the_default_keeps_the_revision_and_false_makes_a_new_one() -> None:
    def revision(document: dict[str, object]) -> str:
        (web,) = parse(document).objects
        assert isinstance(web, Deployment)
        return revision_hash(web.template, {})

    plain = revision(deployment())
    assert revision(changed(deployment(), FIELD, True)) == plain
    assert revision(changed(deployment(), FIELD, False)) != plain


def test_enable_service_links_must_be_a_boolean() -> None:
    assert problems(changed(deployment(), FIELD, "no")) == [f"web.yaml: Deployment/web: {FIELD}: must be true or false, got 'no'"]
