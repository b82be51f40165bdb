"""Secrets at rest: what Parley stores sealed (auth tokens, API key secrets, provider and push credentials)
under `PARLEY_SECRET_KEY`, and the keys derived from it (page tokens).

`PARLEY_SECRET_KEY` holds one or more Fernet keys, comma-separated: the first seals, every one opens
(MultiFernet), so a key is rotated by putting the new one first, running `parley rotate-secret-key`, then
dropping the old one. A sealed value is `PREFIX` + a Fernet token; a value without the prefix is a row
written before secrets were sealed, read as it is and sealed at the next start-up (a migration cannot
do it: it does not know the key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "fernet1:"
LOCAL_KEY_FILE = ".parley/secret_key"


class SecretKeyError(RuntimeError):
    """PARLEY_SECRET_KEY is missing, malformed, or does not open what the database holds."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class SecretBox:
    """Seals and opens stored secrets with the keys of PARLEY_SECRET_KEY."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretKeyError("PARLEY_SECRET_KEY holds no key")
        try:
            self._fernets = [Fernet(key.encode()) for key in keys]
        except (ValueError, binascii.Error) as error:
            raise SecretKeyError(
                "PARLEY_SECRET_KEY must be comma-separated Fernet keys (32 url-safe base64-encoded bytes each); "
                "generate one with `parley generate-secret-key`"
            ) from error
        self._raw = [base64.urlsafe_b64decode(key.encode()) for key in keys]
        self._all = MultiFernet(self._fernets)

    def seal(self, plaintext: str) -> str:
        return PREFIX + self._all.encrypt(plaintext.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before secrets were sealed; sealed at the next start-up
        try:
            return self._all.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as error:
            raise SecretKeyError(
                "a stored secret cannot be opened with any key of PARLEY_SECRET_KEY "
                "(was a key dropped before `parley rotate-secret-key` ran?)"
            ) from error

    def resealed(self, stored: str, *, rotate: bool) -> str | None:
        """The value to store instead of `stored`, or None when it is fine as it is: plaintext is always
        sealed; with `rotate`, a value sealed under an older key is sealed again under the first."""
        if not stored.startswith(PREFIX):
            return self.seal(stored)
        if not rotate:
            return None
        token = stored.removeprefix(PREFIX).encode()
        try:
            self._fernets[0].decrypt(token)
            return None
        except InvalidToken:
            return self.seal(self.open(stored))

    def derived_keys(self, label: str) -> list[bytes]:
        """One key per configured key for another purpose (`label`), the first for signing: every replica
        with the same PARLEY_SECRET_KEY derives the same ones, and no purpose learns another's key."""
        return [hmac.new(raw, label.encode(), hashlib.sha256).digest() for raw in self._raw]


def local_secret_key(path: Path = Path(LOCAL_KEY_FILE)) -> str:
    """The key the one-process `parley run` keeps for itself when PARLEY_SECRET_KEY is unset: made once,
    readable by its owner alone."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


@dataclass(frozen=True)
class SealedColumn:
    """A column of a service's schema that holds secrets: text, or (`json_values`) a jsonb object whose
    string values are each sealed, so its keys stay visible to constraints."""

    table: str
    column: str
    key: str = "sid"
    json_values: bool = False


def _resealed_value(box: SecretBox, value: Any, *, json_values: bool, rotate: bool) -> Any:
    if not json_values:
        return box.resealed(value, rotate=rotate)
    changed = {name: box.resealed(item, rotate=rotate) if isinstance(item, str) else None
               for name, item in value.items()}
    if not any(item is not None for item in changed.values()):
        return None
    return {name: changed[name] if changed[name] is not None else item for name, item in value.items()}


async def reseal_column(pool: asyncpg.Pool, column: SealedColumn, box: SecretBox, *, rotate: bool,
                        batch: int = 200) -> int:
    """Seal the column's plaintext values (and with `rotate`, re-seal those under an older key), a batch of
    rows per transaction with the rows locked, so it may run beside live traffic and be run again.
    Returns how many rows changed."""
    changed_rows = 0
    after = ""
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT {column.key} AS key, {column.column} AS value FROM {column.table} "
                f"WHERE {column.key} > $1 AND {column.column} IS NOT NULL ORDER BY {column.key} LIMIT $2 FOR UPDATE",
                after, batch,
            )
            for row in rows:
                value = _resealed_value(box, row["value"], json_values=column.json_values, rotate=rotate)
                if value is not None:
                    await conn.execute(f"UPDATE {column.table} SET {column.column} = $2 WHERE {column.key} = $1",
                                       row["key"], value)
                    changed_rows += 1
        if len(rows) < batch:
            return changed_rows
        after = rows[-1]["key"]


MISSING_KEY = (
    "PARLEY_SECRET_KEY is not set. It seals the secrets Parley stores and must be the same for every "
    "process of a deployment: generate one with `parley generate-secret-key` and pass it to every service "
    "(only the one-process `parley run`, with media in the local directory, makes one for itself)"
)


def box_of(secret_key: str | None) -> SecretBox:
    """The box for a deployment's PARLEY_SECRET_KEY; a clear start-up error without one."""
    keys = parse_keys(secret_key)
    if not keys:
        raise SecretKeyError(MISSING_KEY)
    return SecretBox(keys)
