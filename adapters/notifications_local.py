"""`NotificationPort` as a transactional outbox table (`notifications`).

Stands in for a notification service (e-mail/SMS/push provider such as SendGrid or Twilio,
or an internal paging tool for the safety team): a sender process would drain rows whose
`sent_at` is NULL, deliver them with the outbox key as the provider's idempotency key, and
stamp `sent_at`. Workflows only ever enqueue, so a retried activity cannot message anyone twice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from adapters.db.engine import SqlAdapter, insert_if_absent
from adapters.db.tables import NotificationRow
from core.models import Notification, NotificationReceipt


class LocalOutbox(SqlAdapter):
    async def send(self, notification: Notification) -> NotificationReceipt:
        async with self._sessions.begin() as session:
            queued = await insert_if_absent(
                session,
                NotificationRow,
                {
                    "notification_id": f"NTF-{uuid.uuid4().hex[:16].upper()}",
                    **notification.model_dump(),
                    "created_at": self._clock(),
                    "sent_at": None,
                },
            )
            row = (
                await session.scalars(select(NotificationRow).where(NotificationRow.key == notification.key))
            ).one()
            return NotificationReceipt(
                notification_id=row.notification_id,
                created_at=row.created_at,
                duplicate=not queued,
            )
