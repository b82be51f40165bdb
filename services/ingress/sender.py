"""The sender: takes due send records and posts them to their providers, paced per sender address.

One worker per (account, From) address runs while that sender has work, so a slow or throttled
sender never holds another's sends. Each send waits for its slot in the sender's token bucket
(kept in the database, shared by every replica), then goes out; several may be in flight at once.
The attempt is counted and leased when claimed, and no claim is made past the budget
(`PARLEY_SEND_MAX_ATTEMPTS`): a send whose attempts are spent is parked rather than posted again. A known
answer is always recorded (an outage of the database waited out, never answered by posting again) or, when it
cannot be, parks the send with the reason. A replica that dies mid-attempt leaves the lease to expire and the
send to be taken back: the one case a provider may see a send twice, and still within the budget.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

import httpx

from services.ingress import handlers, store
from services.ingress.domain import twilio_outbound, whatsapp_cloud
from services.ingress.domain.providers import TWILIO, WHATSAPP_CLOUD, Provider
from services.ingress.domain.sends import (
    ANSWER_NOT_RECORDED,
    NO_PROVIDER,
    PROVIDER_MISCONFIGURED,
    PROVIDER_UNREACHABLE,
    Outcome,
    Send,
    backoff_seconds,
    budget_spent,
    refused,
    spent_budget_error,
    unreachable,
)
from services.ingress.provider_directory import ProviderDirectory
from services.ingress.render import status_callback_url
from shared.egress import EgressRefused
from shared.notifications import Wakeup
from shared.outages import Outage, is_infrastructure_failure
from shared.outbound_http import AnswerTooLarge
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

MAX_IN_FLIGHT_PER_SENDER = 8
MAX_SENDERS_PER_SCAN = 1000

SenderKey = tuple[str, str]  # (account SID, From address)


class AnswerReader(Protocol):
    """Reads a provider's answer to a send into an Outcome."""

    def __call__(self, status_code: int, body: bytes, *, retry_after: str | None = None) -> Outcome: ...


