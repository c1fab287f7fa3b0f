"""Hot reload swaps atomically and never serves a broken edit."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from router.errors import FlowError
from router.flows.registry import FlowRegistry
from tests.flows.helpers import CATALOG, QUEUES

GOOD = """\
flow: main
serves: {dnis: ["100"]}
start: a
nodes:
  a: {type: queue, service: billing}
"""


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    (tmp_path / "prompts.yaml").write_text(CATALOG)
    (tmp_path / "main.yaml").write_text(GOOD)
    return tmp_path


class TestRegistry:
    def test_broken_edit_keeps_old_version(self, flow_dir: Path) -> None:
        """A broken file is rejected with its errors and the old version keeps serving."""
        reg = FlowRegistry(flow_dir, QUEUES)
        old = reg.current
        (flow_dir / "main.yaml").write_text(GOOD.replace("billing", "biling"))
        assert reg.reload() is False
        assert reg.current is old
        assert any("main.yaml:5" in e and "biling" in e for e in reg.last_errors)

    def test_good_edit_swaps_and_old_calls_keep_theirs(self, flow_dir: Path) -> None:
        """A good edit is a new version; a call holding the old set still sees it."""
        reg = FlowRegistry(flow_dir, QUEUES)
        held = reg.current
        (flow_dir / "main.yaml").write_text(GOOD.replace("billing", "tech"))
        assert reg.reload() is True
        assert reg.current.version != held.version
        assert held.flows["main"].nodes["a"].service == "billing"  # type: ignore[union-attr]

    def test_startup_fails_fast(self, flow_dir: Path) -> None:
        """A broken directory at start-up raises FlowError."""
        (flow_dir / "main.yaml").write_text("flow: main\n")
        with pytest.raises(FlowError):
            FlowRegistry(flow_dir, QUEUES)

    async def test_watch_reloads_on_change_and_sighup(self, flow_dir: Path) -> None:
        """watch() picks up a file change, and SIGHUP triggers a reload."""
        reg = FlowRegistry(flow_dir, QUEUES)
        first = reg.current.version
        stop = asyncio.Event()
        task = asyncio.create_task(reg.watch(stop))
        await asyncio.sleep(0.3)
        (flow_dir / "main.yaml").write_text(GOOD.replace("billing", "tech"))
        for _ in range(100):
            if reg.current.version != first:
                break
            await asyncio.sleep(0.05)
        assert reg.current.version != first
        stop.set()
        await asyncio.wait_for(task, 5)

    async def test_sighup_reloads(self, flow_dir: Path) -> None:
        """SIGHUP triggers a reload even with file watching off."""
        reg = FlowRegistry(flow_dir, QUEUES)
        stop = asyncio.Event()
        task = asyncio.create_task(reg.watch(stop, files=False))
        await asyncio.sleep(0.05)
        (flow_dir / "other.yaml").write_text(
            GOOD.replace("main", "other").replace('"100"', '"200"')
        )
        await asyncio.sleep(0.05)
        assert "other" not in reg.current.flows
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            if "other" in reg.current.flows:
                break
            await asyncio.sleep(0.02)
        assert "other" in reg.current.flows
        stop.set()
        await asyncio.wait_for(task, 5)
