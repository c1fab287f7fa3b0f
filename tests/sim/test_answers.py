"""One home of chance: the caller model's answers, drawn by walks and summed by the split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from router.customers.model import Customer
from router.flows import actions as a
from router.flows.engine import State
from simulator.answers import Answers, Resume
from simulator.flow_ivr import HANGUP, TIMEOUT, CallerModel, FlowIvr, KeyChoice
from simulator.model import IvrExit
from tests.sim.conftest import TierPolicy
from tests.sim.test_flow_ivr import CALL
from tests.sim.test_people_sim import FLOW, PROMPTS

VIP = Customer("C1", tier="vip", account_manager="am_li")


@pytest.fixture
def ivr(tmp_path: Path) -> FlowIvr:
    (tmp_path / "hotline.yaml").write_text(FLOW)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    nodes = {
        "hotline.manager": KeyChoice((TIMEOUT,), (1.0,), answered=0.25),
        "hotline.who": KeyChoice(("12345", TIMEOUT, HANGUP), (0.5, 0.8, 1.0), 4.0, verified=0.9),
    }
    services = frozenset({"billing", "sales"})
    return FlowIvr.load(tmp_path, services, TierPolicy(), CallerModel(nodes), {})


class TestAnswers:
    def test_weights_scaled_and_impossible_left_out(self) -> None:
        """Weights 2 : 0 : 6 become chances 0.25 and 0.75; the zero one is not an answer."""
        got = Answers.of([(2.0, 1.0, a.PlayDone()), (0.0, 0.0, a.HungUp()), (6.0, 3.0, IvrExit())])
        assert list(got.each()) == [(0.25, 1.0, a.PlayDone()), (0.75, 3.0, IvrExit())]

    def test_no_possible_answer_is_refused(self) -> None:
        """A step whose answers all have chance 0 is a model error, not a silent pick."""
        with pytest.raises(ValueError, match="positive chance"):
            Answers.of([(0.0, 0.0, a.PlayDone())])

    def test_certain_step_draws_nothing(self) -> None:
        """A step with one outcome leaves the caller's random stream untouched."""
        rng, twin = np.random.default_rng(4), np.random.default_rng(4)
        assert Answers.certain(a.PlayDone(), 2.0).draw(rng) == (2.0, a.PlayDone())
        assert rng.random() == twin.random()

    def test_draws_follow_the_chances(self) -> None:
        """20,000 draws of a 0.1 / 0.6 / 0.3 answer land within 4 standard errors of each."""
        got = Answers.of(
            [(0.1, 0.0, Resume("a")), (0.6, 0.0, Resume("b")), (0.3, 0.0, Resume("c"))]
        )
        rng, n = np.random.default_rng(8), 20_000
        seen = [got.draw(rng)[1] for _ in range(n)]
        for p, _s, then in got.each():
            assert abs(seen.count(then) / n - p) <= 4 * np.sqrt(p * (1 - p) / n)


class TestCallerModelAnswers:
    def test_transfer_with_fallback_rings_then_resumes(self, ivr: FlowIvr) -> None:
        """A manager answering 1 call in 4: transfer 0.25, else 20 s ringing, then the fallback."""
        first = ivr.begin(CALL, VIP, {})
        assert not isinstance(first, IvrExit)
        assert list(ivr.answers(*first, VIP).each()) == [
            (0.25, 0.0, IvrExit(ending="transfer")),
            (0.75, 20.0, Resume("who")),
        ]

    def test_second_factor_types_the_pin_at_any_key(self, ivr: FlowIvr) -> None:
        """At the PIN prompt every key but silence or hang-up is the simulated PIN."""
        state, out = ivr.follow(_at_manager(ivr), Resume("who"))
        state, out = ivr.follow(state, a.Digits("12345"))
        assert state.held == "12345"
        assert [then for _p, _s, then in ivr.answers(state, out, VIP).each()] == [
            a.Digits("0000"),
            a.Digits("", True),
            IvrExit(ending="caller_hangup"),
        ]

    def test_verify_is_the_verified_chance(self, ivr: FlowIvr) -> None:
        """An account + PIN check: the caller's customer 0.9, nobody 0.1."""
        state, out = ivr.follow(_at_manager(ivr), Resume("who"))
        state, out = ivr.follow(state, a.Digits("12345"))
        state, out = ivr.follow(state, a.Digits("0000"))
        assert isinstance(out[-1], a.Verify)
        got = list(ivr.answers(state, out, VIP).each())
        assert [(round(p, 12), then) for p, _s, then in got] == [
            (0.9, a.Verified(VIP)),
            (0.1, a.Verified(None)),
        ]

    def test_action_without_a_model_fails_loudly(self, ivr: FlowIvr) -> None:
        """An action the caller model has no answers for names itself, in walk and split alike."""
        state = _at_manager(ivr)
        with pytest.raises(TypeError, match="SetVars"):
            ivr.answers(state, (a.SetVars({}),), VIP)


def _at_manager(ivr: FlowIvr) -> State:
    first = ivr.begin(CALL, VIP, {})
    assert not isinstance(first, IvrExit)
    return first[0]
