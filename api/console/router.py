"""Agent console at /console: Jinja2 pages and plain HTML forms over the API's own code paths.

- Sign-in: with the local signing key only (no identity provider configured), /console/login
  issues a token with `issue_local_token` and keeps it in an HttpOnly, SameSite=Strict cookie
  scoped to /console. Every page verifies that cookie with the API's `TokenVerifier`; the token
  subject is the acting person.
- CSRF: besides SameSite=Strict, every POST must carry an `Origin` (or, without one, a `Referer`)
  whose host is the request's `Host`; anything else is refused with 403.
- Queues come from `CaseStore.list_cases`, per role, on the server: a role that may not see a
  queue never receives its items. Decisions call the same functions as the API routes.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from adapters.ports import CaseStore
from api.console.queues import (
    MESSAGE_ROLES,
    READER_ROLES,
    SAFETY_ROLES,
    SUPERVISOR_ROLES,
    TICKET_ROLES,
    TRIAGE_ROLES,
    Queue,
    QueueFilters,
    filter_options,
    time_left,
    visible_queues,
)
from api.deps import (
    get_app_settings,
    get_case_store,
    get_safety_database,
    get_temporal_client,
    get_ticketing,
)
from api.problems import ProblemError
from api.routes import admin_reclassify, agent, cases
from api.security import (
    DEFAULT_TOKEN_TTL_SECONDS,
    Principal,
    Role,
    TokenError,
    get_authenticator,
    issue_local_token,
)
from core.config import Settings
from core.logging import get_logger
from core.models import (
    CaseMessage,
    CaseSnapshot,
    CaseStatus,
    CaseView,
    Category,
    ReclassifyRequest,
    Route,
    SafetyDecisionRequest,
    TicketUpdateRequest,
    TriageDecisionRequest,
)
from core.redaction import redact

router = APIRouter()
log = get_logger(__name__)

_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")

COOKIE = "cc_console"
COOKIE_PATH = "/console"
# Roles a person can pick at the local sign-in (intake is for channel integrations, not people).
SIGN_IN_ROLES = (Role.agent, Role.safety_reviewer, Role.supervisor, Role.admin)
# Pages load their own stylesheet and script only; forms post back to the console.
CONSOLE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Who sees (and may act on) which queue; the API's decision routes admit the same roles.


def local_sign_in_enabled(settings: Settings) -> bool:
    """The local signing key is in use exactly when no identity provider key set is configured."""
    return not (settings.auth_jwks_url or settings.auth_jwks_file)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    # The API's default `no-referrer` makes browsers send `Origin: null` with a form post, which
    # the origin check would refuse; `same-origin` still sends nothing to other sites.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


async def _principal(request: Request) -> Principal | None:
    """The signed-in person, verified exactly like an API bearer token; None when there is none."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    authenticator = get_authenticator(request)
    try:
        principal = await authenticator.verifier.verify(token)
    except TokenError:
        return None
    authenticator.rate_limiter.check(principal)
    return principal


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == request.headers.get("host", "").lower()


def _forbidden(request: Request, principal: Principal | None, detail: str) -> HTMLResponse:
    return _page(request, "error.html", {"principal": principal, "title": "Forbidden", "detail": detail}, 403)


# --------------------------------------------------------------------------- static files


async def stylesheet(request: Request) -> FileResponse:
    return FileResponse(_HERE / "static" / "console.css", media_type="text/css")


async def script(request: Request) -> FileResponse:
    return FileResponse(_HERE / "static" / "console.js", media_type="text/javascript")


# --------------------------------------------------------------------------- sign-in


async def login_page(request: Request) -> Response:
    # Imported here: the OIDC module builds on this one's cookie and page helpers.
    from api.console.oidc import oidc_sign_in_enabled

    settings = get_app_settings(request)
    if oidc_sign_in_enabled(settings):
        return RedirectResponse("/console/oidc/login", status_code=303)
    if not local_sign_in_enabled(settings):
        return _page(request, "error.html", _no_local_sign_in(), 404)
    return _page(request, "login.html", {"principal": None, "roles": SIGN_IN_ROLES, "error": None})


def _no_local_sign_in() -> dict[str, Any]:
    return {
        "principal": None,
        "title": "Not available",
        "detail": "The local sign-in exists only when the API runs with its local signing key; "
        "with an identity provider, set CC_CONSOLE_OIDC_CLIENT_ID for the OpenID Connect sign-in.",
    }


