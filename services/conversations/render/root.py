"""Where a resource is addressed: the account's default-service paths, or `/Services/{ChatServiceSid}/…`."""

from __future__ import annotations

from dataclasses import dataclass

V1 = "/conversations/v1"


@dataclass(frozen=True)
class Root:
    base: str  # the public base URL, e.g. http://127.0.0.1:8080
    service_sid: str | None = None  # set when addressed under /Services/{IS}: resources then carry chat_service_sid

    @property
    def url(self) -> str:
        return f"{self.base}{V1}" + (f"/Services/{self.service_sid}" if self.service_sid else "")

    @property
    def v1(self) -> str:
        return f"{self.base}{V1}"
