"""Where the router's Flex Flows answer: an inbound message to an address with no address configuration
creates its conversation through the Flex Flow answering that address (the router then runs the flow or
creates the task, on the customer's message).

An address configuration, enabled or not, always wins: it is the Conversations API's own say over the address.
The router tells this service a flow's addresses over RPC when the flow is saved, so the API call returns
only once inbound messages will find it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.conversations import store
from shared.broker.topology import CONVERSATIONS_FLEX_FLOW_ADDRESSES
from shared.contracts.envelope import Envelope
from shared.contracts.flex import FLEX_FLOW_ADDRESSES_STORED, FlexFlowAddresses, FlexFlowAddressesStored
from shared.rpc import RpcServer
from shared.runtime import ServiceContext


@dataclass(frozen=True)
class AnsweringFlexFlow:
    flex_flow_sid: str
    chat_service_sid: str | None
    webhook_url: str | None  # external integration: the conversation's messages go to this URL, no flow runs


async def flex_flow_for(conn: store.Connection, *, account_sid: str, address: str) -> AnsweringFlexFlow | None:
    """The Flex Flow taking inbound messages to `address`, when no address configuration exists for it."""
    if await store.get_address_configuration(conn, account_sid=account_sid, sid_or_address=address) is not None:
        return None
    row = await conn.fetchrow("SELECT flex_flow_sid, chat_service_sid, webhook_url FROM flex_flow_addresses "
                              "WHERE account_sid = $1 AND address = $2", account_sid, address)
    return AnsweringFlexFlow(row["flex_flow_sid"], row["chat_service_sid"], row["webhook_url"]) if row else None


async def store_addresses(conn: store.Connection, *, account_sid: str, request: FlexFlowAddresses) -> None:
    await conn.execute("DELETE FROM flex_flow_addresses WHERE account_sid = $1 AND flex_flow_sid = $2",
                       account_sid, request.flex_flow_sid)
    for address in request.addresses:
        await conn.execute(
            "INSERT INTO flex_flow_addresses (account_sid, address, flex_flow_sid, chat_service_sid, webhook_url) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_sid, address) DO UPDATE SET "
            "flex_flow_sid = EXCLUDED.flex_flow_sid, chat_service_sid = EXCLUDED.chat_service_sid, "
            "webhook_url = EXCLUDED.webhook_url, date_updated = clock_timestamp()",
            account_sid, address, request.flex_flow_sid, request.chat_service_sid, request.webhook_url)


def flex_flow_addresses_server(context: ServiceContext) -> RpcServer:
    pool = context.pool

    async def answer(envelope: Envelope[Any]) -> FlexFlowAddressesStored:
        async with pool.acquire() as conn, conn.transaction():
            await store_addresses(conn, account_sid=envelope.account_sid, request=envelope.payload)
        return FlexFlowAddressesStored()

    handler: Callable[[Envelope[Any]], Any] = answer
    return RpcServer(context.broker, queue=CONVERSATIONS_FLEX_FLOW_ADDRESSES, payload=FlexFlowAddresses,
                     reply_type=FLEX_FLOW_ADDRESSES_STORED, handler=handler, prefetch=context.settings.prefetch)
