"""The agent console in a real browser (Chromium via Playwright) against the live stack: the app
on a socket, the dev server, real workers, PostgreSQL, the classifier on the fake backend.

A safety reviewer signs in, opens the oldest safety case, confirms it, and the case leaves the
queue; an agent without the reviewer role never sees the safety queue.
`CC_WRITE_SCREENSHOTS=1` saves docs/img/console-queue.png and docs/img/console-case.png.
"""

from __future__ import annotations

import os
import uuid
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
                if write_screenshots:
                    await reviewer.screenshot(path=str(SCREENSHOTS / "console-queue.png"), full_page=True)
                # Oldest obligation first: the first row is the case just posted (the schema is fresh).
                await rows.first.get_by_role("link").click()
                await expect(reviewer.locator("h1")).to_contain_text(case_id)
                await reviewer.get_by_label("Confirm adverse event").check()
                await reviewer.get_by_label("Reason").fill("rash after starting the tablets; criteria met")
                if write_screenshots:
                    await reviewer.screenshot(path=str(SCREENSHOTS / "console-case.png"), full_page=True)
                await reviewer.get_by_role("button", name="Send decision").click()
                await expect(reviewer.locator(".message.notice")).to_contain_text("Decision recorded")
                for _ in range(50):
                    status = (await reviewer.locator("#case-status").inner_text()).strip()
                    if status in ("submitted", "closed"):
                        break
                    await reviewer.wait_for_timeout(200)
                    await reviewer.reload()
                assert status in ("submitted", "closed"), status
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
                assert await agent.locator("#queue-safety").count() == 0
                assert case_id not in await agent.content()
            finally:
                await browser.close()
