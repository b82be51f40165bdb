"""Runs all four services in one process on one port (the embedded deployment `make run` uses)."""

import asyncio

from services.catalog import ALL_SERVICES
from shared.logs import configure_logging
from shared.runtime import run_services
from shared.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    asyncio.run(run_services(settings, ALL_SERVICES, one_process=True))
