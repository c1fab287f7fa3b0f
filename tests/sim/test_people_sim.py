"""Simulated callers and the customer's own people: managers who answer or not, PINs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from router.customers.model import Customer
from router.types import QueueSnapshot
from simulator.flow_ivr import CallerModel, FlowIvr, KeyChoice
from tests.sim.conftest import TierPolicy
from tests.sim.test_flow_ivr import CALL, run_walk

FLOW = """\
flow: hotline
serves: {dnis: ["100"]}
start: manager
nodes:
  manager:
    type: transfer
    to: {customer: account_manager}
    ring_s: 20
    fallback: who
  who:
    type: input
    prompt: account
    pattern: "\\\\d{5}"
    max_digits: 5
    verify: true
    second_factor: {kind: pin, prompt: pin}
    retries: 0
    next: billing
    fallback: sales
  billing: {type: queue, service: billing}
  sales: {type: queue, service: sales}
"""
PROMPTS = """\
languages: [en]
prompts:
  account: {en: "Account?"}
  pin: {en: "PIN?"}
"""
VIP = Customer("C1", tier="vip", account_manager="am_li")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    (tmp_path / "hotline.yaml").write_text(FLOW)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    return tmp_path


def ivr(flows_dir: Path, answered: float, verified: float = 1.0) -> FlowIvr:
    nodes = {
        "hotline.manager": KeyChoice(("timeout",), (1.0,), answered=answered),
        "hotline.who": KeyChoice(("12345",), (1.0,), 1.0, verified=verified),
    }
    durations = {"account": 2.0, "pin": 2.0}
    return FlowIvr.load(
        flows_dir, frozenset({"billing", "sales"}), TierPolicy(), CallerModel(nodes), durations
    )


class TestManagerInTheSimulator:
    def test_answered_manager_ends_the_ivr_as_a_transfer(self, flows_dir: Path) -> None:
        """A manager who always answers: the call leaves as a transfer, at once."""
        seconds, done = run_walk(ivr(flows_dir, 1.0).walk(CALL, VIP, np.random.default_rng(3), {}))
        assert (seconds, done.ending) == (0.0, "transfer")

    def test_unanswered_manager_rings_then_the_fallback(self, flows_dir: Path) -> None:
        """Never answered: 20 s of ringing, then account + PIN (verified) -> billing."""
        walk = ivr(flows_dir, 0.0).walk(CALL, VIP, np.random.default_rng(3), {})
        seconds, done = run_walk(walk)
        assert seconds == pytest.approx(20 + (2 + 1) + (2 + 1))
        assert done.service == "billing"

    def test_wrong_factor_takes_the_fallback(self, flows_dir: Path) -> None:
        """A caller whose account and PIN never check out ends at the input's fallback."""
        walk = ivr(flows_dir, 0.0, verified=0.0).walk(CALL, VIP, np.random.default_rng(3), {})
        assert run_walk(walk)[1].service == "sales"

    def test_absent_manager_is_skipped_without_ringing(self, flows_dir: Path) -> None:
        """The simulated personal queue shows nobody: straight to the fallback."""
        queues = {"am_li": QueueSnapshot("am_li")}
        walk = ivr(flows_dir, 1.0).walk(CALL, VIP, np.random.default_rng(3), queues)
        seconds, done = run_walk(walk)
        assert seconds == pytest.approx((2 + 1) + (2 + 1))
        assert done.service == "billing"

    def test_answer_rate_is_honoured(self, flows_dir: Path) -> None:
        """With answered 0.3, about 30 % of 2,000 seeded walks leave as transfers."""
        model = ivr(flows_dir, 0.3)
        rng = np.random.default_rng(11)
        call = replace(CALL, uniqueid="x")
        ends = [run_walk(model.walk(call, VIP, rng, {}))[1].ending for _ in range(2000)]
        assert ends.count("transfer") / 2000 == pytest.approx(0.3, abs=0.03)
