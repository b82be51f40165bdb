"""Composition root of the conversations service."""

from pathlib import Path

from services.conversations.api.addresses import addresses_router
from services.conversations.api.bindings import bindings_router
from services.conversations.api.conversation_webhooks import conversation_webhooks_router
from services.conversations.api.conversation_with_participants import conversation_with_participants_router
from services.conversations.api.conversations import conversations_router
from services.conversations.api.credentials import credentials_router
from services.conversations.api.media import media_router
from services.conversations.api.messages import messages_router
from services.conversations.api.participant_conversations import participant_conversations_router
from services.conversations.api.participants import participants_router
from services.conversations.api.roles import roles_router
from services.conversations.api.scope import both_forms
from services.conversations.api.services import services_router
from services.conversations.api.users import users_router
from services.conversations.api.webhooks_config import webhooks_config_router
from services.conversations.consumers import consumers
from services.conversations.flex_commands import flex_consumer, flex_requests_server
from services.conversations.flex_flow_addresses import flex_flow_addresses_server
from services.conversations.outbound_sends import MediaLinks, outbound_sends_consumer
from services.conversations.pre_events import PreEvents
from services.conversations.read_horizons import read_horizons_consumer
from services.conversations.references import references_server
from services.conversations.store.identity import SEALED_CREDENTIALS
from services.conversations.studio_flows import studio_flow_consumers
from services.conversations.timers import timer_sweeper
from services.conversations.webchat import consumers as webchat_consumers
from shared.blobs import LocalDirectoryBlobStore
from shared.references import ReferenceCheck
from shared.rpc import RpcClient
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    blobs = LocalDirectoryBlobStore(context.settings.media_directory)
    rpc = RpcClient(context.broker)
    references = ReferenceCheck(rpc, timeout=context.settings.reference_check_timeout_seconds)
    pre_events = PreEvents(rpc, webhook_timeout=context.settings.webhook_timeout_seconds)
    routers = [
        addresses_router(context, references),  # a studio address's flow is asked of the router
        # Each of these serves /v1/… (the default service) and /v1/Services/{ChatServiceSid}/….
        *both_forms(context, conversations_router),
        *both_forms(context, participants_router),
        # a chat user's message (access token) asks the onMessageAdd pre-event webhook first
        *both_forms(context, lambda context, root: messages_router(context, root, pre_events)),
        *both_forms(context, conversation_webhooks_router),
        *both_forms(context, conversation_with_participants_router),
        *both_forms(context, participant_conversations_router),
        webhooks_config_router(context),
        services_router(context, blobs),
        *both_forms(context, users_router),
        *both_forms(context, roles_router),
        bindings_router(context),
        credentials_router(context),
        media_router(context, blobs),
    ]
    return ServiceParts(
        routers=routers,
        consumers=[
            *consumers(context.settings, pool=context.pool, pre_events=pre_events),  # inbound messages, receipts
            outbound_sends_consumer(MediaLinks(  # agents' messages out to SMS/WhatsApp participants
                context.settings.external_base_url(), context.authenticate.directory,
                lifetime_seconds=context.settings.outbound_media_url_lifetime_seconds)),
            flex_consumer(context.settings),  # the router's commands: add/remove agents, close
            *webchat_consumers(context.settings),  # web-chat guests starting a chat
            *studio_flow_consumers(context.settings),  # studio-type addresses: flows run in the router
            read_horizons_consumer(),  # realtime clients' read horizons → last_read_message_index
        ],
        loops=[timer_sweeper(context), flex_requests_server(context).run,
               flex_flow_addresses_server(context).run,  # where the router's Flex Flows answer
               references_server(context).run],  # agents and tokens naming a Conversation Service
        on_stop=[rpc.close],
    )


SERVICE = ServiceDefinition(name="conversations", migrations=Path(__file__).parent / "migrations", build=build,
                            sealed=SEALED_CREDENTIALS)
