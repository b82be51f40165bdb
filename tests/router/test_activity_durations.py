"""Worker cumulative statistics: time in each activity, from the worker's activity history within the window."""

from datetime import UTC, datetime, timedelta

from tests.router.conftest import Router
from tests.router.scenario import new_world


async def test_activity_durations_come_from_the_activity_history(router: Router) -> None:
    world = await new_world(router)
    worker = await world.worker("w", available=False)  # created in the workspace's default activity, Offline
    await world.set_activity(worker, "Available")
    await world.set_activity(worker, "Offline")
    changes = sorted(await world.ws.events.list_async(worker_sid=worker), key=lambda e: int(e.event_date_ms))
    assert [e.event_type for e in changes] == ["worker.created", "worker.activity.update", "worker.activity.update"]
    # Windows are given in whole seconds: `last` is the second in which the worker went Offline again.
    last = datetime.fromtimestamp(int(changes[-1].event_date_ms) // 1000, UTC)

    async def durations(start, end) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
        stats = await world.ws.workers(worker).statistics().fetch_async(start_date=start, end_date=end)
        return {row["friendly_name"]: {k: row[k] for k in ("min", "max", "avg", "total")}
                for row in stats.cumulative["activity_durations"]}

    # From before creation to 100 s after the last change: Offline twice (a moment, then 100 s), Available a moment.
    spent = await durations(last - timedelta(seconds=50), last + timedelta(seconds=101))
    assert spent["Offline"]["total"] == 100 and spent["Offline"]["max"] == 100 and spent["Offline"]["min"] == 0
    assert spent["Offline"]["avg"] == 50
    assert spent["Available"] == {"min": 0, "max": 0, "avg": 0, "total": 0}
    assert spent["Unavailable"] == {"min": 0, "max": 0, "avg": 0, "total": 0}  # never in it
    # A window that starts 40 s after the last change counts only the 60 s inside it.
    later = await durations(last + timedelta(seconds=41), last + timedelta(seconds=101))
    assert later["Offline"] == {"min": 60, "max": 60, "avg": 60, "total": 60}
    # The workspace-wide figures include this worker's stints too.
    everyone = await world.ws.workers.cumulative_statistics().fetch_async(
        start_date=last + timedelta(seconds=41), end_date=last + timedelta(seconds=101))
    assert {r["friendly_name"]: r["total"] for r in everyone.activity_durations}["Offline"] == 60
