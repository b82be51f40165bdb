"""Composition root of the ingress service."""

from pathlib import Path

from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    return ServiceParts()


SERVICE = ServiceDefinition(name="ingress", migrations=Path(__file__).parent / "migrations", build=build)
