"""Agent console (/console) over the time-skipping server and an in-memory case store: local
sign-in only with the local key, cookie flags, redirects, role filtering, CSRF, 409 as a message."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from api.security import issue_local_token
from core.config import Settings
from core.names import message_workflow_id
from core.redaction import redact
from tests.auth_helpers import auth_settings
from tests.workflows.fake_case_activities import FakeCaseActivities
from tests.workflows.test_agent_api import MemoryCaseStore, start_safety_case
from worker.main import workflow_classes

BASE = "http://console.test"
SAME_ORIGIN = {"Origin": BASE}


@contextlib.asynccontextmanager
async def console(
    env: WorkflowEnvironment, settings: Settings, *, worker: bool = True
) -> AsyncIterator[tuple[httpx.AsyncClient, MemoryCaseStore]]:
    store = MemoryCaseStore()
    app = create_app(settings, env.client, store)  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.temporal = env.client
    app.state.case_store = store
    redact("warm up")
    async with contextlib.AsyncExitStack() as stack:
        if worker:
            await stack.enter_async_context(
                Worker(
                    env.client,
                    task_queue=settings.workflow_task_queue,
                    workflows=workflow_classes(),
                    activities=FakeCaseActivities().definitions(),
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
