"""Composition root of the webhooks service: delivery log and dispatcher, pre-event calls (RPC),
dead-letter log, their API."""

from pathlib import Path
from typing import Any

from services.webhooks import handlers
from services.webhooks.api.dead_letters import dead_letters_router
from services.webhooks.api.deliveries import deliveries_router
from services.webhooks.consumers import consumers
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.retention import retention_loop
from shared.broker.topology import PRE_EVENT_REQUESTS
from shared.contracts.envelope import Envelope
from shared.contracts.webhooks import PRE_EVENT_ANSWERED, PreEventReply, PreEventRequest
from shared.rpc import RpcServer
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    dispatcher = Dispatcher(context)
    settings = context.settings

    async def on_pre_event(envelope: Envelope[Any]) -> PreEventReply:
        return await handlers.answer_pre_event(context.outbound, context.authenticate.directory, envelope,
                                               default_timeout=settings.webhook_timeout_seconds)

    pre_events = RpcServer(context.broker, queue=PRE_EVENT_REQUESTS, payload=PreEventRequest,
                           reply_type=PRE_EVENT_ANSWERED, handler=on_pre_event, prefetch=settings.webhook_concurrency)
    return ServiceParts(
        routers=[deliveries_router(context), dead_letters_router(context)],
        consumers=consumers(settings),
        loops=[dispatcher.run, pre_events.run, retention_loop(context.pool, settings)],
    )


SERVICE = ServiceDefinition(name="webhooks", migrations=Path(__file__).parent / "migrations", build=build)
