"""A page on another origin, open in the user's own browser (Debian's Chromium, driven by Playwright),
attacks a real `mockserver serve`: it tries to read the journal and to change what the mock answers
with fetch() (with and without credentials, preflighted and not), sendBeacon, HTML forms (one
posting JSON-looking text/plain), and a frame; then the same from a DNS-rebound name. Afterwards the
admin API shows that nothing was read or changed, and the dashboard still works for the user."""

from __future__ import annotations

import collections
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser import chromium
from tests.conftest import HEADERS, SMTP_PATH, LiveServer, valid_body

pytestmark = pytest.mark.e2e

REBOUND = "rebind.test"  # Chromium resolves it to 127.0.0.1, as a rebinding DNS server would
RULE = {"when": {"operation": "createSmtpIntegration"}, "respond": {"status": 403}}
TOKEN = "open-sesame-42"

ATTACK = """<!doctype html>
<meta charset="utf-8"><title>attacking</title>
<iframe name="sink-reset"></iframe><iframe name="sink-expect"></iframe>
<iframe id="framed" src="MOCK/__mock/#scenarios"></iframe>
<form id="reset" method="post" action="MOCK/__mock/reset" target="sink-reset"><input name="a" value="b"></form>
<form id="expect" method="post" action="MOCK/__mock/expectations" enctype="text/plain" target="sink-expect">
  <input name='RULE_HEAD' value='"}'>
</form>
<script>
const mock = "MOCK";
const results = {};
async function attempt(name, run) {
  try { results[name] = await run(); } catch (error) { results[name] = `blocked: ${error.name}`; }
}
(async () => {
  for (const credentials of ["omit", "include"]) {
    await attempt(`read journal (${credentials})`, () =>
      fetch(`${mock}/__mock/journal`, { credentials }).then((r) => r.text()));
    await attempt(`read state, no-cors (${credentials})`, () =>
      fetch(`${mock}/__mock/state`, { mode: "no-cors", credentials }).then((r) => `${r.type} ${r.status}`));
    await attempt(`switch scenario (${credentials})`, () =>
      fetch(`${mock}/__mock/scenario`, {
        method: "PUT",
        credentials,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ scenario: "forbidden" }),
      }).then((r) => r.status));
    await attempt(`reset, no-cors (${credentials})`, () =>
      fetch(`${mock}/__mock/reset`, { method: "POST", mode: "no-cors", credentials }).then((r) => r.type));
    await attempt(`expectation as text/plain, no-cors (${credentials})`, () =>
      fetch(`${mock}/__mock/expectations`, {
        method: "POST",
        mode: "no-cors",
        credentials,
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify(RULE),
      }).then((r) => r.type));
    await attempt(`clear journal (${credentials})`, () =>
      fetch(`${mock}/__mock/journal`, { method: "DELETE", credentials }).then((r) => r.status));
  }
  results["beacon reset"] = navigator.sendBeacon(`${mock}/__mock/reset`);
  document.getElementById("reset").submit();
  document.getElementById("expect").submit();
  window.results = results;
  document.title = "done";
})();
</script>
"""

REBOUND_ATTACK = """<!doctype html>
<meta charset="utf-8"><title>rebound</title>
<script>
(async () => {
  const results = {};
  const read = await fetch("/__mock/journal");  // same origin: CORS has no say, only the Host check
  results.read = `${read.status} ${await read.text()}`;
  const put = await fetch("/__mock/scenario", {
    method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ scenario: "forbidden" }),
  });
  results.switch = put.status;
  const reset = await fetch("/__mock/reset", { method: "POST" });
  results.reset = reset.status;
  window.results = results;
  document.title = "done";
})();
</script>
"""


@contextmanager
def attacker_site(address: str, page_html: str) -> Iterator[str]:
    """The attacker's web server: one page at / on `address`, a free port; yields its origin."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page_html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{address}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Chromium's own Private/Local Network Access checks would stop the rebound page before the mock sees
# it; Firefox and Safari have none, so they are off here: the mock must hold on its own.
NO_PRIVATE_NETWORK_CHECKS = (
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
    "PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1", NO_PRIVATE_NETWORK_CHECKS) as launched:
        yield launched


def admin_view(server: LiveServer) -> dict[str, Any]:
    """What an attack could have read or changed, seen through the admin API (no browser involved).
    The token goes along in case the server has one; without one it is ignored."""
    base, auth = server.url + "/__mock", {"Authorization": f"Bearer {TOKEN}"}
    listing = requests.get(base + "/scenarios", headers=auth, timeout=5).json()
    return {
        "journal": [e["id"] for e in requests.get(base + "/journal", headers=auth, timeout=5).json()["entries"]],
        "active": listing["active"],
        "expectations": listing["expectations"],
        "state": requests.get(base + "/state", headers=auth, timeout=5).json(),
    }


def prepare(server: LiveServer) -> dict[str, Any]:
    """Something to read and something to lose: a journal entry and a stored item."""
    created = requests.post(
        server.url + SMTP_PATH, json=valid_body(), headers={**HEADERS, "X-Mock-Scenario": "stateful"}, timeout=5
    )
    assert created.status_code == 201
    before = admin_view(server)
    assert before["journal"] and before["state"]
    return before


def use_the_dashboard(server: LiveServer, page: Page) -> None:
    """The user's own dashboard, on its own origin, still switches, resets and clears."""
    page.goto(server.url + "/__mock/#scenarios")
    card = page.locator("article.card[data-scenario='forbidden']")
    card.get_by_role("button", name="Use forbidden for everyone").click()
    expect(page.locator("#active-summary")).to_have_text("forbidden")
    assert requests.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 403
    page.get_by_role("button", name="Reset state").click()
    expect(page.locator("#status-line")).to_contain_text("State reset")
    assert admin_view(server)["state"] == {}
    page.get_by_role("link", name="Journal").click()
    page.get_by_role("button", name="Clear journal").click()
    expect(page.locator("#journal-empty")).to_be_visible()
    assert admin_view(server)["journal"] == []


