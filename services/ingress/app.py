"""Composition root of the ingress service."""

from pathlib import Path

from services.ingress.agent_feed import AGENT_EVENT_BINDINGS, AgentFeed
from services.ingress.api.provider_callbacks import provider_callbacks_router
from services.ingress.api.providers import providers_router
from services.ingress.api.realtime import realtime_router
from services.ingress.api.webchats import webchats_router
from services.ingress.consumers import consumers
from services.ingress.event_feed import EventFeed
from services.ingress.inbound_media import InboundMediaFetcher
from services.ingress.provider_directory import ProviderDirectory
from services.ingress.realtime import RealtimeHub, prune_log_forever
from services.ingress.sender import Sender
from services.ingress.store import SEALED_CREDENTIALS
from services.ingress.supervisor_feed import BINDINGS as SUPERVISOR_FEED_BINDINGS
from services.ingress.supervisor_feed import SupervisorFeed
from services.ingress.token_watch import TokenWatch
from services.ingress.web_apps import web_apps_router
from services.ingress.webchats import WebChatRequests
from shared.blobs import LocalDirectoryBlobStore
from shared.contracts.realtime import READ_HORIZON, REALTIME_EVENT, TYPING
from shared.contracts.webchat import WEB_CHAT_STARTED
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    # One directory for routers and sender, so a provider changed through the API is seen at once.
    directory = ProviderDirectory(context.pool, context.box, ttl_seconds=context.settings.provider_cache_seconds)
    sender = Sender(context, directory)
    # Inbound files go to the blob store the conversations service reads (one root, a shared volume when apart).
    media = InboundMediaFetcher(context.outbound, LocalDirectoryBlobStore(context.settings.media_directory),
                                max_bytes=context.settings.media_max_bytes)
    # This replica's own queue on parley.events: web-chat answers and everything its WebSockets forward.
    feed = EventFeed(context.broker, bindings=[WEB_CHAT_STARTED, REALTIME_EVENT, TYPING, READ_HORIZON,
                                               *SUPERVISOR_FEED_BINDINGS, *AGENT_EVENT_BINDINGS])
    webchat_requests = WebChatRequests(context.broker, feed)
    hub = RealtimeHub(context.pool, context.broker)
    feed.listen(hub.on_event)
    supervisors = SupervisorFeed(context.settings, hub)  # statistics for supervisors, conversation.updated for all
    feed.listen(supervisors.on_event)
    agents = AgentFeed()  # each agent's own reservation and worker events
    feed.listen(agents.on_event)
    # Sockets whose tokens were revoked since (agent deleted or changed, key deleted) are closed.
    watch = TokenWatch(context.authenticate.revocations, interval_seconds=context.settings.realtime_token_check_seconds)
    return ServiceParts(
        routers=[
            providers_router(context, directory), provider_callbacks_router(context, directory, media),
            webchats_router(context, webchat_requests), realtime_router(context, hub, watch, supervisors, agents),
            web_apps_router(context.settings),
        ],
        consumers=consumers(context.settings),
        loops=[sender.run, feed.run, watch.run, lambda: prune_log_forever(context.pool)],
        on_stop=[supervisors.close],
    )


SERVICE = ServiceDefinition(name="ingress", migrations=Path(__file__).parent / "migrations", build=build,
                            sealed=(SEALED_CREDENTIALS,))
