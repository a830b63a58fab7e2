"""The agent console in a real browser (Chromium via Playwright) against the live stack: the app
on a socket, the dev server, real workers, PostgreSQL, the classifier on the fake backend.

A safety reviewer signs in, opens the oldest safety case, confirms it, and the case leaves the
queue; an agent without the reviewer role never sees the safety queue.
Two agents share the open tickets: one picks a ticket up and it leaves the other's queue without a
reload, then resolves it. `CC_WRITE_SCREENSHOTS=1` saves docs/img/console-queue.png,
console-case.png and console-ticket.png.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api.security import issue_local_token
from core.config import Settings
from tests.conftest import TEST_POLICY
from tests.integration.live_stack import serve_live_stack
from worker.main import load_pipeline

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
]


async def assert_accessible(page: Any, where: str) -> None:
    """axe-core (the engine behind Lighthouse's audit) over the rendered page: WCAG 2.1 A and AA
    rules, colour contrast included; any violation fails with its rule and elements."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    )
    found = [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    assert not found, f"{where}: {found}"


async def sign_in(page: Any, base_url: str, name: str, role: str) -> None:
    """The local development sign-in, as a person does it."""
    if not page.url.endswith("/console/login"):
        await page.goto(f"{base_url}/console/login")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label(role, exact=True).check()
    await page.get_by_role("button", name="Sign in").click()


async def reload_until(page: Any, shows: Callable[[], Awaitable[bool]], attempts: int = 50) -> None:
    """The case page reads the systems of record, then the workflow: reload until both caught up."""
    for _ in range(attempts):
        if await shows():
            return
        await page.wait_for_timeout(200)
        await page.reload()


async def text_of(page: Any, selector: str) -> str:
    return str(await page.locator(selector).inner_text()).strip()


async def test_a_reviewer_confirms_the_oldest_safety_case_and_an_agent_never_sees_the_queue(
    dev_server_env: WorkflowEnvironment, pg_engine: AsyncEngine, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"wf-{suffix}",
        llm_task_queue=f"llm-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
        rate_limit_enabled=False,
        auth_local_key_dir=tmp_path / "auth",  # local signing-key mode: the sign-in page exists
    )
    write_screenshots = os.environ.get("CC_WRITE_SCREENSHOTS") == "1"
    async with serve_live_stack(dev_server_env.client, settings, pg_engine, load_pipeline(settings)) as live:
        intake = {"Authorization": f"Bearer {issue_local_token(settings, 'chat-gw', ['intake'], 600)}"}
        posted = await live.http.post(
            "/v1/messages",
            json={"text": "Since starting the tablets I have a rash on my arms", "channel": "chat"},
            headers=intake,
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["route"] == "safety_compliance", posted.text
        case_id = posted.json()["case_id"]
        service = await live.http.post(
            "/v1/messages",
            json={"text": "Please cancel order 88231, it has not shipped yet", "channel": "email"},
            headers=intake,
        )
        assert service.status_code == 200, service.text
        assert service.json()["route"] == "service_action", service.text
        service_case = service.json()["case_id"]

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
            try:
                reviewer = await browser.new_page(viewport={"width": 1280, "height": 900})
                await reviewer.goto(f"{live.base_url}/console")
                assert reviewer.url.endswith("/console/login")  # no cookie: sign in first
                await sign_in(reviewer, live.base_url, "rev-1", "safety_reviewer")
                safety = reviewer.locator("#queue-safety")
                await expect(safety).to_be_visible()
                rows = safety.locator("tbody tr")
                await expect(rows.first).to_be_visible()
                await assert_accessible(reviewer, "queue page")
                if write_screenshots:
                    await reviewer.screenshot(path=str(SCREENSHOTS / "console-queue.png"), full_page=True)
                # Oldest obligation first: the first row is the case just posted (the schema is fresh).
                await rows.first.get_by_role("link").click()
                await expect(reviewer.locator("h1")).to_contain_text(case_id)
                # The conversation and its context: the redacted message and the report's criteria.
                await expect(reviewer.locator("#message-text")).to_contain_text("rash on my arms")
                await expect(reviewer.locator("#ae-report")).to_contain_text("Minimum criteria missing")
                await assert_accessible(reviewer, "safety case page")
                await reviewer.get_by_label("Confirm adverse event").check()
                await reviewer.get_by_label("Reason").fill("rash after starting the tablets; criteria met")
                if write_screenshots:
                    await reviewer.screenshot(path=str(SCREENSHOTS / "console-case.png"), full_page=True)
                await reviewer.get_by_role("button", name="Send decision").click()
                await expect(reviewer.locator("#outcome-notice")).to_contain_text("Decision recorded")
                submitted = "submitted (safety database reference"

                async def report_submitted() -> bool:
                    status = await text_of(reviewer, "#case-status")
                    return status in ("submitted", "closed") and submitted in await text_of(
                        reviewer, "#ae-report"
                    )

                await reload_until(reviewer, report_submitted)
                assert await text_of(reviewer, "#case-status") in ("submitted", "closed")
                await expect(reviewer.locator("#ae-report")).to_contain_text(submitted)
                await reviewer.goto(f"{live.base_url}/console")
                await expect(reviewer.locator("#queue-safety")).to_be_visible()
                assert case_id not in await reviewer.locator("#queue-safety").inner_text()

                agent_context = await browser.new_context(viewport={"width": 768, "height": 900})
                agent = await agent_context.new_page()
                await sign_in(agent, live.base_url, "agent-7", "agent")
                await expect(agent.locator("#queue-triage")).to_be_visible()
                await assert_accessible(agent, "agent queue page at tablet width")
                assert await agent.locator("#queue-safety").count() == 0
                assert case_id not in await agent.content()

                # Two agents see the same open ticket; one picks it up and it leaves the other's
                # queue without a reload (the list refreshes itself).
                other_context = await browser.new_context(viewport={"width": 1280, "height": 900})
                other = await other_context.new_page()
                await sign_in(other, live.base_url, "agent-8", "agent")
                await expect(other.locator("#queue-service")).to_contain_text(service_case, timeout=20_000)
                await agent.reload()
                await expect(agent.locator("#queue-service")).to_contain_text(service_case, timeout=20_000)
                # Keyboard: j walks the case links.
                await agent.keyboard.press("j")
                assert await agent.evaluate("document.activeElement.classList.contains('case-link')")
                await agent.locator("#queue-service").get_by_role("link", name=service_case).click()
                await expect(agent.locator("#message-text")).to_contain_text("cancel order 88231")
                await expect(agent.locator("#ticket-status")).to_have_text("open")
                await assert_accessible(agent, "ticket case page at tablet width")
                await agent.get_by_label("Pick up (assign to me)").check()
                await agent.get_by_label("Note").fill("calling the warehouse")
                if write_screenshots:
                    await agent.screenshot(path=str(SCREENSHOTS / "console-ticket.png"), full_page=True)
                await agent.get_by_role("button", name="Update ticket").click()
                await expect(agent.locator("#outcome-notice")).to_contain_text("Ticket update sent")
                await expect(other.locator("#queue-service")).not_to_contain_text(
                    service_case, timeout=20_000
                )

                async def picked_up() -> bool:
                    return await text_of(agent, "#ticket-assignee") == "agent-7"

                await reload_until(agent, picked_up)
                await expect(agent.locator("#ticket-assignee")).to_have_text("agent-7")
                await agent.get_by_label("Resolve").check()
                await agent.get_by_label("Note").fill("cancelled before shipping")
                await agent.get_by_role("button", name="Update ticket").click()

                async def resolved() -> bool:
                    closed = await text_of(agent, "#case-status") == "closed"
                    return closed and await text_of(agent, "#ticket-status") == "resolved"

                await reload_until(agent, resolved)
                await expect(agent.locator("#case-status")).to_have_text("closed")
                await expect(agent.locator("#ticket-status")).to_have_text("resolved")
            finally:
                await browser.close()