async def login(request: Request) -> Response:
    settings = get_app_settings(request)
    if not local_sign_in_enabled(settings):
        return _page(request, "error.html", _no_local_sign_in(), 404)
    if not _same_origin(request):
        return _forbidden(request, None, "The form was not sent from this console (origin check).")
    form = await request.form()
    name = str(form.get("name") or "").strip()
    roles = [str(r) for r in form.getlist("roles") if str(r) in {role.value for role in SIGN_IN_ROLES}]
    if not name or len(name) > 200 or not roles:
        context = {
            "principal": None,
            "roles": SIGN_IN_ROLES,
            "error": "Enter a name and pick at least one role.",
        }
        return _page(request, "login.html", context, 422)
    token = issue_local_token(settings, name, roles, DEFAULT_TOKEN_TTL_SECONDS)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=DEFAULT_TOKEN_TTL_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    if not _same_origin(request):
        return _forbidden(request, None, "The form was not sent from this console (origin check).")
    response = _to_login()
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


# --------------------------------------------------------------------------- queues


def readable(value: Any) -> str:
    """An observed value of the decision path as a person reads it (probabilities to 3 places)."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {readable(item)}" for key, item in value.items()) or "none"
    if isinstance(value, list):
        return "; ".join(readable(item) for item in value) or "none"
    return str(value)


templates.env.globals["time_left"] = time_left
templates.env.filters["readable"] = readable


async def queues_page(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    filters = QueueFilters.from_query(dict(request.query_params))
    try:
        queues = await visible_queues(get_case_store(request), principal, filters, get_ticketing(request))
    except SQLAlchemyError as error:
        return _store_unavailable(request, principal, error)
    context = {
        "principal": principal,
        "queues": queues,
        "filters": filters,
        "options": filter_options(principal),
    }
    return _page(request, "queues.html", context)


async def queues_fragment(request: Request) -> Response:
    """The queue lists alone, for the page's periodic refresh."""
    principal = await _principal(request)
    if principal is None:
        return Response(status_code=401)
    filters = QueueFilters.from_query(dict(request.query_params))
    try:
        queues = await visible_queues(get_case_store(request), principal, filters, get_ticketing(request))
    except SQLAlchemyError as error:
        log.warning("console_store_unavailable", view="queues_fragment", error=type(error).__name__)
        return Response(status_code=503)  # the script keeps the lists it has and tries again
    return _page(request, "_queues.html", {"principal": principal, "queues": queues, "filters": filters})


def _store_unavailable(request: Request, principal: Principal, error: SQLAlchemyError) -> HTMLResponse:
    log.warning("console_store_unavailable", view=request.url.path, error=type(error).__name__)
    context = {
        "principal": principal,
        "title": "Service unavailable",
        "detail": "The case store cannot be read right now. Cases are safe in their workflows; "
        "reload in a minute.",
    }
    response = _page(request, "error.html", context, 503)
    response.headers["Retry-After"] = "30"
    return response


# --------------------------------------------------------------------------- case view and actions


def _workflow_link(settings: Settings, workflow_id: str) -> str:
    base = settings.temporal_ui_base_url.rstrip("/")
    return f"{base}/namespaces/{settings.temporal_namespace}/workflows/{workflow_id}"