class Sender:
    def __init__(self, context: ServiceContext, directory: ProviderDirectory) -> None:
        self._context = context
        self._settings = context.settings
        self._pool = context.pool
        self._directory = directory
        self._wakeup: Wakeup | None = None
        self._outage = Outage(log, "the sender")
        self._workers: dict[SenderKey, asyncio.Task[None]] = {}
        self._interval = 1.0 / self._settings.send_rate_per_second
        self._lease_seconds = (self._settings.send_claim_timeout_seconds
                               or max(60.0, self._settings.send_timeout_seconds * 3))

    async def run(self) -> None:
        schema = self._settings.schema_name(self._context.name)
        self._wakeup = Wakeup(self._pool, [handlers.sends_channel(schema)], where="sends")
        try:
            await self._wakeup.start()
            while True:
                self._wakeup.clear()
                try:
                    due = await store.list_due_senders(self._pool, limit=MAX_SENDERS_PER_SCAN)
                    self._outage.recovered()
                except Exception as error:
                    if not is_infrastructure_failure(error):
                        raise
                    self._outage.failed(error)
                    due = []
                for key in due:
                    if key not in self._workers:
                        self._workers[key] = asyncio.create_task(self._work(*key))
                await self._wakeup.wait(self._settings.poll_interval_seconds)
        except asyncio.CancelledError:
            # Only a stop ends the workers: a loop restarted after a crash finds them still at work, so an
            # answer one is recording is not dropped (its send would be posted again once its claim expired).
            workers = list(self._workers.values())
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        finally:
            await self._wakeup.stop()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _work(self, account_sid: str, from_address: str) -> None:
        """Send this sender's due sends in order, one token each, until none is due."""
        in_flight: set[asyncio.Task[None]] = set()
        room = asyncio.Semaphore(MAX_IN_FLIGHT_PER_SENDER)
        try:
            while True:
                await room.acquire()
                send = await self._claim(account_sid, from_address)
                if send is None:
                    room.release()
                    break
                wait = await store.reserve_send_slot(self._pool, account_sid=account_sid, address=from_address,
                                                     interval_seconds=self._interval)
                if wait > 0:
                    await asyncio.sleep(wait)
                task = asyncio.create_task(self._attempt(send))
                in_flight.add(task)

                def finished(done: asyncio.Task[None]) -> None:
                    in_flight.discard(done)
                    room.release()

                task.add_done_callback(finished)
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        except Exception as error:
            if is_infrastructure_failure(error):
                self._outage.failed(error)
            else:
                log.exception("sender worker failed", extra={"account_sid": account_sid, "from_address": from_address})
        finally:
            for task in in_flight:
                task.cancel()
            self._workers.pop((account_sid, from_address), None)
            # Work that arrived while this worker was finishing gets a new worker at once.
            self._wake()

    async def _claim(self, account_sid: str, from_address: str) -> Send | None:
        """The sender's next send, leased for one attempt with the attempt counted; None when none is due. One
        due with its attempts spent (taken back from an expired claim) is parked on the way, not posted."""
        while True:
            async with self._pool.acquire() as conn, conn.transaction():
                due = await store.lock_next_due_send(conn, account_sid=account_sid, from_address=from_address)
                if due is None:
                    return None
                if not budget_spent(due, self._settings.send_max_attempts):
                    return await store.lease_send(conn, id=due.id, lease_seconds=self._lease_seconds)
                error_code, error_message = spent_budget_error(due)
                await handlers.park_send(conn, due, error_code=error_code, error_message=error_message)

    async def _attempt(self, send: Send) -> None:
        provider = await self._directory.get(send.provider_sid) if send.provider_sid else None
        if provider is None or provider.account_sid != send.account_sid:
            outcome = refused(NO_PROVIDER, f"Provider {send.provider_sid} of {send.from_address} no longer exists")
        else:
            outcome = await self._post(provider, send)
        try:
            try:
                await self._write(lambda conn: self._record(conn, send, outcome))
            except Exception as error:
                # Left to the claim's expiry, the send would be posted again though its answer is known.
                log.exception("could not record a send's outcome; parking it", extra={"message_sid": send.message_sid})
                reason = f"The provider's answer could not be recorded: {type(error).__name__}: {error}"
                await self._write(lambda conn: handlers.park_send(conn, send, error_code=ANSWER_NOT_RECORDED,
                                                                  error_message=reason))
        except Exception:
            log.exception("could not park a send whose outcome was not recorded",
                          extra={"message_sid": send.message_sid})

    async def _write(self, unit: Callable[[store.Connection], Awaitable[None]]) -> None:
        """Run one unit of work on a send's record in its own transaction, waiting out outages of the database:
        the provider has answered, and asking it again would send twice."""
        while True:
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    await unit(conn)
            except Exception as error:
                if not is_infrastructure_failure(error):
                    raise
                self._outage.failed(error)
                await self._outage.pause()
            else:
                self._outage.recovered()
                return

    async def _record(self, conn: store.Connection, send: Send, outcome: Outcome) -> None:
        settings = self._settings
        if outcome.kind == "accepted":
            assert outcome.channel_message_sid is not None
            await handlers.record_submitted(conn, send, channel_message_sid=outcome.channel_message_sid,
                                            provider_status=outcome.provider_status)
        elif outcome.kind == "retry" and not budget_spent(send, settings.send_max_attempts):
            delay = backoff_seconds(send.attempts, base=settings.send_backoff_base_seconds,
                                    maximum=settings.send_backoff_max_seconds,
                                    retry_after=outcome.retry_after_seconds)
            log.info("send will be retried in %.2fs: %s", delay, outcome.error_message,
                     extra={"message_sid": send.message_sid, "attempts": send.attempts})
            await store.mark_send_retrying(conn, id=send.id, attempt=send.attempts, delay_seconds=delay,
                                           error_code=outcome.error_code, error_message=outcome.error_message)
        else:
            await handlers.park_send(conn, send, error_code=outcome.error_code or PROVIDER_UNREACHABLE,
                                     error_message=outcome.error_message or "Send failed")

    async def _post(self, provider: Provider, send: Send) -> Outcome:
        if provider.type == TWILIO:
            return await self._post_twilio(provider, send)
        if provider.type == WHATSAPP_CLOUD:
            return await self._post_whatsapp_cloud(provider, send)
        return refused(NO_PROVIDER, f"Provider {provider.sid} of type {provider.type} cannot send")

    async def _post_twilio(self, provider: Provider, send: Send) -> Outcome:
        account_sid = provider.credentials.get("account_sid", "")
        form = twilio_outbound.message_form(
            send, status_callback_url=status_callback_url(self._settings.external_base_url(), provider.sid))
        return await self._request(
            "POST", twilio_outbound.messages_url(provider.api_base_url, account_sid), data=form,
            auth=(account_sid, provider.auth_token or ""), read=twilio_outbound.read_answer,
        )

    async def _post_whatsapp_cloud(self, provider: Provider, send: Send) -> Outcome:
        phone_number_id = provider.credentials.get("phone_number_id")
        access_token = provider.credentials.get("access_token")
        if not phone_number_id or not access_token:
            return refused(PROVIDER_MISCONFIGURED, f"Provider {provider.sid} needs Credentials.PhoneNumberId and "
                                                   "Credentials.AccessToken to send")
        if not send.content_sid:
            # Meta refuses free-form messages outside the window anyway; saying so first names the fix.
            last = await store.get_last_inbound(self._pool, provider_sid=provider.sid, customer_address=send.to_address)
            if not whatsapp_cloud.within_window(last, datetime.now(UTC)):
                return whatsapp_cloud.outside_window_error()
        body = json.dumps(whatsapp_cloud.message_json(send, media_types=send.media_content_types)).encode()
        return await self._request(
            "POST", whatsapp_cloud.messages_url(provider.api_base_url, phone_number_id), content=body,
            headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
            read=whatsapp_cloud.read_answer,
        )

    async def _request(self, method: str, url: str, *, read: AnswerReader, **kwargs: object) -> Outcome:
        try:
            response = await self._context.outbound.request(
                method, url, timeout=self._settings.send_timeout_seconds, **kwargs)  # type: ignore[arg-type]
        except EgressRefused as error:
            return refused(PROVIDER_UNREACHABLE, f"Provider URL refused by the egress policy: {error}")
        except AnswerTooLarge as error:
            # Judged by its status with no body: a 2xx names no message, so it is not sent again (it may have
            # gone out); an error status is retried or not as any other.
            return read(error.status_code, b"")
        except httpx.HTTPError as error:
            return unreachable(f"{type(error).__name__}: {error}".rstrip(": "))
        return read(response.status_code, response.content, retry_after=response.headers.get("retry-after"))
