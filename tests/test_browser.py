"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against a real mock
process: what a person sees and can do, with the keyboard too, in light and dark mode."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser import chromium
from tests.conftest import HEADERS, ROOT, SMTP_PATH, LiveServer, valid_body
from tests.servers import VALID_KEY, docs_server, serving

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server("--quiet")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page raised: {errors}"


def post(server: LiveServer, body: dict[str, object] | None = None, **headers: str) -> requests.Response:
    return requests.post(server.url + SMTP_PATH, json=body or valid_body(), headers={**HEADERS, **headers}, timeout=10)


def test_rows_appear_live_and_a_400_row_shows_the_offending_field(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/__mock/")
    expect(page.locator("#journal-empty")).to_be_visible()
    post(server)
    bad = post(server, valid_body(port="not-a-port"))
    assert bad.status_code == 400
    rows = page.locator("#journal-table tbody tr[data-status]")
    expect(rows).to_have_count(2)  # no reload: the page polls
    newest = rows.first
    expect(newest.locator(".badge")).to_have_text("400")
    expect(newest).to_contain_text("validate_request")
    expect(rows.nth(1).locator(".badge")).to_have_text("201")

    newest.locator("button.path").click()
    detail = page.locator("tr.detail")
    expect(detail.locator(".errors li")).to_have_text(["port: port must be an integer (int32)."])
    expect(detail.locator("pre mark")).to_have_text('  "port": "not-a-port",')  # the field, marked in the body
    expect(detail.locator("dl.headers").first).to_contain_text("Auth-Key***")  # secrets masked
    expect(detail).not_to_contain_text("hunter2")


def test_a_proxied_exchange_shows_its_contract_violations(live_server: Callable[..., LiveServer], page: Page) -> None:
    with serving(docs_server("wrong_type")) as upstream:
        server = live_server("--quiet", "--upstream", upstream)
        page.goto(server.url + "/__mock/")
        answer = post(server, **{"Auth-Key": VALID_KEY})
        assert answer.status_code == 201 and answer.headers["X-Mock-Violations"] == "1"
        row = page.locator("#journal-table tbody tr[data-status]").first
        expect(row).to_contain_text("upstream 1 violation")
        row.locator("button.path").click()
        violations = page.locator("tr.detail .violations li")
        expect(violations).to_have_text(
            ["response · response_schema · data.port: data.port must be an integer (int32)."]
        )


def test_filter_and_clear(server: LiveServer, page: Page) -> None:
    post(server)
    post(server, valid_body(port="x"))
    page.goto(server.url + "/__mock/")
    rows = page.locator("#journal-table tbody tr[data-status]")
    expect(rows).to_have_count(2)
    page.get_by_label("Status").fill("4")
    expect(rows).to_have_count(1)
    expect(page.locator("#journal-count")).to_have_text("1 of 2 requests shown, newest first.")
    page.get_by_label("Status").fill("")
    page.get_by_label("Path contains").fill("/nowhere")
    expect(rows).to_have_count(0)
    page.get_by_label("Path contains").fill("")
    page.get_by_role("button", name="Clear journal").click()
    expect(rows).to_have_count(0)
    expect(page.locator("#journal-empty")).to_be_visible()
    assert requests.get(server.url + "/__mock/journal", timeout=5).json()["entries"] == []


def test_switching_scenario_changes_the_next_response(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/__mock/#scenarios")
    card = page.locator("article.card[data-scenario='forbidden']")
    expect(card).to_contain_text("Every request is denied with 403")
    expect(card).to_contain_text("when every request → 403")
    card.get_by_role("button", name="Use forbidden for everyone").click()
    expect(page.locator("#active-summary")).to_have_text("forbidden")
    expect(card.get_by_role("button", name="Active")).to_be_disabled()
    assert post(server).status_code == 403

    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#active-summary")).to_have_text("success (default)")
    assert post(server).status_code == 201

    page.locator("#switch-scenario").select_option("rate-limited")
    page.get_by_label("one Brand-URL").check()
    page.get_by_label("Value").fill("acme.example")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#active-choices")).to_contain_text("Brand-URL acme.example: rate-limited")
    assert post(server, **{"Brand-URL": "acme.example"}).status_code == 429
    assert post(server).status_code == 201


def test_reset_state_forgets_stored_items(server: LiveServer, page: Page) -> None:
    assert post(server, **{"X-Mock-Scenario": "stateful"}).status_code == 201
    assert requests.get(server.url + "/__mock/state", timeout=5).json()
    page.goto(server.url + "/__mock/#scenarios")
    page.get_by_role("button", name="Reset state").click()
    expect(page.locator("#status-line")).to_contain_text("State reset")
    assert requests.get(server.url + "/__mock/state", timeout=5).json() == {}


def test_a_broken_edit_is_shown_where_it_applies(
    tmp_path: Path, live_server: Callable[..., LiveServer], page: Page
) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    server = live_server("--quiet", cwd=tmp_path)
    page.goto(server.url + "/__mock/#scenarios")
    expect(page.locator("#reload-problems")).to_be_hidden()
    (tmp_path / "scenarios" / "forbidden.yaml").write_text("rules:\n  - respond: {status: 418}\n")
    alert = page.locator("#reload-problems")
    expect(alert).to_be_visible(timeout=5000)
    expect(alert).to_contain_text("forbidden.yaml:2: rules[0].respond.status: 418 is not documented")
    expect(page.locator("article.card[data-scenario='forbidden'] .problem")).to_contain_text("418 is not documented")


def test_the_docs_page_sends_a_request_that_appears_in_the_journal(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/__mock/#docs")
    operation = page.locator("#op-createSmtpIntegration")
    expect(operation.locator("h3")).to_have_text("POST/api/v1/app-integrations/smtp")
    expect(operation.locator("table").nth(1)).to_contain_text("int32")  # the body's constraints
    form = operation.locator("form.try")
    form.get_by_label("X-Mock-Scenario").select_option("forbidden")
    form.get_by_role("button", name="Send POST request").click()
    expect(operation.locator(".result .badge")).to_have_text("403")
    form.get_by_label("X-Mock-Scenario").select_option("")
    form.get_by_role("button", name="Send POST request").click()
    expect(operation.locator(".result .badge")).to_have_text("201")
    expect(operation.locator(".result pre")).to_contain_text('"success": true')

    operation.get_by_role("link", name="See it in the journal").click()
    rows = page.locator("#journal-table tbody tr[data-status]")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".badge")).to_have_text("201")
    expect(rows.nth(1)).to_contain_text("forbidden")
    entries = requests.get(server.url + "/__mock/journal", timeout=5).json()["entries"]
    assert all("HeadlessChrome" in e["headers"]["User-Agent"] for e in entries)


def test_everything_works_from_the_keyboard(server: LiveServer, page: Page) -> None:
    post(server, valid_body(port="x"))
    page.goto(server.url + "/__mock/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Journal")).to_be_focused()
    toggle = page.locator("#journal-table button.path").first
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#journal-table button.path").first).to_have_attribute("aria-expanded", "true")
    expect(page.locator("tr.detail")).to_be_visible()
    expect(page.locator("#journal-table button.path").first).to_be_focused()  # focus stays on the row
    page.keyboard.press("Space")
    expect(page.locator("tr.detail")).to_have_count(0)

    page.get_by_role("link", name="Scenarios").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#view-scenarios")).to_be_visible()
    page.locator("article.card[data-scenario='unauthorized'] button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#active-summary")).to_have_text("unauthorized")
    assert post(server).status_code == 401


