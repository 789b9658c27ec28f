"""Headless Chromium (Debian's, driven by Playwright) against a live stack; screenshots of every page."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .stack import LiveStack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Records every text the status badge and the progress line show, so a test can tell what appeared live.
BADGE_RECORDER = """
window.__badgeStates = [];
window.__loadedAt = Date.now();
window.__progressTexts = [];
document.addEventListener("DOMContentLoaded", () => {
  const progress = document.querySelector(".status-panel [data-field=progress]");
  if (progress) {
    new MutationObserver(() => { window.__progressTexts.push(progress.textContent); })
      .observe(progress, {childList: true, characterData: true, subtree: true});
  }
  const text = document.querySelector(".status-panel [data-field=state] .badge-text");
  if (!text) return;
  window.__badgeStates.push(text.textContent);
  new MutationObserver(() => {
    const states = window.__badgeStates;
    if (states[states.length - 1] !== text.textContent) states.push(text.textContent);
  }).observe(text, {childList: true, characterData: true, subtree: true});
});
"""


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an event loop running while open,
def browser():                   # which would break the asyncio tests collected after this module
    if not Path(CHROMIUM).exists() or shutil.which("redis-server") is None:
        pytest.fail("needs Debian's chromium and redis-server (scripts/install-system-deps.sh --test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("browser-stack")).start()
    yield live
    live.close()


@pytest.fixture
def sign_in(browser, stack):
    """Open a separate browser session (its own cookies) signed in as `username`."""
    contexts = []

    def open_session(username: str):
        context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
        context.add_init_script(BADGE_RECORDER)
        context.set_default_timeout(20_000)
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(f"{username}-password-1")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/databases/")
        return page

    yield open_session
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
