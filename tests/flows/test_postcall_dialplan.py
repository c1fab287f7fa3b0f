"""The dialplan side of the post-call survey (asterisk_conf/extensions.conf)."""

from __future__ import annotations

from router.flows.postcall import SURVEY_VAR
from tests.policy.test_asterisk_conf import CONF_DIR, INJECTION, asterisk_filter, filter_of


def dialplan() -> str:
    return (CONF_DIR / "extensions.conf").read_text()


class TestPostCallDialplan:
    def test_survey_token_survives_and_nothing_else(self) -> None:
        """<flow>.<node> passes the filter unchanged; dialplan syntax does not."""
        allowed = filter_of(SURVEY_VAR, "TL_SURVEY")
        assert asterisk_filter(allowed, "tele-com_2.csat") == "tele-com_2.csat"
        assert [c for c in [*INJECTION, "?", "=", "/", "@"] if asterisk_filter(allowed, c)] == []

    def test_option_c_only_with_a_survey(self) -> None:
        """Without a survey the caller leaves with the agent (t); with one, Queue() goes on (tc)."""
        text = dialplan()
        assert 'Set(TL_QOPTS=${IF($["${TL_SURVEY}" = ""]?t:tc)})' in text
        assert "Queue(${TL_QUEUE},${TL_QOPTS},,,${TL_WAIT})" in text

    def test_agent_hangup_runs_the_survey_then_hangs_up(self) -> None:
        """CONTINUE with a token: the router is called with it and the queue, then Hangup()."""
        text = dialplan()
        assert '"${QUEUESTATUS}" = "CONTINUE" & "${TL_SURVEY}" != ""]?survey,1)' in text
        survey = text[text.index("exten => survey,1") :]
        agi = survey.index("AGI(${TIERLINE_AGI}?survey=${TL_SURVEY}&queue=${TL_QUEUE},")
        assert agi < survey.index("Hangup()")

    def test_a_stale_token_never_reaches_a_later_call(self) -> None:
        """Both the router's variable and the filtered copy are cleared before every route."""
        route = dialplan().split("[tierline-route]")[1]
        first_agi = route.index("AGI(${TIERLINE_AGI},${TIERLINE_DNIS})")
        assert route.index(f"Set({SURVEY_VAR}=)") < first_agi
        assert route.index("Set(TL_SURVEY=)") < first_agi
