"""A reader in a real browser: Debian's chromium (installed by `make browser`), driven by Playwright,
reads the sample story's article, story and entity pages served by the API running as its own
process, and leaves screenshots in .local/screens/."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shared.localhost import free_port
from tests.integration.api.conftest import SampleIndex
from tests.support import ROOT, SAMPLE, ServiceProcess

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
# No sync, no component updates, no background fetches: the machine's network is closed.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENS = ROOT / ".local" / "screens"
STORY = next(iter(json.loads((SAMPLE / "expected.json").read_text())["story_clusters"].values()))


@pytest.fixture(scope="module")
def reader_url(sample_index: SampleIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    settings = sample_index.settings
    env = {
        "NEWSFLOW_API_PORT": str(port),
        "NEWSFLOW_OPENSEARCH_URL": settings.url,
        "NEWSFLOW_OPENSEARCH_ALIAS": settings.alias,
    }
    service = ServiceProcess("api", env, tmp_path_factory.mktemp("api-logs"))
    service.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, f"the API did not start: {service.log_path.read_text()[-2000:]}"
            time.sleep(0.2)
    yield url
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal it caught.
    assert service.terminate() in (0, -signal.SIGTERM)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make browser`"
    with sync_playwright() as playwright:
        # Playwright starts the browser with a new empty profile of its own (--user-data-dir).
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 1500})
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_a_reader_follows_the_sample_story(reader_url: str, sample_index: SampleIndex, page: Page) -> None:
    original = sample_index.articles[STORY["original"]]
    tellings = [STORY["original"], *STORY["retellings"]]

    page.goto(f"{reader_url}/articles/{original.article_id}")
    expect(page.locator("h1")).to_have_text(original.title)
    expect(page.locator(".outlet")).to_have_text(original.source.name)
    assert original.summary and original.takeaways
    expect(page.locator(".tldr .summary")).to_have_text(original.summary)
    expect(page.locator(".takeaways li")).to_have_text(original.takeaways)
    expect(page.locator(".reading-time")).to_have_text(f"{original.reading_time_minutes} min read")
    topic_chips = page.locator(".topics a.chip")
    expect(topic_chips.first).to_have_text("#" + original.topics[0].key.rsplit("/", 1)[-1])
    expect(page.locator(".entities a.chip")).to_have_count(len({e.handle for e in original.entities}))
    expect(page.locator(".more-in h2")).to_contain_text("More in #")
    expect(page.locator(".more-in .card").first).to_be_visible()
    expect(page.locator(".related .card").first).to_be_visible()
    story_link = page.locator(".story-link a")
    expect(story_link).to_have_text(f"{len(tellings)} outlets carry this story")
    screenshot(page, "article")

    story_link.click()
    versions = page.locator(".version")
    expect(versions).to_have_count(len(tellings))
    expect(versions.first.locator(".badge")).to_have_text("original")
    expect(versions.first.locator(".outlet")).to_have_text(original.source.name)
    expect(page.locator("ol.timeline li")).to_have_count(len(tellings))
    screenshot(page, "story")

    page.goto(f"{reader_url}/articles/{original.article_id}")
    chip = page.locator(".entities a.chip").first
    named = next(e for e in original.entities if f"@{e.handle}" == chip.inner_text())
    chip.click()
    expect(page.locator("h1")).to_have_text(named.name)
    expect(page.locator("svg.chart rect").first).to_be_attached()
    expect(page.locator(".card").first).to_be_visible()
    screenshot(page, "entity")

    page.goto(f"{reader_url}/articles/{original.article_id}")
    topic_chips.first.click()
    expect(page.locator("h1")).to_have_text("#" + original.topics[0].key.rsplit("/", 1)[-1])


def test_a_reader_searches_and_narrows_by_a_facet(reader_url: str, page: Page) -> None:
    page.goto(reader_url)
    expect(page.locator(".card").first).to_be_visible()
    screenshot(page, "home")
    page.fill("input[type=search]", "trillion parameters")
    page.press("input[type=search]", "Enter")
    expect(page.locator(".results mark").first).to_be_visible()
    before = page.locator(".results .card").count()
    page.locator(".facet-source a").first.click()
    expect(page.locator(".facet-source a.on")).to_have_count(1)
    assert page.locator(".results .card").count() <= before
    screenshot(page, "search")
