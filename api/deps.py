"""FastAPI dependencies, declared once as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from adapters.ports import ApiKeyStore, CaseStore, SafetyDatabasePort, TicketingPort
from api.problems import ProblemError
from api.security import Principal, Role, require_roles
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


def get_api_key_store(request: Request) -> ApiKeyStore:
    store: ApiKeyStore | None = getattr(request.app.state, "api_keys", None)
    if store is None:
        raise ProblemError(503, "Service unavailable", "API keys are not available in this deployment.")
    return store


def get_ticketing(request: Request) -> TicketingPort | None:
    """Read access to the ticketing system; None where the deployment has none wired (tests)."""
    ticketing: TicketingPort | None = getattr(request.app.state, "ticketing", None)
    return ticketing


def get_safety_database(request: Request) -> SafetyDatabasePort | None:
    safety_database: SafetyDatabasePort | None = getattr(request.app.state, "safety_database", None)
    return safety_database


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal_client)]
CaseStoreDep = Annotated[CaseStore, Depends(get_case_store)]
ApiKeyStoreDep = Annotated[ApiKeyStore, Depends(get_api_key_store)]
TicketingDep = Annotated[TicketingPort | None, Depends(get_ticketing)]
SafetyDatabaseDep = Annotated[SafetyDatabasePort | None, Depends(get_safety_database)]

# Who may do what: each route takes one of these; the principal's subject is the acting person.
IntakeCaller = Annotated[Principal, require_roles(Role.intake, api_key=True)]
CaseReader = Annotated[
    Principal, require_roles(Role.agent, Role.safety_reviewer, Role.supervisor, Role.admin)
]
# The message text (redacted) is case content: the people who work cases, not operators.
MessageReader = Annotated[Principal, require_roles(Role.agent, Role.safety_reviewer, Role.supervisor)]
SafetyReviewer = Annotated[Principal, require_roles(Role.safety_reviewer, Role.supervisor)]
TriageAgent = Annotated[Principal, require_roles(Role.agent, Role.safety_reviewer, Role.supervisor)]
TicketAgent = Annotated[Principal, require_roles(Role.agent, Role.supervisor)]
Admin = Annotated[Principal, require_roles(Role.admin)]
