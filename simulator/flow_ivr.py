"""Simulated callers walking the operator's YAML flows through the live flow engine.

The same ``router.flows.engine.Engine`` that answers live calls decides every
branch, menu retry, hours check and queue (with the same ``RoutingPolicy``);
this module only plays the caller: how long each prompt takes (the prompt
manifest), which key they press at each menu or input node (probabilities
from the scenario), whether an account number verifies. Because the walk is a
generator resumed by the simulator after each delay, conditions on live
queue state and the policy read the queues as they are when the caller
reaches that node.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from router.customers.model import Customer
from router.flows import actions as a
from router.flows.engine import Engine, State
from router.flows.loader import load_flows
from router.flows.marketing import place
from router.flows.model import FlowSet, Input, Menu, OfferNode, Survey, Transfer
from router.types import CallInfo, QueueSnapshot, RoutingPolicy
from simulator.flow_marketing import SILENT, OfferChoice, SurveyChoice, default_choice
from simulator.model import IvrExit, IvrPath, IvrWalk

__all__ = ["HANGUP", "SAY_TOKEN_S", "TIMEOUT", "CallerModel", "DataChoice", "FlowIvr", "KeyChoice"]

SIM_FACTOR = "0000"  # what a simulated caller types as a PIN (any value a factor accepts)
DIAL_RING_S = 60  # what the dialplan rings a transfer without ring_s
TIMEOUT = "timeout"  # the caller presses nothing: the node's timeout path
HANGUP = "hangup"  # the caller hangs up at this node
SAY_TOKEN_S = 0.45
"""Seconds of one spoken-value token (``say_5``, ``say_yuan``) the manifest does not list."""


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """What callers type at one menu or input node, with probabilities."""

    keys: tuple[str, ...]  # digits typed, or TIMEOUT / HANGUP
    cumulative: tuple[float, ...]
    think_s: float = 2.0  # from the end of the prompt to the key press
    verified: float = 1.0  # input nodes with verify: chance the account (and factor) checks out
    answered: float = 1.0  # transfer nodes with a fallback: chance the person answers the Dial()

    def pick(self, rng: np.random.Generator) -> str:
        i = bisect_right(self.cumulative, float(rng.random()) * self.cumulative[-1])
        return self.keys[min(i, len(self.keys) - 1)]


@dataclass(frozen=True, slots=True)
class DataChoice:
    """How a fetch or notify node's backend behaves: success chance, latency, values.

    A failure is modelled as the node's deadline running out (the caller
    waits it in silence, the worst case); a fetch's variables hold
    ``values`` (others "0").
    """

    ok: float = 0.99
    latency_s: float = 0.1
    values: Mapping[str, str] = field(default_factory=dict)

    def answer(self, action: a.Fetch | a.Notify, rng: np.random.Generator) -> tuple[float, a.Event]:
        deadline = action.timeout_ms / 1000
        if float(rng.random()) >= self.ok:
            failed = a.Fetched("timeout") if isinstance(action, a.Fetch) else a.Notified("timeout")
            return deadline, failed
        wait = min(self.latency_s, deadline)
        if isinstance(action, a.Notify):
            return wait, a.Notified("ok")
        return wait, a.Fetched("ok", {v: self.values.get(v, "0") for v in action.fields})


@dataclass(frozen=True, slots=True)
class CallerModel:
    """Caller behaviour per ``flow.node``; unlisted menus get a uniform pick of their keys.

    ``data`` holds the backend behaviour of fetch/notify nodes (``flow.node``);
    unlisted ones behave as ``default_data``.
    """

    nodes: Mapping[str, KeyChoice] = field(default_factory=dict)
    default_think_s: float = 2.0
    data: Mapping[str, DataChoice] = field(default_factory=dict)
    default_data: DataChoice = field(default_factory=DataChoice)
    marketing: Mapping[str, OfferChoice | SurveyChoice] = field(default_factory=dict)

    def choice(self, engine: Engine, state: State) -> KeyChoice:
        found = self.nodes.get(f"{state.flow}.{state.node}")
        if found is not None:
            return found
        return self._default(engine.flows.flows[state.flow].nodes[state.node])

    def complete(self, flows: FlowSet) -> CallerModel:
        """Every menu and input node given its behaviour once, not built again per key press."""
        nodes = {
            f"{flow.name}.{name}": self.nodes.get(f"{flow.name}.{name}") or self._default(node)
            for flow in flows.flows.values()
            for name, node in flow.nodes.items()
            if isinstance(node, Menu | Input)
        }
        return replace(self, nodes={**self.nodes, **nodes})

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
    ) -> IvrExit | tuple[State, tuple[a.Action, ...]]:
        """The engine's first step for this call, or the exit of a number no flow serves."""
        flow = self.engine.flows.for_call(call.dnis, call.script)
        if flow is None:
            return IvrExit(self.unrouted_service)
        return self.engine.start(flow.name, self.engine.facts(call, customer, queues))

    def outcomes(
        self, state: State, out: tuple[a.Action, ...], customer: Customer | None
    ) -> list[tuple[float, a.Event, IvrExit | None]]:
        """Every answer the caller may give to one step's actions, with its probability.

        The exact traffic split (:mod:`simulator.split`) walks these instead of
        sampling. They come from the sampled path itself (:meth:`_act`), fed
        one uniform per cell of the caller's choice, so the two can never
        disagree about what a key press or a failed verification leads to.
        """
        cuts = sorted({c for c in self._cuts(state, out) if 0.0 < c < 1.0})
        found = []
        for lo, hi in pairwise((0.0, *cuts, 1.0)):
            fixed = _OneDraw((lo + hi) / 2)
            _secs, event, done = self._act(state, out, customer, fixed)  # type: ignore[arg-type]
            found.append((hi - lo, event, done))
        return found

    def _cuts(self, state: State, out: tuple[a.Action, ...]) -> list[float]:
        """Where the caller's one uniform draw of this step changes its answer."""
        for action in out:
            if isinstance(action, a.Collect) and (marketing := self._marketing_cuts(state)):
                return marketing
            if isinstance(action, a.Collect):
                choice = self.callers.choice(self.engine, state)
                return [c / choice.cumulative[-1] for c in choice.cumulative]
            if isinstance(action, a.Verify):
                return [self.callers.choice(self.engine, state).verified]
            if isinstance(action, a.Fetch | a.Notify):  # the backend answers ok below this
                return [self._data(state).ok]
        return []

    def _data(self, state: State) -> DataChoice:
        """How the backend of the fetch or notify node the call is at behaves."""
        where = f"{state.flow}.{state.node}"
        return self.callers.data.get(where, self.callers.default_data)

    def _steps(
        self,
        state: State,
        out: tuple[a.Action, ...],
        customer: Customer | None,
        rng: np.random.Generator,
    ) -> IvrWalk:
        while True:
            seconds, event, done = self._act(state, out, customer, rng)
            if seconds > 0:
                yield seconds
            if done is not None:
                missed = self._unanswered(state, done, rng)
                if missed is None:
                    return done
                yield float(missed.ring_s or DIAL_RING_S)
                state, out = self.engine.resume(
                    state.flow, missed.fallback, state.facts, state.stack
                )
                continue
            state, out = self.engine.step(state, event)

    def ringing(self, state: State, done: IvrExit) -> tuple[float, Transfer] | None:
        """A transfer with a fallback: the chance its person answers, and the node.

        Unanswered, the dialplan resumes the flow at the node's fallback (the
        exact split, :mod:`simulator.split`, follows both branches).
        """
        node = self.engine.flows.flows[state.flow].nodes[state.node]
        if done.ending != "transfer" or not isinstance(node, Transfer) or not node.fallback:
            return None
        return self.callers.choice(self.engine, state).answered, node

    def _unanswered(self, state: State, done: IvrExit, rng: np.random.Generator) -> Transfer | None:
        """A transfer with a fallback whose person did not answer: the dialplan resumes the flow."""
        ring = self.ringing(state, done)
        if ring is None:
            return None
        return None if float(rng.random()) < ring[0] else ring[1]

    def _act(
        self,
        state: State,
        out: tuple[a.Action, ...],
        customer: Customer | None,
        rng: np.random.Generator,
    ) -> tuple[float, a.Event, IvrExit | None]:
        """Seconds the actions of one step take, the caller's answer, or how they left."""
        seconds = 0.0
        event: a.Event = a.PlayDone()
        for action in out:
            match action:
                case a.Play():
                    seconds += sum(self._seconds(p) for p in action.prompts)
                case a.Collect():
                    secs, event = self._collect(state, action, rng)
                    seconds += self._seconds(action.prompt) + secs
                case a.Verify():
                    event = self._verify(state, customer, rng)
                case a.Fetch() | a.Notify():
                    secs, event = self._data(state).answer(action, rng)
                    seconds += secs
                case a.Route():
                    return seconds, event, IvrExit(action.service, action.decision, path=state.path)
                case a.SetVars() | a.RecordOffer() | a.RecordAnswer():
                    pass
                case _:
                    return seconds, event, IvrExit(ending=_ending(action), path=state.path)
        if isinstance(event, a.HungUp):
            return seconds, event, IvrExit(ending="caller_hangup", path=state.path)
        return seconds, event, None

    def _collect(
        self, state: State, action: a.Collect, rng: np.random.Generator
    ) -> tuple[float, a.Event]:
        node = self.engine.flows.flows[state.flow].nodes[state.node]
        if isinstance(node, OfferNode | Survey):
            return self._marketing_key(state, node, action, rng)
        choice = self.callers.choice(self.engine, state)
        key = choice.pick(rng)
        if key == HANGUP:
            return choice.think_s, a.HungUp()
        if key == TIMEOUT:
            return action.timeout_ms / 1000, a.Digits("", True)
        if state.held:  # the second factor: whether it is right is `verified`'s draw
            return choice.think_s, a.Digits(SIM_FACTOR)
        return choice.think_s, a.Digits(key)

    def _marketing_key(
        self, state: State, node: OfferNode | Survey, action: a.Collect, rng: np.random.Generator
    ) -> tuple[float, a.Event]:
        """simulator.flow_marketing: accept / next / back at offers, digits at surveys."""
        choice = self._marketing_choice(state, node)
        here = place(state)
        if isinstance(node, OfferNode) and isinstance(choice, OfferChoice):
            key = choice.key(node, here, rng)
        elif isinstance(node, Survey) and isinstance(choice, SurveyChoice):
            key = choice.key(node.questions[here], rng)
        else:
            key = SILENT
        if key == SILENT:
            return action.timeout_ms / 1000, a.Digits("", True)
        return choice.think_s, a.Digits(key)

    def _marketing_choice(
        self, state: State, node: OfferNode | Survey
    ) -> OfferChoice | SurveyChoice:
        return self.callers.marketing.get(f"{state.flow}.{state.node}") or default_choice(node)

    def _marketing_cuts(self, state: State) -> list[float] | None:
        """The draw's cuts at an offer or survey node (None at any other node)."""
        node = self.engine.flows.flows[state.flow].nodes[state.node]
        if not isinstance(node, OfferNode | Survey):
            return None
        choice, here = self._marketing_choice(state, node), place(state)
        if isinstance(node, OfferNode) and isinstance(choice, OfferChoice):
            return [*choice.cuts(here)]
        if isinstance(node, Survey) and isinstance(choice, SurveyChoice):
            return choice.cuts(node.questions[here])
        return [0.0]  # a mismatched choice is always silent: no cut

    def _verify(self, state: State, customer: Customer | None, rng: np.random.Generator) -> a.Event:
        choice = self.callers.choice(self.engine, state)
        if float(rng.random()) >= choice.verified:
            return a.Verified(None)
        return a.Verified(customer or Customer(customer_id="sim-verified"))

    def _seconds(self, prompt: str) -> float:
        found = self.durations.get(prompt)
        if found is not None:
            return found
        return SAY_TOKEN_S if "say_" in prompt else self.default_prompt_s


class _OneDraw:
    """Stands in for the caller's generator when a step's answers are enumerated.

    A step draws at most once (a key press or a verification); a second
    draw would make the enumeration wrong, so it is refused loudly.
    """

    def __init__(self, value: float) -> None:
        self.value, self.used = value, False

    def random(self) -> float:
        if self.used:
            raise ValueError("a caller step drew twice; it cannot be enumerated")
        self.used = True
        return self.value


def _rebuild(args: tuple[Any, ...], durations: dict[str, float], kwargs: dict[str, Any]) -> FlowIvr:
    directory, services, policy, callers = args
    if not Path(directory).is_dir():  # never simulate silently without the IVR
        raise FileNotFoundError(f"flows directory {str(directory)!r} is not on this worker")
    return FlowIvr.load(directory, services, policy, callers, durations, **kwargs)


def _ending(action: a.Action) -> str:
    match action:
        case a.RequestCallback():
            return "callback"
        case a.TransferTo():
            return "transfer"
        case a.VoicemailTo():
            return "voicemail"
        case a.HangUp(reason="caller_hangup"):
            return "caller_hangup"
    return "hangup"