@pytest.mark.parametrize(
    ("attacker_address", "logged_in"),
    [("127.0.0.2", False), ("127.0.0.1", False), ("127.0.0.1", True)],
    ids=["cross-site page", "same-site page on another port", "same-site page, the user logged in with a token"],
)
def test_a_page_on_another_origin_can_neither_read_nor_change_anything(
    live_server: Callable[..., LiveServer], browser: Browser, attacker_address: str, logged_in: bool
) -> None:
    server = live_server("--quiet", *(("--admin-token", TOKEN) if logged_in else ()))
    context = browser.new_context()
    page = context.new_page()
    if logged_in:  # the dashboard opened with its token: a SameSite=Strict cookie, which same-site pages send too
        page.goto(f"{server.url}/__mock/?token={TOKEN}")
        assert any(c["name"] == "mockserver_admin" for c in context.cookies())
    before = prepare(server)
    html = (
        ATTACK.replace("MOCK", server.url)
        .replace("RULE_HEAD", json.dumps(RULE)[:-1] + ', "x": "')  # the form sends NAME=VALUE: valid JSON
        .replace("RULE", json.dumps(RULE))
    )
    with attacker_site(attacker_address, html) as origin:
        attack = context.new_page()
        attack.goto(origin + "/")
        expect(attack).to_have_title("done", timeout=10000)
        attack.wait_for_timeout(1000)  # the two forms post into their frames
        results = attack.evaluate("window.results")
        framed = attack.frame_locator("#framed")  # frame-ancestors 'none': Chromium shows its own error page
        expect(framed.locator("body")).to_have_count(1)
        expect(framed.locator("#active-summary")).to_have_count(0)
        attack.close()  # the user moves on (an open page with blocked frames slows Chromium's other tabs)

    for credentials in ("omit", "include"):
        assert results[f"read journal ({credentials})"] == "blocked: TypeError"  # no CORS: nothing to read
        assert results[f"switch scenario ({credentials})"] == "blocked: TypeError"  # its preflight fails
        assert results[f"clear journal ({credentials})"] == "blocked: TypeError"
        assert results[f"read state, no-cors ({credentials})"] == "blocked: TypeError"  # Cross-Origin-Resource-Policy
    assert admin_view(server) == before  # the journal, the choices, the expectations, the items: as they were
    use_the_dashboard(server, page)
    context.close()
    # Everything the page sent that reached the mock was refused, and is logged so: what a page may send
    # blind (no preflight) too: the beacon, both fetches and the form to /reset; both fetches and the form
    # to /expectations; the no-cors read; the preflights of the rest; the framed dashboard.
    log = server.stop()
    refusals = collections.Counter(
        " ".join(line.split(" refused ", 1)[1].split()[:2])
        for line in log.splitlines()
        if f"Origin {origin})" in line or "Origin none)" in line
    )
    assert refusals == {
        "POST /__mock/reset": 4,
        "POST /__mock/expectations": 3,
        "GET /__mock/journal": 2,
        "GET /__mock/state": 2,
        "OPTIONS /__mock/scenario": 2,
        "OPTIONS /__mock/journal": 2,
        "GET /__mock/": 1,
    }, log


def test_a_dns_rebound_page_is_refused_by_the_host_check(
    live_server: Callable[..., LiveServer], browser: Browser
) -> None:
    server = live_server("--quiet")
    before = prepare(server)
    port = server.url.rsplit(":", 1)[1]
    context = browser.new_context()
    attack = context.new_page()
    # The attacker's page is served as http://rebind.test:PORT/; then the name resolves to 127.0.0.1.
    attack.route(
        f"http://{REBOUND}:{port}/attack", lambda route: route.fulfill(content_type="text/html", body=REBOUND_ATTACK)
    )
    attack.goto(f"http://{REBOUND}:{port}/attack")
    expect(attack).to_have_title("done", timeout=10000)
    results = attack.evaluate("window.results")
    assert results["read"].startswith("403 ") and "DNS rebinding" in results["read"]
    assert "hunter2" not in results["read"] and '"entries"' not in results["read"]
    assert results["switch"] == 403 and results["reset"] == 403
    assert admin_view(server) == before
    use_the_dashboard(server, context.new_page())
    context.close()
