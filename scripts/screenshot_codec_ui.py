"""Screenshot of the Temporal Web UI decoding a case through the codec server (docs/img/).

Against a running `make run` stack: signs in at the codec server's /session with an agent
token (the documented local path), sets the UI's codec option "include cross-origin
credentials" the way its settings dialog stores it, opens the case workflow and saves a PNG.

    python -m scripts.screenshot_codec_ui --workflow-id case-... --out docs/img/web-ui-decoded.png
"""

from __future__ import annotations

import argparse
import json
import logging

from playwright.sync_api import sync_playwright

from api.security import issue_local_token
from core.config import get_settings

log = logging.getLogger("screenshot")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflow-id", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    settings = get_settings()
    codec = f"http://{settings.codec_server_host}:{settings.codec_server_port}"
    ui = settings.codec_ui_origin
    token = issue_local_token(settings, "agent-screenshot", ["agent"], 600)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{codec}/session")
        page.fill("textarea[name=token]", token)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Signed in as")
        page.goto(ui)
        for key, value in {
            "endpoint": codec,
            "includeCredentials": True,
            "overrideRemoteCodecConfiguration": True,
            "passAccessToken": False,
        }.items():
            page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, json.dumps(value)])
        page.goto(
            f"{ui}/namespaces/{settings.temporal_namespace}/workflows/{args.workflow_id}/{args.run_id}/history"
        )
        page.wait_for_timeout(8000)
        page.screenshot(path=args.out, full_page=False)
        log.info("saved %s", args.out)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
