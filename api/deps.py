"""FastAPI dependencies, declared once as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from adapters.ports import CaseStore
from core.config import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def get_case_store(request: Request) -> CaseStore:
    store: CaseStore = request.app.state.case_store
    return store


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal_client)]
CaseStoreDep = Annotated[CaseStore, Depends(get_case_store)]
