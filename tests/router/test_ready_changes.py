"""How a dispatcher learns which workers' channels changed since its previous read (another instance's
reservations, an agent finishing a task): every write committed after the read is reported, also one
whose transaction was already open when the read was marked."""

from services.router.store.dispatch import changed_workers
from tests.router.conftest import Router
from tests.router.engine_checks import router_connection
from tests.router.scenario import new_world

TOUCH = "UPDATE worker_channels SET available = available WHERE worker_sid = $1"


async def test_writes_after_the_mark_are_reported_even_from_a_transaction_open_at_the_mark(router: Router) -> None:
    world = await new_world(router)
    early, late = await world.worker("early"), await world.worker("late")
    reader = await router_connection(router.parley.settings)
    writer = await router_connection(router.parley.settings)
    try:
        open_transaction = writer.transaction()
        await open_transaction.start()
        await writer.execute(TOUCH, early)
        await reader.fetchval("SELECT pg_current_xact_id()")  # a later transaction completes before the mark
        _, mark = await changed_workers(reader, workspace_sid=world.workspace_sid, since=None)
        await open_transaction.commit()  # committed after the mark was read, by a transaction older than it
        await writer.execute(TOUCH, late)  # and one that began after it
        changed, _ = await changed_workers(reader, workspace_sid=world.workspace_sid, since=mark)
        assert {early, late} <= changed
    finally:
        await reader.close()
        await writer.close()
