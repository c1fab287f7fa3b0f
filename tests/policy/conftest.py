"""Fixtures for the routing policy tests: the shipped routing file and its policy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.policy import RoutingConfig, TieredPolicy, load_routing
from router.types import CallInfo

ROOT = Path(__file__).resolve().parents[2]
ROUTING = ROOT / "ivr_flows" / "routing.yaml"
CONF_DIR = ROOT / "asterisk_conf"


@pytest.fixture(scope="session")
def shipped() -> RoutingConfig:
    return load_routing(ROUTING)


@pytest.fixture(scope="session")
def policy(shipped: RoutingConfig) -> TieredPolicy:
    return TieredPolicy(shipped)


@pytest.fixture(scope="session")
def call() -> CallInfo:
    return CallInfo("1795348532.19", "13800138000", "4000", datetime(2026, 11, 22, tzinfo=UTC))
