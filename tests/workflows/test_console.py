"""Agent console (/console) over the time-skipping server and an in-memory case store: local
sign-in only with the local key, cookie flags, redirects, role filtering, CSRF, 409 as a message."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.console import queues as console_queues
from api.console import router as console_router
from api.main import create_app
from api.security import issue_local_token
from core.config import Settings
from core.models import (
    AdverseEventReport,
    CaseRecord,
    CaseSnapshot,
    CaseStatus,
    CaseSummary,
    CaseView,
    Category,
    Channel,
    Route,
    Ticket,
)
from core.names import child_workflow_id, message_workflow_id
from core.redaction import redact
from core.temporal_client import build_data_converter
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.message import CLASSIFY_PATIENCE
from tests.auth_helpers import auth_settings
from tests.workflows.fake_case_activities import FIXED_NOW, FakeCaseActivities
from tests.workflows.test_agent_api import (
    MemoryCaseStore,
    start_safety_case,
    start_service_case,
    wait_for_status,
)
from worker.main import workflow_classes

BASE = "http://console.test"
SAME_ORIGIN = {"Origin": BASE}


class MemorySystemsOfRecord:
    """The ticketing system and safety database as the API reads them (what tests put there)."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.reports: dict[str, AdverseEventReport] = {}

    async def get_ticket(self, case_id: str) -> Ticket | None:
        return self.tickets.get(case_id)

    async def get_tickets(self, case_ids: Sequence[str]) -> list[Ticket]:
        return [self.tickets[c] for c in case_ids if c in self.tickets]

    async def get_report(self, case_id: str) -> AdverseEventReport | None:
        return self.reports.get(case_id)


@contextlib.asynccontextmanager
async def console(
    env: WorkflowEnvironment,
    settings: Settings,
    *,
    worker: bool = True,
    activities: FakeCaseActivities | None = None,
    systems: MemorySystemsOfRecord | None = None,
    store: MemoryCaseStore | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, MemoryCaseStore]]:
    store = store or MemoryCaseStore()
    app = create_app(settings, env.client, store)  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.temporal = env.client
    app.state.case_store = store
    app.state.ticketing = systems
    app.state.safety_database = systems
    redact("warm up")
    async with contextlib.AsyncExitStack() as stack:
        if worker:
            await stack.enter_async_context(
                Worker(
                    env.client,
                    task_queue=settings.workflow_task_queue,
                    workflows=workflow_classes(),
                    activities=(activities or FakeCaseActivities()).definitions(),
                )
            )
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        )
        yield http, store


@pytest.fixture
def local_settings(queues_settings: Settings, tmp_path: Path) -> Settings:
    """Local signing-key mode: no identity provider key set configured."""
    return queues_settings.model_copy(update={"auth_local_key_dir": tmp_path / "auth"})


def cookie(settings: Settings, subject: str, *roles: str) -> dict[str, str]:
    return {"Cookie": f"cc_console={issue_local_token(settings, subject, roles, 600)}"}


