"""What the services, users, roles, credentials and media tests share: Parley running conversations alone,
with its media in the test's own directory."""

from pathlib import Path

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.settings import Settings
from tests.support.parley import RunningParley

V1 = "/conversations/v1"


async def conversations_alone(launch, settings: Settings, tmp_path: Path, **overrides: object) -> RunningParley:  # type: ignore[no-untyped-def]
    changed = {"media_directory": str(tmp_path / "media"), **overrides}
    return await launch([CONVERSATIONS], settings=settings.model_copy(update=changed))
