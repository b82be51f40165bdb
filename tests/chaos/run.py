"""A chaos run: the cluster, the business on it and its load; then each fault of the plan in turn (steady load
before, during and after it, and the time until everything accepted before the repair was delivered); then the
books: one row per fault, and what must be zero or exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.chaos.accounting import Deliveries, StoredState, phase_rows
from tests.chaos.cluster import running_cluster
from tests.chaos.contact_center import EndpointTrouble, set_up_contact_center
from tests.chaos.faults import Fault, Plan, Stage
from tests.chaos.ledger import Ledger, MessageKey
from tests.chaos.load import Agents, Customers
from tests.chaos.report import Row, failures, table
from tests.support.provider import carrier_answer
from tests.support.receiver import Receiver
from tests.support.waiting import moment_when

Say = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    plan: str
    rows: list[Row]
    failures: list[str]
    log_bytes: dict[str, int]

    def render(self) -> str:
        logs = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in self.log_bytes.items())
        verdict = ["", "PASSED: nothing lost, stored twice, delivered twice under another token, reordered or parked; "
                   "one conversation per customer, every reply sent once, every task assigned once"] \
            if not self.failures else ["", "FAILED:", *(f"  - {failure}" for failure in self.failures)]
        return "\n".join([f"chaos run ({self.plan})", "", table(self.rows), *verdict, "", f"process logs: {logs}"])


async def delivered(deliveries: Deliveries, keys: list[MessageKey], *, timeout: float) -> float | None:
    waiting = keys

    def all_arrived() -> bool:
        nonlocal waiting
        waiting = deliveries.undelivered(waiting)
        return not waiting

    return await moment_when(all_arrived, timeout=timeout)


async def run_phase(stage: Stage, fault: Fault, plan: Plan, ledger: Ledger, deliveries: Deliveries, say: Say) -> None:
    phase = ledger.phases[-1]
    stage.customers.join(fault.new_customers)
    await asyncio.sleep(plan.lead_in_seconds)
    phase.injected_at = time.time()
    await fault.inject(stage)
    await asyncio.sleep(fault.hold_seconds)
    await fault.repair(stage)
    phase.repaired_at = time.time()
    phase.recovered_at = await delivered(deliveries, ledger.accepted_before(phase.repaired_at),
                                         timeout=plan.recovery_timeout_seconds)
    recovery = "not recovered" if phase.recovery_seconds is None else f"recovered in {phase.recovery_seconds:.1f} s"
    troubles = ", ".join(f"{what} x{count}" for what, count in stage.agents.troubles.items()) or "none"
    say(f"{fault.name}: {recovery}; so far {len(ledger.accepted)} messages accepted from {stage.customers.count} "
        f"customers, {len(stage.agents.assigned)} tasks accepted by agents (their troubles: {troubles})")
    await asyncio.sleep(plan.tail_seconds)


async def settle(stage: Stage, plan: Plan, ledger: Ledger, deliveries: Deliveries, carrier: Receiver, say: Say) -> None:
    """The load stops; what was accepted gets its time to arrive; a last message and reply are the barrier
    before anything is counted as missing or not repeated."""
    await stage.customers.stop(timeout=60)
    timeout = plan.final_timeout_seconds
    if await delivered(deliveries, list(ledger.accepted), timeout=timeout) is None:
        say("not every accepted message was delivered in time")
    if await moment_when(lambda: {customer for customer, _ in stage.agents.assigned.values()} >= set(ledger.joined),
                   timeout=timeout) is None:
        say("not every customer's task was accepted in time")
    stage.agents.replying = False
    taken = {body for body, reply in ledger.replies.items() if reply.taken}
    if await moment_when(lambda: taken <= {request.field("Body") for request in carrier.requests}, timeout=timeout) is None:
        say("not every agent reply reached the carrier in time")
    last_message = await stage.customers.write_now(0)
    await delivered(deliveries, [last_message], timeout=timeout)
    if stage.agents.assigned:
        last_reply = await stage.agents.reply_once(next(iter(stage.agents.assigned)))
        await moment_when(lambda: any(request.field("Body") == last_reply for request in carrier.requests),
                          timeout=timeout)


async def run_chaos(plan: Plan, directory: Path, say: Say = print) -> Outcome:
    ledger = Ledger()
    trouble = EndpointTrouble()
    endpoint, carrier = Receiver(responder=trouble.respond), Receiver(responder=carrier_answer)
    await endpoint.start()
    await carrier.start()
    background: list[asyncio.Task[None]] = []
    started = time.monotonic()
    try:
        async with running_cluster(directory, plan.topology, **plan.settings) as cluster, cluster.client() as http:
            say(f"cluster up in {time.monotonic() - started:.0f} s: PostgreSQL on {cluster.postgres.port}, RabbitMQ "
                f"{cluster.rabbitmq.node}, {len(cluster.processes)} Parley processes behind {cluster.front_door.url}")
            center = await set_up_contact_center(http, webhook_url=f"{endpoint.url}/hook", carrier_url=carrier.url)
            customers = Customers(center.provider, ledger, rate_per_second=plan.rate_per_second)
            agents = Agents(http, center, ledger, reply_rate_per_second=plan.reply_rate_per_second)
            stage = Stage(cluster=cluster, customers=customers, agents=agents, endpoint=trouble)
            deliveries = Deliveries(endpoint)
            for index, fault in enumerate(plan.faults):
                ledger.begin(fault.name)
                if index == 0:
                    background = [asyncio.create_task(job) for job in
                                  (customers.run(), agents.accept_offers(), agents.reply())]
                await run_phase(stage, fault, plan, ledger, deliveries, say)
            await settle(stage, plan, ledger, deliveries, carrier, say)
            for job in background:
                job.cancel()
            await customers.close()
            stored = await StoredState.read(http, center)
            log_bytes = cluster.log_bytes()
        rows = phase_rows(ledger, stored, deliveries, carrier)
        say(f"run took {time.monotonic() - started:.0f} s")
        return Outcome(plan=plan.name, rows=rows, failures=failures(rows), log_bytes=log_bytes)
    finally:
        for job in background:
            job.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*background, return_exceptions=True)
        await endpoint.stop()
        await carrier.stop()
