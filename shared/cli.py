"""The `parley` command: run Parley, apply migrations, manage the secret key, publish test traffic, export message
contracts."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shared.broker.connection import Broker
from shared.broker.topology import INBOUND
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.ingress import INBOUND_MESSAGE, InboundMessage
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.runtime import ServiceDefinition


async def publish_inbound_message(
    broker: Broker, *, account_sid: str, from_address: str, to_address: str, body: str,
    provider_sid: str = "PV" + "0" * 32, channel_message_sid: str | None = None,
) -> Envelope[InboundMessage]:
    """Publish one customer message straight to the broker, as ingress would after a provider's webhook."""
    envelope = inbound_message(account_sid=account_sid, from_address=from_address, to_address=to_address, body=body,
                               provider_sid=provider_sid, channel_message_sid=channel_message_sid)
    await broker.publish(INBOUND, INBOUND_MESSAGE, envelope.to_bytes(), message_id=str(envelope.message_id))
    return envelope


def inbound_message(
    *, account_sid: str, from_address: str, to_address: str, body: str, provider_sid: str = "PV" + "0" * 32,
    channel_message_sid: str | None = None,
) -> Envelope[InboundMessage]:
    """One customer message as ingress publishes it after a provider's webhook."""
    inbound = InboundMessage(
        provider_sid=provider_sid,
        channel="whatsapp" if from_address.startswith("whatsapp:") else "sms",
        channel_message_sid=channel_message_sid or "SM" + uuid.uuid4().hex,
        from_address=from_address,
        to_address=to_address,
        body=body,
        received_at=datetime.now(UTC),
    )
    return make_envelope(INBOUND_MESSAGE, inbound, account_sid=account_sid)


def export_contracts(directory: Path) -> list[Path]:
    """Write the JSON Schema of every broker message, from the same models the code uses."""
    from shared.contracts import (
        channels,
        conversations,
        fabric,
        flex,
        flows,
        ingress,
        realtime,
        references,
        router,
        webchat,
        webhooks,
    )

    messages = {
        ingress.INBOUND_MESSAGE: ingress.InboundMessage,
        "conversation-events": conversations.ResourceEvent,
        "taskrouter-events": router.TaskRouterEvent,
        webhooks.DELIVER_WEBHOOK: webhooks.WebhookDelivery,
        webhooks.ASK_PRE_EVENT: webhooks.PreEventRequest,
        webhooks.PRE_EVENT_ANSWERED: webhooks.PreEventReply,
        channels.SEND_MESSAGE: channels.OutboundMessage,
        channels.DELIVERY_RECEIPT: channels.DeliveryReceiptReport,
        channels.PROVIDER_STATUS: channels.ProviderStatusReport,
        flex.PREPARE_CONVERSATION: flex.PrepareConversation,
        flex.CONVERSATION_PREPARED: flex.ConversationPrepared,
        flex.ADD_AGENT: flex.AgentParticipant,
        flex.REMOVE_AGENT: flex.AgentParticipant,
        flex.CLOSE_CONVERSATION: flex.CloseConversation,
        flex.FLEX_FLOW_ADDRESSES: flex.FlexFlowAddresses,
        flex.FLEX_FLOW_ADDRESSES_STORED: flex.FlexFlowAddressesStored,
        flows.FLOW_MESSAGE: flows.FlowMessage,
        flows.FLOW_SEND_MESSAGE: flows.FlowSendMessage,
        webchat.START_WEB_CHAT: webchat.StartWebChat,
        webchat.WEB_CHAT_STARTED: webchat.WebChatStarted,
        realtime.REALTIME_EVENT: realtime.RealtimeEvent,
        realtime.TYPING: realtime.TypingIndicator,
        realtime.READ_HORIZON: realtime.ReadHorizonUpdate,
        fabric.CONSUMER_FAILED: fabric.ConsumerFailed,
        references.CHECK_ROUTER_REFERENCES: references.CheckReferences,
        references.CHECK_CONVERSATIONS_REFERENCES: references.CheckReferences,
        references.REFERENCES_CHECKED: references.ReferencesChecked,
    }
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in messages.items():
        schema = Envelope[model].model_json_schema()  # type: ignore[valid-type]
        schema["title"] = f"Parley message: {name}"
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


async def _publish(args: argparse.Namespace) -> None:
    settings = Settings()
    broker = Broker(settings)
    await broker.connect()
    try:
        envelope = await publish_inbound_message(
            broker, account_sid=args.account, from_address=args.from_address, to_address=args.to_address,
            body=args.body, **({"provider_sid": args.provider} if args.provider else {}),
        )
    finally:
        await broker.close()
    print(envelope.model_dump_json(indent=2))


