"""Composition root of the webhooks service."""

from pathlib import Path

from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    return ServiceParts()


SERVICE = ServiceDefinition(name="webhooks", migrations=Path(__file__).parent / "migrations", build=build)
