"""The wallboard as a supervisor sees it: headless Chromium, live over SSE.

Screenshots go to ``test-artifacts/`` (CI keeps them). Needs Debian's
``chromium`` (``.ci/run`` installs it); skipped with a message without it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.web.config import AlertRule, Band, WallboardConfig
from tests.ami.fake_ami import FakeAMI
from tests.web.live import join, listening, web_service

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CONFIG = WallboardConfig(
    bands={"waiting": Band(warn=1, bad=3)},
    alerts=(AlertRule(name="vip_waiting", metric="waiting", tier="vip", above=0, clear_at=0),),
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture
async def fake() -> AsyncIterator[FakeAMI]:
    server = await FakeAMI().start()
    yield server
    await server.close()


async def cell(page: object, table: str, row: str, metric: str) -> str:
    locator = page.locator(f'#{table} tr[data-name="{row}"] td[data-metric="{metric}"]')  # type: ignore[attr-defined]
    return str(await locator.inner_text())


class TestWallboardInChromium:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    async def test_a_caller_joining_appears_within_two_seconds(
        self, fake: FakeAMI, redis_client: Redis, lang: str
    ) -> None:
        """Join on the AMI wire -> the page's vip row shows 1 waiting and the alert, no reload."""
        from playwright.async_api import async_playwright

        ARTIFACTS.mkdir(exist_ok=True)
        async with (
            listening(fake, redis_client),
            web_service(redis_client, CONFIG) as base,
            async_playwright() as pw,
        ):
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1600, "height": 900})
            await page.goto(f"{base}/?lang={lang}")
            await page.wait_for_selector('#tiers tr[data-name="vip"]', timeout=5000)
            assert await cell(page, "tiers", "vip", "waiting") == "0"
            loads = await page.evaluate("performance.getEntriesByType('navigation').length")
            await fake.push(join("7.1", "vip_desk", "vip"))
            await page.wait_for_function(
                "() => document.querySelector("
                "'#tiers tr[data-name=\"vip\"] td[data-metric=\"waiting\"]')?.textContent === '1'",
                timeout=2000,
            )
            await page.wait_for_selector(".alert", timeout=2000)
            assert "vip_waiting" in await page.locator("#alerts").inner_text()
            colour = await page.locator(
                '#queues tr[data-name="vip_desk"] td[data-metric="waiting"]'
            ).get_attribute("class")
            assert colour == "warn"  # one waiting: the amber band from the config
            title = await page.locator("h1").inner_text()
            assert title == ("Tierline 实时监控" if lang == "zh" else "Tierline live")
            same = await page.evaluate("performance.getEntriesByType('navigation').length")
            assert same == loads  # pushed, not reloaded
            await page.screenshot(path=str(ARTIFACTS / f"wallboard-{lang}.png"))
            await browser.close()
