"""Typed digits never reach a stored path or a report; menu choices show by option name."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.agi.caller import place_call
from router.agi.double import CallerScript, environment
from router.ami.records import CallRecord
from router.flows.model import Input, Menu
from router.flows.walk import INPUT, INVALID, TIMEOUT, path_choice
from router.reports import build_report, parse_path, render
from router.reports.paths import Step
from router.storage import keys
from tests.agi.serving import serving

ACCOUNT = "73914682"
UNIQUEID = "1795348509.21"
FLOW = """\
flow: hotline
serves: {dnis: ["4008001234"]}
start: menu
nodes:
  menu:
    type: menu
    prompt: main_menu
    options: {"1": identify, "2": billing}
    fallback: billing
  identify:
    type: input
    prompt: enter_account
    pattern: "\\\\d{8}"
    max_digits: 8
    variable: TL_ACCOUNT
    next: billing
    fallback: billing
  billing: {type: queue, service: billing}
"""
PROMPTS = """\
languages: [en]
prompts:
  main_menu: {en: "Account press 1."}
  enter_account: {en: "Enter your account number."}
"""
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """The flow files; serving() adds the shipped routing.yaml."""
    (tmp_path / "hotline.yaml").write_text(FLOW)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    return tmp_path


def record(path: str, uid: str = "1") -> CallRecord:
    return CallRecord(uid, caller="13800138000", dnis="4008001234", path=path, outcome="ivr",
                      started_at=T0 + 1, ended_at=T0 + 60)  # fmt: skip


class TestStoredPath:
    async def test_account_typed_over_the_wire_is_not_kept(
        self, flows_dir: Path, redis_url: str, redis_client: Redis
    ) -> None:
        """A caller picks 1 and types an account: the path says identify / (input), no digits."""
        digits = [(2000.0, "1"), *[(8000.0 + 100 * i, d) for i, d in enumerate(ACCOUNT)]]
        script = CallerScript(digits=digits, prompts={"main_menu": 800, "enter_account": 800})
        env = environment("13800138000", dnis="4008001234", uniqueid=UNIQUEID)
        async with serving(flows_dir, redis_url) as settings:
            call = await place_call("127.0.0.1", settings.agi_port, env, script, speed=5, max_s=10)
        assert call.variables["TIERLINE_QUEUE"] == "billing"
        text = await redis_client.get(keys.ivr_path_key(UNIQUEID))
        assert text is not None
        assert ACCOUNT not in text
        steps = parse_path(text)
        assert steps == [Step("menu", "identify"), Step("identify", INPUT), Step("billing")]
        report = build_report([record(text)], T0, T0 + 3600)
        assert report.top_choices == [("menu", "identify", 1)]


class TestOldRecords:
    @pytest.mark.parametrize(
        "path",
        [
            f'[{{"node": "menu", "choice": "1"}}, {{"node": "identify", "choice": "{ACCOUNT}"}}]',
            f'[{{"node": "menu", "choice": "1"}}, {{"node": "identify", "input": "{ACCOUNT}"}}]',
            f"menu:1>identify:{ACCOUNT}>billing",
            f'["menu:1", "identify:{ACCOUNT}-"]',
        ],
    )
    def test_digits_in_a_record_are_never_shown(self, path: str) -> None:
        """Typed digits already in a record are no menu choice and appear in no report format."""
        assert parse_path(path)[1] == Step("identify", INPUT)
        report = build_report([record(path)], T0, T0 + 3600)
        assert report.top_choices == [("menu", "1", 1)]
        for fmt in ("table", "json", "html"):
            assert ACCOUNT not in render(report, fmt)


class TestPathChoice:
    MENU = Menu("menu", 1, "main_menu", {"1": "billing", "2": "tech"}, "billing")

    def test_menu_choice_is_the_option_name(self) -> None:
        """The last answer decides: an option's node name, or a timeout / invalid marker."""
        assert path_choice(self.MENU, "2") == "tech"
        assert path_choice(self.MENU, "9-1") == "billing"
        assert path_choice(self.MENU, "1-") == TIMEOUT
        assert path_choice(self.MENU, "19") == INVALID
        assert path_choice(self.MENU, "") == ""

    def test_input_is_a_marker(self) -> None:
        """Typed input is only ever the marker; silence is a timeout."""
        node = Input("identify", 1, "enter_account", re.compile(r"\d{8}"), "billing", "billing")
        assert path_choice(node, ACCOUNT) == INPUT
        assert path_choice(node, "--") == TIMEOUT
        assert path_choice(None, "1234") == INPUT
