"""Identification with a second factor at an input node: engine, masks and static checks."""

from __future__ import annotations

import pytest

from router.errors import FlowError
from router.flows import actions as a
from router.flows.trace import Trace, trace_call
from router.flows.walk import INPUT, PathStep
from tests.flows.helpers import call, customer, flows

CATALOG = """\
languages: [zh, en]
prompts:
  account: {zh: "账号", en: "account"}
  pin: {zh: "密码", en: "PIN"}
  bad: {zh: "无效", en: "invalid"}
"""
FLOW = """\
flow: main
serves: {dnis: ["100"]}
start: who
nodes:
  who:
    type: input
    prompt: account
    pattern: "\\\\d{5}"
    max_digits: 5
    verify: true
    account_prefix: C
    sensitive: true
    second_factor: {kind: pin, prompt: pin, pattern: "\\\\d{4}", max_digits: 4}
    invalid_prompt: bad
    retries: 1
    next: known
    fallback: unknown
  known: {type: queue, service: vip}
  unknown: {type: queue, service: general}
"""
ACCOUNT = customer("vip", cid="C00002")


def walk(*digits: str, pins: dict[str, dict[str, str]] | None = None) -> Trace:
    factors = {"C00002": {"pin": "2580"}} if pins is None else pins
    return trace_call(
        flows(FLOW, catalog=CATALOG), "main", call(), None, list(digits),
        accounts={"C00002": ACCOUNT}, factors=factors,
    )  # fmt: skip


class TestSecondFactor:
    def test_pin_is_asked_after_the_account_and_verified_together(self) -> None:
        """Account digits, then the PIN prompt, then one Verify of the pair; right pair links."""
        t = walk("00002", "2580")
        collects = [x.prompt for x in t.actions if isinstance(x, a.Collect)]
        assert collects == ["account", "pin"]
        verify = next(x for x in t.actions if isinstance(x, a.Verify))
        assert (verify.account, verify.factor, verify.factor_kind) == ("C00002", "2580", "pin")
        assert t.state.customer == ACCOUNT
        assert t.state.result.service == "vip"

    def test_wrong_pin_retries_then_falls_back(self) -> None:
        """A wrong PIN is an unknown account: retry once, then the fallback, no customer."""
        t = walk("00002", "1111", "00002", "2222")
        assert t.state.customer is None
        assert t.state.reason == "input_failed"
        assert t.state.result.service == "general"

    def test_another_accounts_pin_does_not_open_this_one(self) -> None:
        """C00003's right PIN typed with C00002's number is refused."""
        t = walk("00002", "9876", pins={"C00003": {"pin": "9876"}})
        assert t.state.customer is None

    def test_pin_that_breaks_the_pattern_is_never_checked(self) -> None:
        """Too short a PIN retries without a Verify."""
        t = walk("00002", "25", "00002", "2580")
        verifies = [x for x in t.actions if isinstance(x, a.Verify)]
        assert len(verifies) == 1
        assert t.state.customer == ACCOUNT

    def test_no_factor_registered_never_matches(self) -> None:
        """An account without a PIN cannot be opened with any PIN."""
        t = walk("00002", "0000", pins={})
        assert t.state.customer is None


class TestMasking:
    def test_path_notes_a_mask_never_the_digits(self) -> None:
        """The state's path, the record's path and the actions' repr hold no typed digit."""
        t = walk("00002", "2580")
        noted = "".join(v.digits for v in t.state.path)
        assert noted == "**"
        fs = flows(FLOW, catalog=CATALOG)
        steps = [PathStep.of(fs, v.flow, v.node, v.digits, 0.0) for v in t.state.path]
        assert [s.choice for s in steps if s.node == "who"] == [INPUT]
        shown = repr(t.actions) + repr(t.state.path)
        assert "2580" not in shown
        assert "00002" not in repr(t.state.path)

    def test_typed_digits_never_become_flow_variables(self) -> None:
        """Neither the account digits nor the PIN reach vars.* (nor any SetVars)."""
        t = walk("00002", "2580")
        assert t.state.facts.vars == {}
        sent = [x.values for x in t.actions if isinstance(x, a.SetVars)]
        assert not any("00002" in str(v) or "2580" in str(v) for v in sent)

    def test_sensitive_input_without_factor_is_masked_too(self) -> None:
        """sensitive: true alone masks the account digits in the path."""
        text = FLOW.replace(
            '    second_factor: {kind: pin, prompt: pin, pattern: "\\\\d{4}", max_digits: 4}\n', ""
        )
        t = trace_call(flows(text, catalog=CATALOG), "main", call(), None, ["00002"],
                       accounts={"C00002": ACCOUNT})  # fmt: skip
        assert [v.digits for v in t.state.path if v.node == "who"] == ["*"]
        assert t.state.customer == ACCOUNT