async def _case_page(
    request: Request,
    principal: Principal,
    case_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if not principal.roles & READER_ROLES:
        return _forbidden(
            request,
            principal,
            "Reading cases needs one of the roles agent, safety_reviewer, supervisor, admin.",
        )
    settings, store = get_app_settings(request), get_case_store(request)
    try:
        view = await cases.get_case(
            case_id,
            principal,
            get_temporal_client(request),
            store,
            get_ticketing(request),
            get_safety_database(request),
        )
    except ProblemError as problem:
        context = {"principal": principal, "title": problem.title, "detail": problem.detail}
        return _page(request, "error.html", context, problem.status)
    message: CaseMessage | None = None
    if principal.roles & MESSAGE_ROLES:
        try:
            message = await cases.get_case_message(view.case_id, principal, store)
        except (ProblemError, SQLAlchemyError):
            message = None  # the page says the text is unavailable; the rest still helps
    child: CaseSnapshot | None = view.child
    review_round = child.detail.get("review_round") if child is not None else None
    ticket = view.ticket
    context = {
        "principal": principal,
        "view": view,
        "message": message,
        "can_read_message": bool(principal.roles & MESSAGE_ROLES),
        "report": view.adverse_event_report,
        "ticket": ticket,
        "request_id": uuid.uuid4().hex,
        "review_round": review_round if isinstance(review_round, int) else None,
        "can_decide": bool(principal.roles & SAFETY_ROLES),
        "can_triage": bool(principal.roles & TRIAGE_ROLES),
        "can_ticket": bool(principal.roles & TICKET_ROLES),
        # An escalated case still takes the decision (from a senior reviewer or a supervisor).
        "safety_open": _waiting_in(view, Route.safety_compliance, CaseStatus.awaiting_safety_review),
        "triage_open": _waiting_in(view, Route.human_triage, CaseStatus.awaiting_triage),
        "ticket_open": ticket is not None and ticket.status in ("open", "in_progress"),
        "classification_waiting": view.status is CaseStatus.awaiting_classification,
        "can_route_to_triage": bool(principal.roles & SUPERVISOR_ROLES),
        "categories": list(Category),
        "workflow_link": _workflow_link(settings, view.workflow_id),
        "queues": await _sidebar_queues(store, principal, request),
        "notice": notice,
        "error": error,
    }
    return _page(request, "case.html", context, status_code)


async def _sidebar_queues(store: CaseStore, principal: Principal, request: Request) -> list[Queue]:
    """The person's queues beside the case; without the store the case page still works."""
    try:
        return await visible_queues(store, principal, QueueFilters(), get_ticketing(request))
    except SQLAlchemyError as error:
        log.warning("console_store_unavailable", view="case_sidebar", error=type(error).__name__)
        return []


# The `workflow` name each route's workflow gives its snapshot.
WORKFLOW_OF_ROUTE = {Route.safety_compliance: "safety_compliance", Route.human_triage: "triage"}


def _waiting_in(view: CaseView, route: Route, waiting: CaseStatus) -> bool:
    """The case's current workflow is the route's and waits for a person (or was escalated)."""
    if view.child is not None:
        return view.child.workflow == WORKFLOW_OF_ROUTE[route] and view.child.status in (
            waiting,
            CaseStatus.escalated,
        )
    # No live workflow state (e.g. the message workflow is gone): the stored status decides.
    return view.status is waiting or (view.status is CaseStatus.escalated and view.route is route)


NOTICES = {
    "decided": "Decision recorded.",
    "triaged": "Category recorded.",
    "ticket": "Ticket update sent: the service workflow applies updates in order of arrival.",
    "to_triage": "Sent to human triage: the case appears in the triage queue in a moment.",
}


async def _problem_page(
    request: Request, principal: Principal, case_id: str, problem: ProblemError
) -> Response:
    """The API's answer (409, 404, 503, 504, ...) as an error on the case page, never a silent no-op."""
    error = f"{problem.title}: {problem.detail}"
    return await _case_page(request, principal, case_id, error=error, status_code=problem.status)


async def case_page(request: Request) -> Response:
    case_id, notice = request.path_params["case_id"], request.query_params.get("notice")
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    return await _case_page(request, principal, case_id, notice=NOTICES.get(notice or ""))


async def case_state(request: Request) -> Response:
    """What the case page polls to tell the person that someone else changed the case."""
    principal = await _principal(request)
    if principal is None:
        return Response(status_code=401)
    if not principal.roles & READER_ROLES:
        return Response(status_code=403)
    try:
        case_id = cases.parse_case_id(request.path_params["case_id"])
    except ProblemError:
        return Response(status_code=404)
    ticketing = get_ticketing(request)
    try:
        summary = await get_case_store(request).get_case(case_id)
        ticket = await ticketing.get_ticket(case_id) if ticketing is not None else None
    except SQLAlchemyError as error:
        log.warning("console_store_unavailable", view="case_state", error=type(error).__name__)
        return Response(status_code=503)
    if summary is None:
        return Response(status_code=404)
    body = {
        "status": summary.status.value,
        "updated_at": summary.updated_at.isoformat(),
        "ticket_status": ticket.status if ticket else None,
        "ticket_assignee": ticket.assignee if ticket else None,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


ACTION_ROLES = {"decide": SAFETY_ROLES, "triage": TRIAGE_ROLES, "ticket": TICKET_ROLES}


async def _acting_person(request: Request, allowed: frozenset[Role]) -> Principal | Response:
    """Who posts a case action: signed in, from this console, with one of the `allowed` roles;
    otherwise the answer to send instead (sign-in, or 403)."""
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    if not _same_origin(request):
        return _forbidden(request, principal, "The form was not sent from this console (origin check).")
    if not principal.roles & allowed:
        names = ", ".join(sorted(role.value for role in allowed))
        return _forbidden(request, principal, f"This action needs one of the roles: {names}.")
    return principal


async def _act(request: Request, case_id: str, action: str) -> Response:
    principal = await _acting_person(request, ACTION_ROLES[action])
    if not isinstance(principal, Principal):
        return principal
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str) and value != ""}
    settings, client, store = get_app_settings(request), get_temporal_client(request), get_case_store(request)
    result: CaseSnapshot | Response
    try:
        if action == "decide":
            result = await agent.send_safety_decision(
                client, store, settings, case_id, SafetyDecisionRequest.model_validate(fields), principal
            )
        elif action == "triage":
            result = await agent.send_triage_decision(
                client, store, settings, case_id, TriageDecisionRequest.model_validate(fields), principal
            )
        else:
            result = await agent.send_ticket_update(
                client, store, settings, case_id, TicketUpdateRequest.model_validate(fields), principal
            )
    except ValidationError as invalid:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
        return await _case_page(
            request, principal, case_id, error=f"The form is incomplete: {problems}", status_code=422
        )
    except ProblemError as problem:
        return await _problem_page(request, principal, case_id, problem)
    if not isinstance(result, CaseSnapshot):
        # 202: accepted by the workflow, still being carried out.
        return await _case_page(
            request,
            principal,
            case_id,
            notice="Accepted: the case's workflow is still carrying it out. Reload for the result.",
            status_code=202,
        )
    notice = {"decide": "decided", "triage": "triaged", "ticket": "ticket"}[action]
    return RedirectResponse(f"/console/cases/{result.case_id}?notice={notice}", status_code=303)


