"""`ApiKeyStore` on our own database: one row per key with its SHA-256, never the key itself."""

from __future__ import annotations

from sqlalchemy import select

from adapters.db.engine import SqlAdapter
from adapters.db.tables import ApiKeyRow
from core.models import ApiKeyRecord, Channel


def _record(row: ApiKeyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=row.key_id,
        name=row.name,
        channel=Channel(row.channel) if row.channel else None,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class SqlApiKeyStore(SqlAdapter):
    async def create(
        self, key_id: str, key_hash: str, name: str, channel: Channel | None, *, created_by: str
    ) -> ApiKeyRecord:
        row = ApiKeyRow(
            key_id=key_id,
            key_hash=key_hash,
            name=name,
            channel=channel.value if channel else None,
            created_by=created_by,
            created_at=self._clock(),
            revoked_at=None,
        )
        async with self._sessions.begin() as session:
            session.add(row)
        return _record(row)

    async def credentials(self, key_id: str) -> tuple[ApiKeyRecord, str] | None:
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, key_id)
            return None if row is None else (_record(row), row.key_hash)

    async def list_keys(self) -> list[ApiKeyRecord]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))).all()
            return [_record(row) for row in rows]

    async def revoke(self, key_id: str) -> ApiKeyRecord | None:
        async with self._sessions.begin() as session:
            row = await session.get(ApiKeyRow, key_id, with_for_update=True)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = self._clock()
            return _record(row)