async def test_local_sign_in_sets_a_strict_httponly_cookie_and_is_absent_with_an_identity_provider(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    async with console(time_skipping_env, local_settings, worker=False) as (http, _):
        assert (await http.get("/console/login")).status_code == 200
        signed_in = await http.post(
            "/console/login",
            data={"name": "rev-1", "roles": ["safety_reviewer", "agent"]},
            headers=SAME_ORIGIN,
        )
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/console"
        set_cookie = signed_in.headers["set-cookie"]
        assert set_cookie.startswith("cc_console=")
        flags = {part.strip().lower() for part in set_cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/console"} <= flags
        token = set_cookie.split(";")[0].split("=", 1)[1]
        page = await http.get("/console", headers={"Cookie": f"cc_console={token}"})
        assert page.status_code == 200
        assert "rev-1" in page.text and "Safety review" in page.text
        # A login form posted from another site is refused (login CSRF).
        forged = await http.post(
            "/console/login",
            data={"name": "x", "roles": ["supervisor"]},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        out = await http.post("/console/logout", headers=SAME_ORIGIN)
        assert out.status_code == 303 and 'cc_console=""' in out.headers["set-cookie"]
    idp_settings = local_settings.model_copy(update=auth_settings())
    async with console(time_skipping_env, idp_settings, worker=False) as (http, _):
        assert (await http.get("/console/login")).status_code == 404
        refused = await http.post(
            "/console/login", data={"name": "x", "roles": ["supervisor"]}, headers=SAME_ORIGIN
        )
        assert refused.status_code == 404 and "set-cookie" not in refused.headers


async def test_pages_without_a_valid_cookie_redirect_to_the_sign_in(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    async with console(time_skipping_env, local_settings, worker=False) as (http, _):
        for path in ("/console", f"/console/cases/{uuid.uuid4()}"):
            for headers in ({}, {"Cookie": "cc_console=not-a-token"}):
                answer = await http.get(path, headers=headers)
                assert answer.status_code == 303, (path, headers)
                assert answer.headers["location"] == "/console/login"
        # A token signed by another key (e.g. another deployment) is no credential here.
        other = local_settings.model_copy(
            update={"auth_local_key_dir": local_settings.auth_local_key_dir / "x"}
        )
        assert (await http.get("/console", headers=cookie(other, "rev-1", "supervisor"))).status_code == 303
        assert (await http.get("/console/queues")).status_code == 401


async def test_roles_filter_queues_on_the_server_csrf_is_refused_and_a_409_is_shown(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    async with console(time_skipping_env, local_settings) as (http, store):
        case_id = await start_safety_case(time_skipping_env, local_settings, store)
        reviewer = cookie(local_settings, "rev-1", "safety_reviewer")
        agent = cookie(local_settings, "agent-7", "agent")

        seen = await http.get("/console", headers=reviewer)
        assert case_id in seen.text and 'id="queue-safety"' in seen.text
        assert "form-action 'self'" in seen.headers["Content-Security-Policy"]
        assert seen.headers["Referrer-Policy"] == "same-origin"  # else browsers send `Origin: null`
        for path in ("/console", "/console/queues"):
            page = await http.get(path, headers=agent)
            assert page.status_code == 200
            assert case_id not in page.text and 'id="queue-safety"' not in page.text
            assert 'id="queue-triage"' in page.text

        form = {"decision": "confirm", "reason": "checked", "review_round": "1"}
        url = f"/console/cases/{case_id}/decision"
        forbidden = await http.post(url, data=form, headers={**agent, **SAME_ORIGIN})
        assert forbidden.status_code == 403
        agent_view = await http.get(f"/console/cases/{case_id}", headers=agent)
        assert agent_view.status_code == 200 and 'action="' + url not in agent_view.text

        for bad in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}):
            csrf = await http.post(url, data=form, headers={**reviewer, **bad})
            assert csrf.status_code == 403, bad
            assert "origin check" in csrf.text

        view = await http.get(f"/console/cases/{case_id}", headers=reviewer)
        assert view.status_code == 200 and 'action="' + url in view.text
        link = f"http://127.0.0.1:8233/namespaces/default/workflows/{message_workflow_id(case_id)}"
        assert f'href="{link}"' in view.text

        stale = await http.post(url, data={**form, "review_round": "2"}, headers={**reviewer, **SAME_ORIGIN})
        assert stale.status_code == 409
        assert 'class="message error"' in stale.text and "stale decision" in stale.text

        done = await http.post(
            url, data=form, headers={**reviewer, "Referer": f"{BASE}/console/cases/{case_id}"}
        )
        assert done.status_code == 303, done.text
        shown = await http.get(done.headers["location"], headers=reviewer)
        assert "Decision recorded." in shown.text
        duplicate = await http.post(url, data=form, headers={**reviewer, **SAME_ORIGIN})
        assert duplicate.status_code == 409 and 'class="message error"' in duplicate.text


def _record(
    case_id: str,
    status: CaseStatus,
    category: Category | None = None,
    route: Route | None = None,
    *,
    channel: Channel = Channel.chat,
    text: str = "a case",
    received_at: datetime = FIXED_NOW,
) -> CaseRecord:
    return CaseRecord(
        case_id=case_id,
        message_id=f"m-{case_id}",
        workflow_id=f"case-{case_id}",
        channel=channel,
        redacted_text=text,
        received_at=received_at,
        status=status,
        category=category,
        route=route,
    )


PUBLIC_CONSOLE_PATHS = {"/console/login", "/console/static/console.css", "/console/static/console.js"}
CONSOLE_ROUTES = sorted(
    (method, route.path)
    for route in console_router.router.routes
    for method in getattr(route, "methods", None) or ()
    if method != "HEAD" and route.path not in PUBLIC_CONSOLE_PATHS
)


async def test_every_console_route_needs_the_cookie_and_every_post_the_origin(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    """Over the router's own route list, so a route added later is covered without editing this."""
    assert len(CONSOLE_ROUTES) >= 8, CONSOLE_ROUTES
    supervisor = cookie(local_settings, "sup-1", "supervisor")
    async with console(time_skipping_env, local_settings, worker=False) as (http, _):
        for method, path in CONSOLE_ROUTES:
            url = path.replace("{case_id}", str(uuid.uuid4()))
            anonymous = await http.request(method, url, headers=SAME_ORIGIN)
            if method == "GET" and path in ("/console/queues", "/console/cases/{case_id}/state"):
                assert anonymous.status_code == 401, (method, path)  # polled by the script
            elif path == "/console/logout":
                assert anonymous.status_code == 303  # signing out needs no session, only the origin
            else:
                assert anonymous.status_code == 303, (method, path)
                assert anonymous.headers["location"] == "/console/login"
            if method == "POST":
                cross_site = await http.request(
                    method, url, headers={**supervisor, "Origin": "https://x.example"}
                )
                assert cross_site.status_code == 403, (method, path)


async def test_filters_paging_and_the_case_view_with_message_report_and_role_limited_text(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    systems = MemorySystemsOfRecord()
    async with console(time_skipping_env, local_settings, systems=systems) as (http, store):
        safety_case = await start_safety_case(time_skipping_env, local_settings, store)
        systems.reports[safety_case] = AdverseEventReport(
            report_id="AER-1",
            case_id=safety_case,
            day_zero=FIXED_NOW,
            criteria_present=["identifiable_patient", "suspect_product", "adverse_event"],
            criteria_missing=["identifiable_reporter"],
            seriousness=["hospitalisation"],
            serious=True,
            regulatory_due_date=date(2026, 12, 10),
        )
        triage_cases = [str(uuid.uuid4()) for _ in range(3)]
        for n, case_id in enumerate(triage_cases):
            store.add(
                _record(
                    case_id,
                    CaseStatus.awaiting_triage,
                    channel=Channel.email if n else Channel.voice,
                    text=f"triage message {n} <script>alert({n})</script>",
                    received_at=FIXED_NOW + timedelta(minutes=n),
                )
            )
        waiting = str(uuid.uuid4())
        store.add(_record(waiting, CaseStatus.awaiting_classification, text="no classification yet"))
        supervisor = cookie(local_settings, "sup-1", "supervisor")
        # While the LLM pool is down, supervisors see what waits unclassified; others do not.
        everything = await http.get("/console", headers=supervisor)
        assert waiting in everything.text.split('id="queue-classification"')[1]
        for role in ("agent", "safety_reviewer"):
            assert waiting not in (await http.get("/console", headers=cookie(local_settings, "p", role))).text

        email_only = await http.get("/console?channel=email", headers=supervisor)
        assert email_only.status_code == 200
        assert safety_case not in email_only.text and triage_cases[0] not in email_only.text
        assert triage_cases[1] in email_only.text and triage_cases[2] in email_only.text
        assert '<option value="email" selected>' in email_only.text
        # The live refresh keeps the filters.
        assert 'data-refresh="/console/queues?channel=email"' in email_only.text
        refreshed = await http.get("/console/queues?channel=email", headers=supervisor)
        assert safety_case not in refreshed.text and triage_cases[1] in refreshed.text

        triage_only = await http.get("/console?status=awaiting_triage", headers=supervisor)
        assert 'id="queue-triage"' in triage_only.text and 'id="queue-safety"' not in triage_only.text
        # A value the console does not know is ignored rather than an error (old bookmarks).
        unknown = await http.get("/console?channel=fax&status=nope&offset=-3", headers=supervisor)
        assert unknown.status_code == 200 and safety_case in unknown.text

        monkeypatch.setattr(console_queues, "QUEUE_LIMIT", 2)
        first = await http.get("/console?status=awaiting_triage", headers=supervisor)
        assert "showing 2 of 3" in first.text
        next_link = "/console?status=awaiting_triage&amp;queue=triage&amp;offset=2"
        assert next_link in first.text
        second = await http.get(next_link.replace("&amp;", "&"), headers=supervisor)
        listed = [c for c in triage_cases if c in second.text.split('id="queue-triage"')[1]]
        assert len(listed) == 1

        reviewer = cookie(local_settings, "rev-1", "safety_reviewer")
        view = await http.get(f"/console/cases/{safety_case}", headers=reviewer)
        assert view.status_code == 200
        assert 'id="message-text"' in view.text and "rash after tablets" in view.text
        report = view.text.split('id="ae-report"')[1].split("</dl>")[0]
        assert "identifiable_reporter" in report and "serious: hospitalisation" in report
        assert "2026-12-10" in report
        # Admins operate the service; they read cases but not what customers wrote.
        admin_view = await http.get(
            f"/console/cases/{safety_case}", headers=cookie(local_settings, "ops", "admin")
        )
        assert admin_view.status_code == 200
        assert "rash after tablets" not in admin_view.text
        assert "Your roles do not include reading message content." in admin_view.text

        # Customer text is data, never markup (autoescaped templates).
        triage_view = await http.get(f"/console/cases/{triage_cases[1]}", headers=supervisor)
        assert "triage message 1 &lt;script&gt;alert(1)&lt;/script&gt;" in triage_view.text
        assert "<script>alert" not in triage_view.text

        state = await http.get(f"/console/cases/{safety_case}/state", headers=reviewer)
        assert state.status_code == 200
        assert state.json()["status"] == "awaiting_safety_review" and state.json()["ticket_status"] is None
        assert (await http.get(f"/console/cases/{uuid.uuid4()}/state", headers=reviewer)).status_code == 404
        assert (await http.get("/console/cases/not-a-uuid/state", headers=reviewer)).status_code == 404


def _ticket(case_id: str, assignee: str | None, status: str = "open") -> Ticket:
    return Ticket.model_validate(
        {
            "ticket_id": f"TCK-{case_id[:6]}",
            "case_id": case_id,
            "kind": "cancel_order",
            "status": status,
            "priority": "normal",
            "assignee": assignee,
            "order_numbers": ["12345"],
            "sla_due_at": FIXED_NOW,
            "created_at": FIXED_NOW,
            "updated_at": FIXED_NOW,
        }
    )


async def test_ticket_actions_go_to_the_service_workflow_and_a_taken_ticket_leaves_other_queues(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    env = time_skipping_env
    activities = FakeCaseActivities()
    systems = MemorySystemsOfRecord()
    async with console(env, local_settings, activities=activities, systems=systems) as (http, store):
        case_id = await start_service_case(env, local_settings.workflow_task_queue)
        store.add(
            _record(
                case_id, CaseStatus.awaiting_agent, Category.service_action, text="please cancel order 12345"
            )
        )
        await wait_for_status(env, child_workflow_id(case_id, "service_action"), CaseStatus.awaiting_agent)
        systems.tickets[case_id] = _ticket(case_id, None)
        alice, bob = cookie(local_settings, "alice", "agent"), cookie(local_settings, "bob", "agent")
        supervisor = cookie(local_settings, "sup-1", "supervisor")
        assert case_id in (await http.get("/console", headers=bob)).text

        view = await http.get(f"/console/cases/{case_id}", headers=alice)
        assert 'id="ticket-status">open<' in view.text
        form_action = f'action="/console/cases/{case_id}/ticket"'
        assert form_action in view.text
        request_id = view.text.split('name="request_id" value="')[1].split('"')[0]
        picked = await http.post(
            f"/console/cases/{case_id}/ticket",
            data={"action": "pick_up", "note": "on it", "request_id": request_id},
            headers={**alice, **SAME_ORIGIN},
        )
        assert picked.status_code == 303, picked.text
        assert picked.headers["location"] == f"/console/cases/{case_id}?notice=ticket"
        # The acting person is the signed-in one: the workflow applies it as alice's change.
        for _ in range(100):
            if activities.ticket_changes:
                break
            await asyncio.sleep(0.05)
        assert activities.ticket_changes[0].assignee == "alice"

        # What the ticketing system now says: taken by alice, so gone from bob's queue only.
        systems.tickets[case_id] = _ticket(case_id, "alice", "in_progress")
        assert case_id not in (await http.get("/console/queues", headers=bob)).text
        assert case_id in (await http.get("/console/queues", headers=alice)).text
        assert case_id in (await http.get("/console/queues", headers=supervisor)).text
        changed = await http.get(f"/console/cases/{case_id}/state", headers=bob)
        assert changed.json()["ticket_assignee"] == "alice"

        incomplete = await http.post(
            f"/console/cases/{case_id}/ticket", data={"note": "x"}, headers={**alice, **SAME_ORIGIN}
        )
        assert incomplete.status_code == 422 and "The form is incomplete" in incomplete.text
        reviewer_only = cookie(local_settings, "rev-1", "safety_reviewer")
        refused = await http.post(
            f"/console/cases/{case_id}/ticket",
            data={"action": "resolve"},
            headers={**reviewer_only, **SAME_ORIGIN},
        )
        assert refused.status_code == 403

        resolved = await http.post(
            f"/console/cases/{case_id}/ticket",
            data={"action": "resolve", "note": "cancelled"},
            headers={**alice, **SAME_ORIGIN},
        )
        assert resolved.status_code == 303
        service = env.client.get_workflow_handle(
            child_workflow_id(case_id, "service_action"), result_type=CaseSnapshot
        )
        assert (await service.result()).status is CaseStatus.closed
        # The ticket is closed: a late update is a clear 409 on the page, not a silent no-op.
        late = await http.post(
            f"/console/cases/{case_id}/ticket",
            data={"action": "comment", "note": "x"},
            headers={**alice, **SAME_ORIGIN},
        )
        assert late.status_code == 409 and 'class="message error"' in late.text
        assert "already closed" in late.text


def test_decision_path_values_read_as_text_not_python_reprs() -> None:
    readable = console_router.readable
    assert readable({"informational": 0.029999999999999995, "safety_compliance": 0.92}) == (
        "informational: 0.03, safety_compliance: 0.92"
    )
    findings = [{"signal": "adverse_reaction", "language": "en", "evidence": "rash"}]
    assert readable(findings) == "signal: adverse_reaction, language: en, evidence: rash"
    assert (readable([]), readable(True), readable(None), readable(0.0), readable(1.0)) == (
        "none",
        "yes",
        "-",
        "0",
        "1",
    )


async def test_a_supervisor_sends_a_case_the_llm_pool_cannot_classify_to_triage(
    local_settings: Settings,
) -> None:
    """LLM pool down for good: the case waits as awaiting_classification; from the console a
    supervisor hands it to human triage (an agent may not), and triage then holds it."""
    from tests.workflows.test_message_workflow import FakeBackend, classified, running_worker, start

    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(Settings()), test_server_existing_path=str(TEMPORAL_TEST_SERVER)
    )
    try:
        async with (
            console(env, local_settings, worker=False) as (http, _),
            running_worker(env.client, local_settings, FakeBackend(fail_times=1000)),
        ):
            handle = await start(env.client, local_settings, "my tablets look different this time")
            await env.sleep(CLASSIFY_PATIENCE + timedelta(minutes=1))
            case_id = handle.id.removeprefix("case-")
            url = f"/console/cases/{case_id}/to-triage"
            supervisor = cookie(local_settings, "sup-1", "supervisor")
            view = await http.get(f"/console/cases/{case_id}", headers=supervisor)
            assert 'id="case-status">awaiting_classification<' in view.text
            assert f'action="{url}"' in view.text
            agent = cookie(local_settings, "agent-7", "agent")
            assert f'action="{url}"' not in (await http.get(f"/console/cases/{case_id}", headers=agent)).text
            assert (
                await http.post(url, data={"reason": "x"}, headers={**agent, **SAME_ORIGIN})
            ).status_code == 403
            no_reason = await http.post(url, data={"reason": " "}, headers={**supervisor, **SAME_ORIGIN})
            assert no_reason.status_code == 422

            sent = await http.post(
                url, data={"reason": "LLM pool down for hours"}, headers={**supervisor, **SAME_ORIGIN}
            )
            assert sent.status_code == 303, sent.text
            assert sent.headers["location"] == f"/console/cases/{case_id}?notice=to_triage"
            outcome = await classified(handle)
            assert outcome.route is Route.human_triage
            step = next(s for s in outcome.decision_path if s.step == "reclassify_requested")
            assert (step.actor, step.decision) == ("operator:sup-1", "to_triage")
            # Classified now (by people): a second send is a clear conflict, not a silent no-op.
            again = await http.post(url, data={"reason": "again"}, headers={**supervisor, **SAME_ORIGIN})
            assert again.status_code == 409 and "classified already" in again.text
            await env.client.get_workflow_handle(outcome.child_workflow_id or "").terminate("test done")
            await handle.terminate("test done")
    finally:
        await env.shutdown()


async def test_escalated_cases_stay_in_the_queue_of_the_people_who_do_the_work(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    """An escalation tells a supervisor; it must not take a safety review or a ticket away from
    the reviewers and agents (before this, an overdue review vanished from the reviewers' queue)."""
    async with console(time_skipping_env, local_settings) as (http, store):
        safety_case = await start_safety_case(time_skipping_env, local_settings, store)
        reviewer = cookie(local_settings, "rev-1", "safety_reviewer")
        escalate = {"decision": "escalate", "reason": "needs a physician", "review_round": "1"}
        sent = await http.post(
            f"/console/cases/{safety_case}/decision", data=escalate, headers={**reviewer, **SAME_ORIGIN}
        )
        assert sent.status_code == 303, sent.text
        # The workflow escalated the case into round 2, where a decision is still taken.
        safety = time_skipping_env.client.get_workflow_handle(
            child_workflow_id(safety_case, "safety_compliance")
        )
        state = await safety.query("state", result_type=CaseSnapshot)
        assert state.status is CaseStatus.escalated and state.detail["review_round"] == 2
        confirm = {"decision": "confirm", "reason": "physician agrees", "review_round": "2"}
        decided = await http.post(
            f"/console/cases/{safety_case}/decision", data=confirm, headers={**reviewer, **SAME_ORIGIN}
        )
        assert decided.status_code == 303, decided.text

        escalated_safety, escalated_ticket, escalated_triage = (str(uuid.uuid4()) for _ in range(3))
        store.add(
            _record(
                escalated_safety, CaseStatus.escalated, Category.safety_compliance, Route.safety_compliance
            )
        )
        store.add(
            _record(escalated_ticket, CaseStatus.escalated, Category.service_action, Route.service_action)
        )
        store.add(
            _record(escalated_triage, CaseStatus.escalated, Category.safety_compliance, Route.human_triage)
        )
        waiting = _record(
            str(uuid.uuid4()), CaseStatus.awaiting_triage, Category.safety_compliance, Route.human_triage
        )
        store.add(waiting)

        def section(page: str, key: str) -> str:
            return (
                page.split(f'id="queue-{key}"')[1].split("</section>")[0]
                if f'id="queue-{key}"' in page
                else ""
            )

        reviewer_page = (await http.get("/console", headers=reviewer)).text
        assert escalated_safety in section(reviewer_page, "safety")
        assert "escalated</strong>" in section(reviewer_page, "safety")
        assert escalated_ticket not in reviewer_page and escalated_triage not in reviewer_page
        agent_page = (await http.get("/console", headers=cookie(local_settings, "agent-7", "agent"))).text
        assert escalated_ticket in section(agent_page, "service")
        # Listed first: the triage queue also holds a case waiting normally.
        triage_rows = section(agent_page, "triage").split("<tr")
        assert escalated_triage in triage_rows[2], "the escalated case is the first row after the header"
        assert escalated_triage in section(agent_page, "triage")
        assert escalated_safety not in agent_page
        # Supervisors see every escalation in one list too.
        supervisor_page = (
            await http.get("/console", headers=cookie(local_settings, "sup-1", "supervisor"))
        ).text
        escalations = section(supervisor_page, "escalated")
        assert all(c in escalations for c in (escalated_safety, escalated_ticket, escalated_triage))
        # The stored status decides when no live workflow state is available.
        fallback = await http.get(f"/console/cases/{escalated_safety}", headers=reviewer)
        assert f'action="/console/cases/{escalated_safety}/decision"' in fallback.text


def test_decision_forms_follow_the_live_workflow_escalated_included() -> None:
    def view(workflow: str | None, status: CaseStatus, route: Route = Route.safety_compliance) -> CaseView:
        child = None if workflow is None else CaseSnapshot(case_id="c", workflow=workflow, status=status)
        return CaseView(
            case_id="c",
            workflow_id="case-c",
            status=status,
            category=Category.safety_compliance,
            confidence=0.9,
            route=route,
            next_step=None,
            decision_path=[],
            child=child,
        )

    waiting_in = console_router._waiting_in
    review = CaseStatus.awaiting_safety_review
    assert waiting_in(view("safety_compliance", CaseStatus.escalated), Route.safety_compliance, review)
    assert waiting_in(view("safety_compliance", review), Route.safety_compliance, review)
    # Rerouted by a reviewer: the live workflow is the new category's, not the safety review.
    assert not waiting_in(view("informational", CaseStatus.escalated), Route.safety_compliance, review)
    assert not waiting_in(view("safety_compliance", CaseStatus.closed), Route.safety_compliance, review)
    triage = CaseStatus.awaiting_triage
    assert waiting_in(view("triage", CaseStatus.escalated, Route.human_triage), Route.human_triage, triage)
    assert waiting_in(view(None, CaseStatus.escalated, Route.human_triage), Route.human_triage, triage)
    assert not waiting_in(view(None, CaseStatus.escalated, Route.service_action), Route.human_triage, triage)


class UnreachableCaseStore(MemoryCaseStore):
    """The case store's database is down: every read raises what SQLAlchemy raises then."""

    async def list_cases(self, **_: object) -> tuple[list[CaseSummary], int]:  # type: ignore[override]
        raise OperationalError("SELECT cases", {}, ConnectionRefusedError("database is down"))

    async def get_case(self, case_id: str) -> CaseSummary | None:
        raise OperationalError("SELECT cases", {}, ConnectionRefusedError("database is down"))


async def test_a_case_store_outage_is_a_clear_503_not_a_crash(
    time_skipping_env: WorkflowEnvironment, local_settings: Settings
) -> None:
    down = UnreachableCaseStore()
    async with console(time_skipping_env, local_settings, worker=False, store=down) as (http, _):
        supervisor = cookie(local_settings, "sup-1", "supervisor")
        page = await http.get("/console", headers=supervisor)
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "The case store cannot be read right now" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert (await http.get("/console/queues", headers=supervisor)).status_code == 503
        assert (await http.get(f"/console/cases/{uuid.uuid4()}/state", headers=supervisor)).status_code == 503