async def route_to_triage(request: Request) -> Response:
    """A supervisor hands a case the LLM pool cannot classify (long outage) to human triage."""
    case_id = request.path_params["case_id"]
    principal = await _acting_person(request, SUPERVISOR_ROLES)
    if not isinstance(principal, Principal):
        return principal
    form = await request.form()
    reason = str(form.get("reason") or "").strip()
    if not reason or len(reason) > 2000:
        return await _case_page(
            request, principal, case_id, error="Give a reason (up to 2000 characters).", status_code=422
        )
    settings = get_app_settings(request)
    asked = ReclassifyRequest(
        requested_by=principal.subject,
        reason=redact(reason).text,  # enters the workflow history: redacted like a message
        llm_task_queue=settings.llm_task_queue,
        to_triage=True,
    )
    try:
        result = await admin_reclassify.request_reclassify(get_temporal_client(request), case_id, asked)
    except ProblemError as problem:
        return await _problem_page(request, principal, case_id, problem)
    if result.outcome != "requested":
        detail = "No such case." if result.outcome == "not_found" else "The case is classified already."
        return await _case_page(request, principal, case_id, error=f"Conflict: {detail}", status_code=409)
    return RedirectResponse(f"/console/cases/{result.case_id}?notice=to_triage", status_code=303)


async def decide(request: Request) -> Response:
    return await _act(request, request.path_params["case_id"], "decide")


async def triage(request: Request) -> Response:
    return await _act(request, request.path_params["case_id"], "triage")


async def update_ticket(request: Request) -> Response:
    return await _act(request, request.path_params["case_id"], "ticket")


# Plain Starlette routes, not API operations: HTML pages authenticated by the console cookie,
# outside /openapi.json (the API routes' role declarations and 401/403 problem+json do not apply).
router.add_route("/console/static/console.css", stylesheet, methods=["GET"], include_in_schema=False)
router.add_route("/console/static/console.js", script, methods=["GET"], include_in_schema=False)
router.add_route("/console/login", login_page, methods=["GET"], include_in_schema=False)
router.add_route("/console/login", login, methods=["POST"], include_in_schema=False)
router.add_route("/console/logout", logout, methods=["POST"], include_in_schema=False)
router.add_route("/console", queues_page, methods=["GET"], include_in_schema=False)
router.add_route("/console/queues", queues_fragment, methods=["GET"], include_in_schema=False)
router.add_route("/console/cases/{case_id}", case_page, methods=["GET"], include_in_schema=False)
router.add_route("/console/cases/{case_id}/decision", decide, methods=["POST"], include_in_schema=False)
router.add_route("/console/cases/{case_id}/triage", triage, methods=["POST"], include_in_schema=False)
router.add_route("/console/cases/{case_id}/ticket", update_ticket, methods=["POST"], include_in_schema=False)
router.add_route("/console/cases/{case_id}/state", case_state, methods=["GET"], include_in_schema=False)
router.add_route(
    "/console/cases/{case_id}/to-triage", route_to_triage, methods=["POST"], include_in_schema=False
)
