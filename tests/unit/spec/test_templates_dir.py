"""The example template in templates/ renders and parses for both environments."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshorch.inventory.model import FrozenMap
from sshorch.spec import load_desired
from sshorch.spec.model import ConfigMap, Deployment, EnvFrom, EnvVar, HttpGetAction, Resources, Service, ServicePort

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
TEMPLATE = TEMPLATES / "web-service.yaml.j2"


def render(environment: str, *set_values: str) -> tuple[ConfigMap, Deployment, Service]:
    desired = load_desired([TEMPLATE], values_files=[TEMPLATES / "values" / f"{environment}.yaml"], set_values=set_values)
    config, deployment, service = desired.objects
    assert isinstance(config, ConfigMap) and isinstance(deployment, Deployment) and isinstance(service, Service)
    return config, deployment, service


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_common_shape(environment: str) -> None:
    config, deployment, service = render(environment)
    assert config.meta.name == "web-config"
    assert deployment.meta.name == service.meta.name == "web"
    (container,) = deployment.template.spec.containers
    assert container.image == "localhost/sshorch/web:v1"
    assert container.env == (EnvVar("PORT", "8080"),)
    assert container.env_from == (EnvFrom("ConfigMap", "web-config"),)
    assert container.ports[0].container_port == 8080
    assert container.readiness_probe is not None and container.readiness_probe.action == HttpGetAction("http", "/healthz")
    assert deployment.meta.annotations == FrozenMap({"sshorch.io/depends-on": "configmap/web-config"})
    assert service.selector == deployment.selector.match_labels == FrozenMap({"app": "web"})


def test_staging() -> None:
    config, deployment, service = render("staging")
    assert config.data == FrozenMap({"ENVIRONMENT": "staging", "LOG_LEVEL": "debug"})
    assert deployment.replicas == 1
    assert deployment.template.spec.containers[0].resources == Resources()
    assert (service.type, service.ports) == ("NodePort", (ServicePort(80, "http", "http", "TCP", 30080),))


def test_production_with_set() -> None:
    config, deployment, service = render("production", "replicas=5")
    assert config.data == FrozenMap({"ENVIRONMENT": "production", "LOG_LEVEL": "info"})
    assert deployment.replicas == 5
    assert deployment.template.spec.containers[0].resources == Resources(250, 64 * 2**20, 250, 64 * 2**20)
    assert (service.type, service.ports) == ("ClusterIP", (ServicePort(80, "http", "http"),))
