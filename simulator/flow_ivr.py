"""Simulated callers walking the operator's YAML flows through the live flow engine.

The same ``router.flows.engine.Engine`` that answers live calls decides every
branch, menu retry, hours check and queue (with the same ``RoutingPolicy``);
this module only plays the caller: how long each prompt takes (the prompt
manifest), which key they press at each menu or input node (probabilities
from the scenario), whether an account number verifies, whether a person
rung by a transfer answers, whether a fetch or notify backend answers (the
scenario's ``ivr.data``, :mod:`simulator.flow_data`). Because the walk is a generator resumed by the
simulator after each delay, conditions on live queue state and the policy
read the queues as they are when the caller reaches that node.

Every chance a caller takes is in :meth:`CallerModel.answers`, as a
distribution (:class:`simulator.answers.Answers`): the walk draws from it
and the exact traffic split (:mod:`simulator.split`) enumerates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from router.customers.model import Customer
from router.flows import actions as a
from router.flows.engine import Engine, Outcome, State
from router.flows.loader import load_flows
from router.flows.marketing import place
from router.flows.model import FlowSet, Input, Menu, OfferNode, Survey, Transfer
from router.types import CallInfo, QueueSnapshot, RoutingPolicy
from simulator.answers import Answers, Resume, Then
from simulator.flow_data import DataChoice
from simulator.flow_marketing import OfferChoice, SurveyChoice, answers_at, default_choice
from simulator.model import IvrExit, IvrPath, IvrWalk

__all__ = ["HANGUP", "SAY_TOKEN_S", "TIMEOUT", "CallerModel", "FlowIvr", "KeyChoice"]

SIM_FACTOR = "0000"  # what a simulated caller types as a PIN (any value a factor accepts)
DIAL_RING_S = 60  # what the dialplan rings a transfer without ring_s
TIMEOUT = "timeout"  # the caller presses nothing: the node's timeout path
HANGUP = "hangup"  # the caller hangs up at this node
SIM_VERIFIED = Customer(customer_id="sim-verified")  # who an anonymous caller proves to be
SAY_TOKEN_S = 0.45
"""Seconds of one spoken-value token (``say_5``, ``say_yuan``) the manifest does not list."""

_PLAYED = Answers.certain(a.PlayDone())  # a prompt played to its end


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """What callers do at one menu, input or transfer node, with probabilities."""

    keys: tuple[str, ...]  # digits typed, or TIMEOUT / HANGUP
    cumulative: tuple[float, ...]
    think_s: float = 2.0  # from the end of the prompt to the key press
    verified: float = 1.0  # input nodes with verify: chance the account (and factor) checks out
    answered: float = 1.0  # transfer nodes with a fallback: chance the person answers the Dial()

    def typed(self, action: a.Collect, held: bool) -> Answers:
        """Each key with its chance; at a second factor (``held``) any key is the right PIN
        (whether it checks out is ``verified``'s chance at the Verify that follows)."""
        cuts = zip(self.keys, (0.0, *self.cumulative), self.cumulative, strict=False)
        return Answers.of((hi - lo, *self._key(key, action, held)) for key, lo, hi in cuts)

    def _key(self, key: str, action: a.Collect, held: bool) -> tuple[float, Then]:
        if key == HANGUP:
            return self.think_s, IvrExit(ending="caller_hangup")
        if key == TIMEOUT:
            return action.timeout_ms / 1000, a.Digits("", True)
        return self.think_s, a.Digits(SIM_FACTOR if held else key)


@dataclass(frozen=True, slots=True)
class CallerModel:
    """Caller behaviour per ``flow.node``; unlisted menus get a uniform pick of their keys.

    ``data`` holds the backend behaviour of fetch/notify nodes (``flow.node``);
    unlisted ones behave as ``default_data``. ``marketing`` holds offer and
    survey nodes' callers (:mod:`simulator.flow_marketing`).
    """

    nodes: Mapping[str, KeyChoice] = field(default_factory=dict)
    default_think_s: float = 2.0
    data: Mapping[str, DataChoice] = field(default_factory=dict)
    default_data: DataChoice = field(default_factory=DataChoice)
    marketing: Mapping[str, OfferChoice | SurveyChoice] = field(default_factory=dict)
    _memo: dict[tuple[Any, ...], Answers] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def choice(self, engine: Engine, state: State) -> KeyChoice:
        found = self.nodes.get(f"{state.flow}.{state.node}")
        if found is not None:
            return found
        return self._default(engine.flows.flows[state.flow].nodes[state.node])

    def answers(
        self, engine: Engine, state: State, action: a.Action, customer: Customer | None
    ) -> Answers:
        """How the step ending in ``action`` may go, with chances: the one home of chance.

        The walk draws from this and the exact split enumerates it, so a
        new blocking action gets its answers here or fails in both.
        """
        match action:
            case a.Collect():
                return self._keys(engine, state, action)
            case a.Play():
                return _PLAYED
            case a.Verify():
                ok = self.choice(engine, state).verified
                found = a.Verified(customer or SIM_VERIFIED)
                return Answers.of(((ok, 0.0, found), (1.0 - ok, 0.0, a.Verified(None))))
            case a.TransferTo():
                return self._transfer(engine, state)
            case a.Fetch() | a.Notify():
                return self._backend(state, action)
            case a.Route() | a.RequestCallback() | a.VoicemailTo() | a.HangUp():
                return Answers.certain(_leaving(action))
        raise TypeError(f"simulated callers have no answer to {type(action).__name__}")

    def complete(self, flows: FlowSet) -> CallerModel:
        """Every menu and input node given its behaviour once, not built again per key press."""
        nodes = {
            f"{flow.name}.{name}": self.nodes.get(f"{flow.name}.{name}") or self._default(node)
            for flow in flows.flows.values()
            for name, node in flow.nodes.items()
            if isinstance(node, Menu | Input)
        }
        return replace(self, nodes={**self.nodes, **nodes})

    def _keys(self, engine: Engine, state: State, action: a.Collect) -> Answers:
        """A Collect's answers, built once per node and prompt (a walk asks at every key).

        The memo holds because a key's chance depends on nothing else; at an
        offer or survey node it depends on the place too (which offer, which
        question), so those are never filed here but by :meth:`_marketing`.
        """
        memo = (state.flow, state.node, bool(state.held), action)
        found = self._memo.get(memo)
        if found is not None:
            return found
        node = engine.flows.flows[state.flow].nodes[state.node]
        if isinstance(node, OfferNode | Survey):
            return self._marketing(state, node, action)
        found = self._memo[memo] = self.choice(engine, state).typed(action, bool(state.held))
        return found

    def _marketing(self, state: State, node: OfferNode | Survey, action: a.Collect) -> Answers:
        """An offer's or survey's keys, built once per node, place and prompt."""
        here = place(state)
        memo = ("marketing", state.flow, state.node, here, action)
        found = self._memo.get(memo)
        if found is None:
            where = f"{state.flow}.{state.node}"
            choice = self.marketing.get(where) or default_choice(node)
            found = self._memo[memo] = answers_at(choice, node, here, action.timeout_ms / 1000)
        return found

    def _transfer(self, engine: Engine, state: State) -> Answers:
        """Left as a transfer, unless nobody answers a Dial() that has a fallback node."""
        memo = (state.flow, state.node)
        found = self._memo.get(memo)
        if found is None:
            found = self._memo[memo] = self._dial(engine, state)
        return found

    def _backend(self, state: State, action: a.Fetch | a.Notify) -> Answers:
        """A fetch's or notify's answers, built once per node (its fields and deadline are
        the node's own, whatever the call's values)."""
        memo = ("data", state.flow, state.node)
        found = self._memo.get(memo)
        if found is None:
            where = f"{state.flow}.{state.node}"
            data = self.data.get(where, self.default_data)
            found = self._memo[memo] = data.answers(action)
        return found

    def _dial(self, engine: Engine, state: State) -> Answers:
        node = engine.flows.flows[state.flow].nodes[state.node]
        out = IvrExit(ending="transfer")
        if not isinstance(node, Transfer) or not node.fallback:
            return Answers.certain(out)
        answered = self.choice(engine, state).answered
        ring = float(node.ring_s or DIAL_RING_S)
        return Answers.of(((answered, 0.0, out), (1.0 - answered, ring, Resume(node.fallback))))

    def _default(self, node: object) -> KeyChoice:
        options = tuple(getattr(node, "options", {}))
        keys = options or (TIMEOUT,)  # an unlisted input node: the caller gives up
        return KeyChoice(keys, tuple(range(1, len(keys) + 1)), self.default_think_s)


@dataclass(frozen=True, slots=True)
class FlowIvr:
    """IvrModel: the flow for the dialled number, stepped by the live engine.

    Pickled (for process pools and Dask) as its flows directory, not as the
    compiled flows: compiled CEL programs do not pickle, so each worker
    compiles the same files again, exactly as a router process would.
    """

    engine: Engine
    callers: CallerModel
    durations: Mapping[str, float]  # prompt path as the engine emits it -> seconds
    default_prompt_s: float = 3.0
    unrouted_service: str = "general"  # a DNIS no flow serves goes to the policy with this
    source: str = ""  # the flows directory the engine was compiled from
    services: frozenset[str] = frozenset()  # the service names the flows were checked against

    @classmethod
    def load(
        cls,
        directory: Path,
        services: frozenset[str],
        policy: RoutingPolicy,
        callers: CallerModel,
        durations: Mapping[str, float],
        *,
        default_prompt_s: float = 3.0,
        unrouted_service: str = "general",
    ) -> FlowIvr:
        """Compile the flows in ``directory``; raises FlowError with located problems."""
        engine = Engine(load_flows(directory, services), policy)
        return cls(
            engine,
            callers.complete(engine.flows),
            dict(durations),
            default_prompt_s,
            unrouted_service,
            str(Path(directory).resolve()),  # a worker may run in any directory
            services,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        if not self.source:
            raise TypeError("a FlowIvr built without FlowIvr.load cannot be sent to a worker")
        args = (Path(self.source), self.services, self.engine.policy, self.callers)
        kwargs = {
            "default_prompt_s": self.default_prompt_s,
            "unrouted_service": self.unrouted_service,
        }
        return (_rebuild, (args, dict(self.durations), kwargs))

    def walk(
        self,
        call: CallInfo,
        customer: Customer | None,
        rng: np.random.Generator,
        queues: Mapping[str, QueueSnapshot],
    ) -> IvrPath:
        first = self.begin(call, customer, queues)
        if isinstance(first, IvrExit):
            return first
        return self._steps(*first, customer, rng)

    def begin(
        self, call: CallInfo, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
    ) -> IvrExit | Outcome:
        """The engine's first step for this call, or the exit of a number no flow serves."""
        flow = self.engine.flows.for_call(call.dnis, call.script)
        if flow is None:
            return IvrExit(self.unrouted_service)
        return self.engine.start(flow.name, self.engine.facts(call, customer, queues))

    def answers(
        self, state: State, out: tuple[a.Action, ...], customer: Customer | None
    ) -> Answers:
        """How one step (the engine's actions ``out``) may end; its last action is answered."""
        if not out:
            raise ValueError(f"the engine gave no action at {state.flow}.{state.node}")
        return self.callers.answers(self.engine, state, out[-1], customer)

    def follow(self, state: State, then: a.Event | Resume) -> Outcome:
        """The engine's next step after an answer that keeps the caller in the IVR."""
        if isinstance(then, Resume):  # the dialplan resumes the flow after a failed Dial()
            return self.engine.resume(state.flow, then.node, state.facts, state.stack)
        return self.engine.step(state, then)

    def _steps(
        self,
        state: State,
        out: tuple[a.Action, ...],
        customer: Customer | None,
        rng: np.random.Generator,
    ) -> IvrWalk:
        while True:
            seconds, then = self.answers(state, out, customer).draw(rng)
            seconds += self._prompts_s(out)
            if seconds > 0:
                yield seconds
            if isinstance(then, IvrExit):  # the path is the call's own (a record may want it)
                return IvrExit(then.service, then.decision, then.ending, state.path)
            state, out = self.follow(state, then)

    def _prompts_s(self, out: tuple[a.Action, ...]) -> float:
        """Seconds the step's prompts play (a Collect's prompt too) before the caller answers."""
        seconds = 0.0
        for action in out:
            if isinstance(action, a.Play):
                seconds += sum(self._seconds(p) for p in action.prompts)
            elif isinstance(action, a.Collect):
                seconds += self._seconds(action.prompt)
        return seconds

    def _seconds(self, prompt: str) -> float:
        found = self.durations.get(prompt)
        if found is not None:
            return found
        return SAY_TOKEN_S if "say_" in prompt else self.default_prompt_s


def _rebuild(args: tuple[Any, ...], durations: dict[str, float], kwargs: dict[str, Any]) -> FlowIvr:
    directory, services, policy, callers = args
    if not Path(directory).is_dir():  # never simulate silently without the IVR
        raise FileNotFoundError(f"flows directory {str(directory)!r} is not on this worker")
    return FlowIvr.load(directory, services, policy, callers, durations, **kwargs)


def _leaving(action: a.Route | a.RequestCallback | a.VoicemailTo | a.HangUp) -> IvrExit:
    """How a terminal action takes the caller out of the IVR."""
    match action:
        case a.Route():
            return IvrExit(action.service, action.decision)
        case a.RequestCallback():
            return IvrExit(ending="callback")
        case a.VoicemailTo():
            return IvrExit(ending="voicemail")
        case a.HangUp(reason="caller_hangup"):
            return IvrExit(ending="caller_hangup")
    return IvrExit(ending="hangup")
