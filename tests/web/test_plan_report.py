"""The planner's report as the planner opens it: headless Chromium on the written page.

The page is a file the planner mails round, so it is opened as a file.
Screenshots go to ``test-artifacts/`` (CI keeps them). Needs Debian's
``chromium``; skipped with a message without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.report import write_report
from simulator.roster import build_roster
from simulator.runner import replicate
from simulator.scenario import parse_scenario
from tests.web.test_browser import ARTIFACTS, CHROMIUM, FLAGS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

DAY = """\
start: "2026-12-01T00:00:00"
interval_minutes: 30
intervals: 48
tiers:
  vip: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.9, within_s: 10}}
  normal: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.99, within_s: 5}}
arrivals:
  - {dnis: "1", calls: 40, mix: {vip: 1, normal: 4}}
queues:
  care: {handle: {dist: exponential, mean: 180}, agents: 5, cost_per_hour: 30, shrinkage: 0.3}
"""
TEXT = {
    "zh": ("Tierline 容量与排班计划", "排班表", "全天班", "未达标"),
    "en": ("Tierline capacity plan", "Roster (shifts)", "full day", "MISS"),
}


@pytest.fixture(scope="module")
def planned() -> tuple[object, object]:
    sc = parse_scenario(DAY, "day.yaml")
    return sc, replicate(sc.model, 2, 1)


class TestPlanReportInChromium:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    async def test_roster_and_labels_are_visible(
        self, planned: tuple, tmp_path: Path, lang: str
    ) -> None:
        """Title, verdicts, roster shifts and coverage show in the page's language; charts load."""
        from playwright.async_api import async_playwright

        sc, reps = planned
        rosters = {"care": build_roster([5] * 48, 30, shrinkage=0.3)}
        write_report(tmp_path, reps.estimates, sc.model, replications=2, seed=1,
                     targets=sc.targets, rosters=rosters, lang=lang)  # fmt: skip
        title, roster, shift, miss = TEXT[lang]
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await page.goto((tmp_path / "report.html").as_uri())
            assert await page.locator("h1").inner_text() == title
            assert await page.locator("#roster").inner_text() == roster
            shifts = page.locator("#roster-shifts tr")
            assert await shifts.count() == 1 + len(rosters["care"].shifts)
            assert await shifts.nth(1).is_visible()
            assert shift in await page.locator("#roster-shifts").inner_text()
            cover = page.locator("#roster-coverage tr")
            assert await cover.count() == 49
            assert await cover.nth(48).locator("th").inner_text() == "23:30"
            assert miss in await page.locator(".bad").first.inner_text()
            widths = await page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert len(widths) == 2
            assert all(w > 0 for w in widths)
            await page.locator("#roster").scroll_into_view_if_needed()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / f"plan_report_{lang}.png"), full_page=True)
            await browser.close()

    def test_chinese_chart_labels_have_a_font(self, planned: tuple) -> None:
        """With fonts-wqy-zenhei installed, the zh chart's axis labels use it (not boxes)."""
        from matplotlib import font_manager
        from matplotlib import pyplot as plt

        from simulator.report import chart_style, tiers_figure

        if not any("WenQuanYi" in f.name for f in font_manager.fontManager.ttflist):
            pytest.skip("fonts-wqy-zenhei is not installed")
        sc, reps = planned
        with plt.rc_context(chart_style("zh")):  # type: ignore[arg-type]
            fig = tiers_figure(reps.estimates, sc.model, "zh")
            label = fig.axes[0].yaxis.label
            path = font_manager.findfont(label.get_fontproperties())
        plt.close(fig)
        assert label.get_text() == "服务水平"
        assert "wqy" in path.lower()