async def _migrate() -> None:
    from services.catalog import ALL_SERVICES
    from shared.runtime import prepare_database

    await prepare_database(Settings(), ALL_SERVICES)
    print("migrations applied")


async def rotate_secret_key(settings: Settings, services: Sequence[ServiceDefinition]) -> dict[str, int]:
    """Seal every stored secret under the first key of PARLEY_SECRET_KEY (the others only open); rows already
    under it are left alone, so it can be run again, and beside running services that hold both keys.
    Returns the rows changed per schema and table."""
    from shared.crypto import box_of, reseal_column
    from shared.db import create_pool
    from shared.runtime import ACCOUNTS_SEALED, prepare_database

    box = box_of(settings.secret_key)
    await prepare_database(settings, services)
    changed: dict[str, int] = {}
    for schema, columns in [("accounts", ACCOUNTS_SEALED), *((service.name, service.sealed) for service in services)]:
        pool = await create_pool(settings.database_url, schema=settings.schema_name(schema), max_size=2)
        try:
            for column in columns:
                name = f"{schema}.{column.table}.{column.column}"
                changed[name] = await reseal_column(pool, column, box, rotate=True)
        finally:
            await pool.close()
    return changed


def _rotate(args: argparse.Namespace) -> None:
    from services.catalog import ALL_SERVICES
    from shared.crypto import parse_keys

    settings = Settings()
    keys = [*([args.new_key] if args.new_key else []), *parse_keys(settings.secret_key), *args.old_key]
    settings = settings.model_copy(update={"secret_key": ",".join(dict.fromkeys(keys))})
    for name, count in asyncio.run(rotate_secret_key(settings, ALL_SERVICES)).items():
        print(f"{name}: {count} re-sealed")


def _run() -> None:
    from services.catalog import ALL_SERVICES
    from shared.crypto import local_secret_key
    from shared.logs import configure_logging
    from shared.runtime import run_services

    settings = Settings()
    if not settings.secret_key and settings.media_directory == Settings.model_fields["media_directory"].default:
        # One process, media on this machine: nothing else needs the key, so Parley keeps its own.
        settings = settings.model_copy(update={"secret_key": local_secret_key()})
    configure_logging(settings.log_level, json_lines=settings.log_json)
    asyncio.run(run_services(settings, ALL_SERVICES, one_process=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run all four services in one process on $PORT")
    commands.add_parser("migrate", help="create the database if missing and apply every migration")
    commands.add_parser("generate-secret-key", help="print a new key for PARLEY_SECRET_KEY")
    rotate = commands.add_parser(
        "rotate-secret-key", help="re-seal every stored secret under the new key",
        description="Keys: --new-key, then those of PARLEY_SECRET_KEY, then each --old-key. The first seals, all "
                    "open. Afterwards, PARLEY_SECRET_KEY may hold the new key alone.")
    rotate.add_argument("--new-key", help="the key to seal with (default: the first of PARLEY_SECRET_KEY)")
    rotate.add_argument("--old-key", action="append", default=[], help="a key secrets may still be sealed with")
    publish = commands.add_parser("publish-inbound", help="publish an inbound message straight to the broker")
    publish.add_argument("--account", required=True, help="the account SID (AC…) the message belongs to")
    publish.add_argument("--from", dest="from_address", required=True, help="the customer's address")
    publish.add_argument("--to", dest="to_address", required=True, help="Parley's address (an address configuration)")
    publish.add_argument("--body", default="", help="the message text")
    publish.add_argument("--provider", help="the provider SID (PV…) that received it")
    export = commands.add_parser("export-contracts", help="write the message contracts as JSON Schema")
    export.add_argument("--out", default="docs/contracts", type=Path)
    demo = commands.add_parser("demo-web-chat", help="set up a running Parley so the web-chat demo reaches agents")
    demo.add_argument("--base-url", default="http://127.0.0.1:8080", help="where Parley answers")
    demo.add_argument("--account", required=True, help="the account SID (AC…)")
    demo.add_argument("--token", required=True, help="the account's auth token")
    args = parser.parse_args(argv)
    if args.command == "run":
        _run()
    elif args.command == "migrate":
        asyncio.run(_migrate())
    elif args.command == "generate-secret-key":
        from shared.crypto import generate_key

        print(generate_key())
    elif args.command == "rotate-secret-key":
        _rotate(args)
    elif args.command == "publish-inbound":
        asyncio.run(_publish(args))
    elif args.command == "export-contracts":
        for path in export_contracts(args.out):
            print(path)
    elif args.command == "demo-web-chat":
        from shared.demo_web_chat import set_up_demo  # httpx: only this command needs it

        print(asyncio.run(set_up_demo(args.base_url, args.account, args.token)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
