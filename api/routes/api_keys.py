"""Admin: API keys of channel integrations (create — the key is shown once —, list, revoke)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Admin, ApiKeyStoreDep
from api.problems import ProblemError
from api.security import generate_api_key
from core.logging import get_logger
from core.models import ApiKeyCreated, ApiKeyCreateRequest, ApiKeyRecord

router = APIRouter(prefix="/v1/admin/api-keys", tags=["admin"])
log = get_logger(__name__)


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreateRequest, admin: Admin, store: ApiKeyStoreDep) -> ApiKeyCreated:
    new_key = generate_api_key()
    record = await store.create(
        new_key.key_id, new_key.key_hash, body.name, body.channel, created_by=admin.subject
    )
    log.info("api_key_created", key_id=record.key_id, by=admin.subject)
    return ApiKeyCreated(record=record, api_key=new_key.secret)


@router.get("", response_model=list[ApiKeyRecord])
async def list_api_keys(admin: Admin, store: ApiKeyStoreDep) -> list[ApiKeyRecord]:
    return await store.list_keys()


@router.delete("/{key_id}", response_model=ApiKeyRecord)
async def revoke_api_key(key_id: str, admin: Admin, store: ApiKeyStoreDep) -> ApiKeyRecord:
    record = await store.revoke(key_id)
    if record is None:
        raise ProblemError(404, "API key not found", "No API key with this id.")
    log.info("api_key_revoked", key_id=key_id, by=admin.subject)
    return record