class TestIdentifyChecks:
    def problems(self, text: str) -> list[str]:
        with pytest.raises(FlowError) as info:
            flows(text, catalog=CATALOG)
        return [str(p) for p in info.value.problems]

    def test_second_factor_needs_verify(self) -> None:
        """A second factor on a node that verifies nothing is a located error."""
        found = self.problems(FLOW.replace("    verify: true\n", ""))
        assert any(p.startswith("f0.yaml:") and "needs verify: true" in p for p in found), found

    def test_sensitive_digits_cannot_go_into_a_variable(self) -> None:
        """variable: on a sensitive node would hand the digits to the dialplan: an error."""
        found = self.problems(FLOW.replace("    sensitive: true\n", "    variable: TL_ACCT\n"))
        assert any("channel variable" in p for p in found), found

    def test_factor_prompt_must_exist(self) -> None:
        """The factor's prompt is checked against the catalogue at its own line."""
        found = self.problems(FLOW.replace("prompt: pin,", "prompt: pinn,"))
        assert any(p.startswith("f0.yaml:13:") and "unknown prompt 'pinn'" in p for p in found)

    def test_unknown_factor_kind(self) -> None:
        """Only pin and id_last4 are factors."""
        found = self.problems(FLOW.replace("kind: pin", "kind: birthday"))
        assert any("f0.yaml:13:" in p and "pin" in p for p in found), found


class TestTraceCommand:
    def test_trace_masks_account_and_pin(self) -> None:
        """flows trace on the shipped telecom flow prints * for the account and the PIN."""
        from pathlib import Path

        from click.testing import CliRunner

        from router.cli import cli

        shipped = Path(__file__).resolve().parents[2] / "ivr_flows"
        args = ["flows", "trace", "telecom", "--digits", "0,00002,2580", "--dir", str(shipped)]
        result = CliRunner().invoke(cli, [*args, "--at", "2026-12-01T10:00+08:00"])
        assert result.exit_code == 0, result.output
        assert "telecom:identify  digits=**" in result.output
        assert "00002" not in result.output
        assert "2580" not in result.output

    def test_trace_shows_manager_fallback_and_language(self) -> None:
        """A VIP whose manager id is unusable: the fallback's route, the reason and the language."""
        from pathlib import Path

        from click.testing import CliRunner

        from router.cli import cli

        shipped = Path(__file__).resolve().parents[2] / "ivr_flows"
        args = ["flows", "trace", "telecom", "--tier", "vip", "--manager", "am,x", "--language"]
        result = CliRunner().invoke(
            cli, [*args, "yue", "--dir", str(shipped), "--at", "2026-12-01T10:00+08:00"]
        )
        assert result.exit_code == 0, result.output
        assert "telecom:account_manager\ntelecom:vip_lane\n" in result.output
        assert "   language yue" in result.output
        assert "after bad_target:account_manager" in result.output


class TestNoShortcut:
    def test_a_resume_token_cannot_skip_identification(self) -> None:
        """A (replayed or forged) token naming the identify node resumes nowhere."""
        from router.flows.resume import Resume, overflow_of

        fs = flows(FLOW, catalog=CATALOG)
        assert overflow_of(fs, Resume(fs.version, 1, "main", "who")) == ""
        assert overflow_of(fs, Resume(fs.version, 1, "main", "known")) == ""
