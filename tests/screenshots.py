"""Regenerate the dashboard screenshots in docs/ (shown in the README):

    python3 -m tests.screenshots

Starts the mock, sends a few requests (one of them invalid), and photographs each view in
Debian's Chromium, plus the journal in dark mode."""

from __future__ import annotations

import requests

from tests.browser import chromium
from tests.conftest import HEADERS, ROOT, SMTP_PATH, start_server, valid_body

DOCS = ROOT / "docs"


def main() -> None:
    server = start_server("--quiet")
    try:
        url = server.url + SMTP_PATH
        requests.post(url, json=valid_body(), headers=HEADERS, timeout=10)
        requests.post(url, json=valid_body(port="587x", name=""), headers=HEADERS, timeout=10)
        requests.post(url, json=valid_body(), headers={**HEADERS, "X-Mock-Scenario": "rate-limited"}, timeout=10)
        requests.post(url, json=valid_body(), headers={**HEADERS, "Auth-Key": ""}, timeout=10)
        requests.post(url, json=valid_body(), headers=HEADERS, timeout=10)
        with chromium() as browser:
            for scheme in ("light", "dark"):
                context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme=scheme)
                page = context.new_page()
                page.goto(server.url + "/__mock/")
                page.locator("#journal-table tr[data-status='400'] button.path").click()
                page.locator("tr.detail").wait_for()
                suffix = "" if scheme == "light" else "-dark"
                page.screenshot(path=DOCS / f"dashboard-journal{suffix}.png")
                if scheme == "light":
                    page.goto(server.url + "/__mock/#scenarios")
                    page.locator("article.card").first.wait_for()
                    page.screenshot(path=DOCS / "dashboard-scenarios.png")
                    page.goto(server.url + "/__mock/#docs")
                    operation = page.locator("#op-createSmtpIntegration")
                    operation.get_by_role("button", name="Send POST request").click()
                    operation.locator(".result .badge").wait_for()
                    page.evaluate("window.scrollTo(0, 0)")
                    page.screenshot(path=DOCS / "dashboard-docs.png")
                    operation.locator(".result").scroll_into_view_if_needed()
                    page.screenshot(path=DOCS / "dashboard-docs-try-it.png")
                context.close()
    finally:
        server.stop()
    print("wrote", ", ".join(sorted(p.name for p in DOCS.glob("dashboard-*.png"))))


if __name__ == "__main__":
    main()