@pytest.mark.parametrize(("scheme", "background"), [("light", "rgb(255, 255, 255)"), ("dark", "rgb(13, 17, 23)")])
def test_light_and_dark_follow_the_system_and_a_choice_is_remembered(
    server: LiveServer, browser: Browser, scheme: str, background: str
) -> None:
    context = browser.new_context(color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(server.url + "/__mock/")
    body = page.locator("body")
    expect(body).to_have_css("background-color", background)
    expect(page.get_by_role("button", name="Colour theme: system. Press to change.")).to_be_visible()
    page.locator("#theme").click()  # system -> light
    expect(page.locator("#theme")).to_have_accessible_name("Colour theme: light. Press to change.")
    page.locator("#theme").click()  # light -> dark
    expect(body).to_have_css("background-color", "rgb(13, 17, 23)")
    page.reload()
    expect(body).to_have_css("background-color", "rgb(13, 17, 23)")
    expect(page.locator("#theme")).to_have_text("Theme: dark")
    context.close()


def test_the_admin_token_keeps_the_dashboard_closed_until_given(
    live_server: Callable[..., LiveServer], page: Page
) -> None:
    server = live_server("--quiet", "--admin-token", "open-sesame-42")
    closed = page.goto(server.url + "/__mock/")
    assert closed is not None and closed.status == 401
    page.goto(server.url + "/__mock/?token=open-sesame-42#scenarios")
    assert "token" not in page.url
    expect(page.locator("article.card")).to_have_count(14)
    expect(page.locator("#status-line")).to_have_text("")
