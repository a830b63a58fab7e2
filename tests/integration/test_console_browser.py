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
from typing import Any
from pathlib import Path

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
                await reviewer.get_by_label("Name").fill("rev-1")
                await reviewer.get_by_label("safety_reviewer").check()
                await reviewer.get_by_role("button", name="Sign in").click()
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
                # The page reads the report, then the workflow: wait until both show the submission.
                submitted = "submitted (safety database reference"
                for _ in range(50):
                    status = (await reviewer.locator("#case-status").inner_text()).strip()
                    report = await reviewer.locator("#ae-report").inner_text()
                    if status in ("submitted", "closed") and submitted in report:
                        break
                    await reviewer.wait_for_timeout(200)
                    await reviewer.reload()
                assert status in ("submitted", "closed"), status
                await expect(reviewer.locator("#ae-report")).to_contain_text(submitted)
                await reviewer.goto(f"{live.base_url}/console")
                await expect(reviewer.locator("#queue-safety")).to_be_visible()
                assert case_id not in await reviewer.locator("#queue-safety").inner_text()

                agent_context = await browser.new_context(viewport={"width": 768, "height": 900})
                agent = await agent_context.new_page()
                await agent.goto(f"{live.base_url}/console/login")
                await agent.get_by_label("Name").fill("agent-7")
                await agent.get_by_label("agent", exact=True).check()
                await agent.get_by_role("button", name="Sign in").click()
                await expect(agent.locator("#queue-triage")).to_be_visible()
                await assert_accessible(agent, "agent queue page at tablet width")
                assert await agent.locator("#queue-safety").count() == 0
                assert case_id not in await agent.content()

                # Two agents see the same open ticket; one picks it up and it leaves the other's
                # queue without a reload (the list refreshes itself).
                other_context = await browser.new_context(viewport={"width": 1280, "height": 900})
                other = await other_context.new_page()
                await other.goto(f"{live.base_url}/console/login")
                await other.get_by_label("Name").fill("agent-8")
                await other.get_by_label("agent", exact=True).check()
                await other.get_by_role("button", name="Sign in").click()
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
                for _ in range(50):
                    if (await agent.locator("#ticket-assignee").inner_text()).strip() == "agent-7":
                        break
                    await agent.wait_for_timeout(200)
                    await agent.reload()
                await expect(agent.locator("#ticket-assignee")).to_have_text("agent-7")
                await agent.get_by_label("Resolve").check()
                await agent.get_by_label("Note").fill("cancelled before shipping")
                await agent.get_by_role("button", name="Update ticket").click()
                # The page reads the ticket, then the workflow: wait until both show the result.
                for _ in range(50):
                    closed = (await agent.locator("#case-status").inner_text()).strip() == "closed"
                    if closed and (await agent.locator("#ticket-status").inner_text()).strip() == "resolved":
                        break
                    await agent.wait_for_timeout(200)
                    await agent.reload()
                await expect(agent.locator("#case-status")).to_have_text("closed")
                await expect(agent.locator("#ticket-status")).to_have_text("resolved")
            finally:
                await browser.close()
