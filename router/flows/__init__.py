"""Operator IVR flows: YAML compiled once into frozen objects, walked by a pure engine.

The usual entry points; the modules hold the rest.
"""

from __future__ import annotations

from router.flows.actions import Action, Event
from router.flows.callbacks import CallbackRequest, CallbackStore, MemoryCallbackStore
from router.flows.engine import Engine, State
from router.flows.loader import load_flows, load_texts
from router.flows.model import Flow, FlowSet
from router.flows.registry import FlowRegistry
from router.flows.runner import AccountLookup, run_flow
from router.flows.services import known_services
from router.flows.trace import trace_call
from router.flows.walk import FlowWalk, PathStep

__all__ = [
    "AccountLookup",
    "Action",
    "CallbackRequest",
    "CallbackStore",
    "Engine",
    "Event",
    "Flow",
    "FlowRegistry",
    "FlowSet",
    "FlowWalk",
    "MemoryCallbackStore",
    "PathStep",
    "State",
    "known_services",
    "load_flows",
    "load_texts",
    "run_flow",
    "trace_call",
]
