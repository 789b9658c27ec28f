"""Every dashboard page: labelled controls, named buttons and links, one h1, landmarks, keyboard reach."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dataplane.certificates import new_ca

pytestmark = pytest.mark.timeout(120)

SEED = """
from accounts.models import Team
from clusters.services import create_cluster
from databases.services import create_database
cluster = create_cluster(name="access", namespace="access", spec={"nodes": 3}, actor="seed").obj
create_database(cluster=cluster, name="carts", spec={"memorySize": "100MB"}, team=Team.objects.get(name="payments"),
                actor="seed")
print(cluster.pk, cluster.databases.get().pk)
"""

PROBLEMS = """() => {
  const problems = [];
  for (const control of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!control.labels.length && !control.getAttribute("aria-label")) {
      problems.push("unlabelled " + (control.name || control.id));
    }
  }
  for (const element of document.querySelectorAll("button, a[href]")) {
    if (!element.textContent.trim() && !element.getAttribute("aria-label")) {
      problems.push("unnamed " + element.outerHTML.slice(0, 60));
    }
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("h1 count " + document.querySelectorAll("h1").length);
  if (!document.querySelector("main") || !document.querySelector("nav[aria-label]")) problems.push("landmarks");
  if (!document.documentElement.lang) problems.push("no lang");
  for (const badge of document.querySelectorAll(".badge")) {
    if (!badge.querySelector(".badge-text").textContent.trim()) problems.push("badge without text");
  }
  return problems;
}"""


def test_pages_are_labelled_and_keyboard_reachable(stack, browser, sign_in, shot):
    cluster_pk, database_pk = stack.manage("shell", "-c", SEED).split()[-2:]
    login = browser.new_page(base_url=stack.url)
    login.goto("/login/")
    assert login.evaluate(PROBLEMS) == []
    login.close()

    alice = sign_in("alice")
    for url in ("/databases/", "/clusters/", f"/clusters/{cluster_pk}/", f"/databases/{database_pk}/",
                "/databases/new/", f"/databases/{database_pk}/edit/", f"/databases/{database_pk}/upgrade/",
                f"/databases/{database_pk}/delete/", "/targets/"):
        alice.goto(url)
        assert alice.evaluate(PROBLEMS) == [], url

    # keyboard only: the skip link comes first, then every control of the form is reached with Tab
    alice.goto("/databases/new/")
    alice.keyboard.press("Tab")
    expect(alice.get_by_role("link", name="Skip to content")).to_be_focused()
    alice.keyboard.press("Enter")
    reached = set()
    for _ in range(40):
        alice.keyboard.press("Tab")
        reached.add(alice.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    wanted = {"id_cluster", "id_name", "id_team", "id_memory_size", "id_shard_count", "id_replication",
              "id_persistence", "id_eviction_policy", "id_database_port", "id_redis_version", "Create database",
              "Preview YAML"}
    assert wanted <= reached, wanted - reached

    # the credentials can be revealed and hidden from the keyboard
    alice.goto(f"/databases/{database_pk}/")
    alice.get_by_role("button", name="Reveal credentials").focus()
    alice.keyboard.press("Enter")
    expect(alice.get_by_label("Password")).to_be_focused()
    alice.get_by_role("button", name="Hide credentials").focus()
    alice.keyboard.press("Enter")
    expect(alice.get_by_role("button", name="Reveal credentials")).to_be_focused()
    expect(alice.locator("#credentials")).to_be_hidden()

    # staff: the Certificates page, labelled too, stores a client CA (never showing a key)
    ops = sign_in("ops")
    ops.get_by_role("link", name="Certificates").click()
    assert ops.evaluate(PROBLEMS) == []
    ops.get_by_label("Name", exact=True).fill("app-clients")
    ops.get_by_label("Certificate", exact=True).fill(new_ca("app team CA").cert_pem)
    ops.get_by_role("button", name="Store").click()
    expect(ops.locator('tr[data-secret="app-clients"] [data-field="key"]')).to_have_text("none")
    expect(ops.locator('tr[data-secret="app-clients"] [data-field="subject"]')).to_contain_text("CN=app team CA")
