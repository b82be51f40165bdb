"""Composition root of the router service (TaskRouter and Flex Interactions)."""

from pathlib import Path

from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    return ServiceParts()


SERVICE = ServiceDefinition(name="router", migrations=Path(__file__).parent / "migrations", build=build)
