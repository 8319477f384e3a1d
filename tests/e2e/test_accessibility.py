"""Accessibility: axe-core, run in Chromium on every page of the panel, signed in as each role,
finds no serious or critical violation.

axe-core's script comes with the axe-playwright-python package (installed with the tests),
and Playwright evaluates it in the page: nothing is fetched from elsewhere, and the pages'
Content-Security-Policy, which lets no script in but our own files, stays as it is."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.e2e.conftest import login

# Every GET page with real ids (pytest takes fixtures by imported name).
from tests.test_access import order_id, page_urls, route_values  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.once_per_run]

SERIOUS = {"serious", "critical"}


def html_pages(client, urls: dict[str, str]) -> list[str]:
    """The URLs that answer this role with a page (not a file, a redirect or a refusal)."""
    pages = []
    for url in sorted(set(urls.values())):
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages.append(url)
    return pages


def serious_violations(page: Page, axe: Axe) -> list[str]:
    for _ in range(3):
        try:
            found = axe.run(page).response["violations"]
            break
        except PlaywrightError as exc:
            if "context was destroyed" not in str(exc):
                raise
            # The page went on by itself (a bulk run posts its batches, then reloads):
            # check the page it went to once it is quiet.
            page.wait_for_load_state("networkidle")
    else:
        raise AssertionError(f"{page.url} kept navigating")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
            for v in found if v["impact"] in SERIOUS]


@pytest.mark.parametrize("role", ["admin", "agent", "viewer"])
def test_no_page_has_a_serious_violation(app, accounts, as_role, page_urls,  # noqa: F811
                                         page: Page, live_server, role):
    urls = html_pages(as_role(role), page_urls)
    assert len(urls) >= 15, urls  # the crawl found the panel's pages
    axe = Axe()
    login(page, live_server, accounts[role])
    report = {}
    for url in urls:
        page.goto(f"{live_server}{url}")
        page.wait_for_load_state("load")
        problems = serious_violations(page, axe)
        if problems:
            report[url] = problems
        # A page that goes on by itself (a bulk run's batches, then its reload) finishes
        # before the next one is asked for, or that navigation would be interrupted.
        page.wait_for_load_state("networkidle")
    assert not report, "\n".join(f"{url}:\n  " + "\n  ".join(problems)
                                 for url, problems in report.items())
