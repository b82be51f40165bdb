"""Composition root of the webhooks service: delivery log and dispatcher, dead-letter log, their API."""

from pathlib import Path

from services.webhooks.api.dead_letters import dead_letters_router
from services.webhooks.api.deliveries import deliveries_router
from services.webhooks.consumers import consumers
from services.webhooks.dispatcher import Dispatcher
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    dispatcher = Dispatcher(context)
    return ServiceParts(
        routers=[deliveries_router(context), dead_letters_router(context)],
        consumers=consumers(context.settings),
        loops=[dispatcher.run],
    )


SERVICE = ServiceDefinition(name="webhooks", migrations=Path(__file__).parent / "migrations", build=build)
