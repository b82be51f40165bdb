"""Composition root of the conversations service."""

from pathlib import Path

from services.conversations.api.addresses import addresses_router
from services.conversations.api.conversations import conversations_router
from services.conversations.consumers import consumers
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    return ServiceParts(
        routers=[addresses_router(context), conversations_router(context)],
        consumers=consumers(context.settings),
    )


SERVICE = ServiceDefinition(name="conversations", migrations=Path(__file__).parent / "migrations", build=build)
