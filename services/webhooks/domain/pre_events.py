"""What a business's answer to a pre-event webhook means (Twilio's pre-action semantics, TWILIO-NOTES §1.6)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from shared.contracts.webhooks import PreEventReply


def reply_of_answer(status_code: int, body: bytes, *, modifiable: Sequence[str], latency_ms: int = 0) -> PreEventReply:
    """Non-2xx blocks; 2xx with a JSON object changing some of the `modifiable` fields modifies; any other 2xx allows.

    Only the fields the caller named may change; the rest of the answer is ignored. Values are text, as the
    form fields were: a JSON `attributes` object comes back as its JSON string.
    """
    if not 200 <= status_code < 300:
        return PreEventReply(outcome="blocked", status_code=status_code, error=f"HTTP {status_code}",
                             latency_ms=latency_ms)
    fields = _modified_fields(body, modifiable)
    return PreEventReply(outcome="modified" if fields else "allowed", status_code=status_code, fields=fields,
                         latency_ms=latency_ms)


def _modified_fields(body: bytes, modifiable: Sequence[str]) -> dict[str, str]:
    if not body.strip():
        return {}
    try:
        answer = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return {}  # a 2xx with something other than JSON changes nothing
    if not isinstance(answer, dict):
        return {}
    fields: dict[str, str] = {}
    for name in modifiable:
        if name not in answer or answer[name] is None:
            continue
        value = answer[name]
        fields[name] = value if isinstance(value, str) else json.dumps(value)
    return fields
