"""The load of a chaos run: customers writing in over SMS through the carrier (signed inbound webhooks) and the
agents answering them, both through the front door, each writing down in the ledger what Parley answered."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from typing import Any

import httpx

from tests.chaos.contact_center import NUMBER, ContactCenter
from tests.chaos.ledger import Ledger, MessageKey, customer_address, customer_body, customer_of_address, reply_body
from tests.support.provider import Provider, inbound_form, post_inbound

RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0


def answer_name(response: httpx.Response) -> str:
    """How the table shows an answer: its status, and for the front door's 502 whether anything was sent."""
    door = response.headers.get("x-front-door")
    return f"{response.status_code} {door}" if door else str(response.status_code)


class Customers:
    """Each customer sends its messages one after another, the next once the provider was told the last was
    accepted; what was not accepted (an error answer, a connection refused or cut) is posted again with the same
    MessageSid, as a provider told to retry does (Twilio's `#rc`/`#rp` URL overrides). Across customers, a steady
    pace, customers who joined writing their first message first, so that new conversations (and tasks) start in
    every phase; or a burst, every new customer at once."""

    def __init__(self, provider: Provider, ledger: Ledger, *, rate_per_second: float) -> None:
        self._provider = provider
        self._ledger = ledger
        self._interval = 1 / rate_per_second
        self._next: dict[int, int] = {}
        self._busy: set[int] = set()
        self._joining: list[int] = []
        self._sends: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100))
        self._stopping = False

    @property
    def count(self) -> int:
        return len(self._next)

    def join(self, count: int, *, at_once: bool = False) -> list[int]:
        joining = list(range(len(self._next), len(self._next) + count))
        for customer in joining:
            self._next[customer] = 0
            self._ledger.joined[customer] = self._ledger.phase
            if at_once:
                self._write(customer)
            else:
                self._joining.append(customer)
        return joining

    def _write(self, customer: int) -> None:
        self._busy.add(customer)
        send = asyncio.create_task(self._send(customer))
        self._sends.add(send)
        send.add_done_callback(self._sends.discard)

    async def run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self._interval)
            if self._joining:
                self._write(self._joining.pop(0))
                continue
            idle = [customer for customer in self._next if customer not in self._busy and customer not in self._joining]
            if idle:
                self._write(random.choice(idle))

    async def write_now(self, customer: int) -> MessageKey:
        """One more message of `customer`, once accepted (the load having stopped)."""
        key = (customer, self._next[customer])
        await self._send(customer)
        return key

    async def _send(self, customer: int) -> None:
        sequence = self._next[customer]
        form = inbound_form(from_address=customer_address(customer), to_address=NUMBER,
                            body=customer_body(customer, sequence))
        delay = RETRY_FIRST_SECONDS
        try:
            while True:
                try:
                    answer = await post_inbound(self._provider, form, client=self._http)
                    if answer.status_code == 200:
                        self._ledger.accept((customer, sequence), form["MessageSid"])
                        self._next[customer] = sequence + 1
                        return
                    self._ledger.refuse(answer_name(answer))
                except httpx.TransportError as error:
                    self._ledger.refuse(type(error).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
        finally:
            self._busy.discard(customer)

    async def stop(self, *, timeout: float) -> None:
        """No new messages; those being retried get `timeout` to be accepted (the rest never were)."""
        self._stopping = True
        if self._sends:
            _, unfinished = await asyncio.wait(set(self._sends), timeout=timeout)
            for send in unfinished:
                send.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)

    async def close(self) -> None:
        await self._http.aclose()


class Agents:
    """The agents at their desks: every reservation offered is accepted (polled, as a desk that lost its socket
    does), and they reply in their conversations at a steady pace. A reply is written once: never posted again
    after an answer that may hide a stored message, so a reply reaching the carrier twice is Parley's doing."""

    def __init__(self, http: httpx.AsyncClient, center: ContactCenter, ledger: Ledger, *,
                 reply_rate_per_second: float) -> None:
        self._http = http
        self._center = center
        self._ledger = ledger
        self._reply_interval = 1 / reply_rate_per_second
        self.assigned: dict[str, tuple[int, str]] = {}  # conversation SID → (customer, agent identity)
        self.tasks_seen: set[str] = set()
        self._replies_to: dict[int, int] = {}
        self.replying = True
        self.troubles: Counter[str] = Counter()  # what went wrong at the desks, for the run's progress lines

    async def accept_offers(self, *, poll_seconds: float = 1.0) -> None:
        while True:
            try:
                await self._accept_pending()
            except httpx.HTTPError as error:
                self.troubles[type(error).__name__] += 1
            await asyncio.sleep(poll_seconds)

    def _answer(self, response: httpx.Response, what: str) -> dict[str, Any] | None:
        if response.status_code == 200:
            return dict(response.json())
        self.troubles[f"{what} {answer_name(response)}"] += 1
        return None

    async def _accept_pending(self) -> None:
        ws = self._center.ws
        found = self._answer(await self._http.get(
            f"{ws}/Tasks", params={"AssignmentStatus": "reserved", "PageSize": 100}), "listing tasks")
        for task in found["tasks"] if found else []:
            self.tasks_seen.add(task["sid"])
            offers = self._answer(await self._http.get(
                f"{ws}/Tasks/{task['sid']}/Reservations", params={"ReservationStatus": "pending"}), "listing offers")
            for reservation in offers["reservations"] if offers else []:
                accepted = self._answer(await self._http.post(
                    f"{ws}/Tasks/{task['sid']}/Reservations/{reservation['sid']}",
                    data={"ReservationStatus": "accepted"}), "accepting")
                if accepted:
                    self._assign(task, reservation["worker_sid"])

    def _assign(self, task: dict[str, Any], worker_sid: str) -> None:
        attributes = json.loads(task["attributes"])
        customer = customer_of_address(attributes.get("customerAddress", ""))
        if customer is not None:
            self.assigned[attributes["conversationSid"]] = (customer, self._center.agents[worker_sid])

    async def reply(self) -> None:
        while True:
            await asyncio.sleep(self._reply_interval)
            if self.replying and self.assigned:
                await self.reply_once(random.choice(list(self.assigned)))

    async def reply_once(self, conversation_sid: str) -> str:
        customer, identity = self.assigned[conversation_sid]
        number = self._replies_to[customer] = self._replies_to.get(customer, 0) + 1
        body = reply_body(customer, number)
        try:
            answer = await self._http.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                                           data={"Author": identity, "Body": body})
            taken = answer.status_code == 201
            if not taken:
                self.troubles[f"replying {answer_name(answer)}"] += 1
        except httpx.HTTPError as error:
            self.troubles[f"replying {type(error).__name__}"] += 1
            taken = False
        self._ledger.reply(body, customer=customer, taken=taken)
        return body
