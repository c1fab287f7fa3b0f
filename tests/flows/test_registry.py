"""Hot reload swaps atomically and never serves a broken edit."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from router.errors import FlowError
from router.flows.registry import FlowRegistry
from tests.flows.helpers import CATALOG, QUEUES, big_flow

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


async def _until(check, tries: int = 200) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


class TestBadFilesInFolder:
    async def test_bad_files_never_stop_watcher_or_sighup(self, flow_dir: Path) -> None:
        """A non-UTF-8 flow and a dangling lock link are a rejected edit; SIGHUP still reloads."""
        reg = FlowRegistry(flow_dir, QUEUES)
        first = reg.current
        stop = asyncio.Event()
        task = asyncio.create_task(reg.watch(stop))
        await asyncio.sleep(0.3)
        (flow_dir / ".#main.yaml").symlink_to(flow_dir / "user@host.1234:1700000000")
        (flow_dir / "bad.yaml").write_bytes(b"flow: bad\ndescription: caf\xe9\n")
        assert await _until(lambda: reg.last_errors or task.done())
        assert not task.done(), "the watcher died on a bad file"
        assert any("bad.yaml:2:" in e and "not UTF-8" in e for e in reg.last_errors)
        assert not any(".#main.yaml" in e for e in reg.last_errors)
        reg.last_errors = ()
        os.kill(os.getpid(), signal.SIGHUP)  # the documented trigger must reload, not kill us
        assert await _until(lambda: reg.last_errors)
        assert reg.current is first
        assert not task.done()
        (flow_dir / "bad.yaml").unlink()
        (flow_dir / "main.yaml").write_text(GOOD.replace("billing", "tech"))
        assert await _until(lambda: reg.current.version != first.version)
        stop.set()
        await asyncio.wait_for(task, 5)

    def test_unexpected_exception_is_a_rejected_edit(
        self, flow_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Whatever a reload raises, it is logged as rejected and the old version serves."""
        reg = FlowRegistry(flow_dir, QUEUES)
        old = reg.current

        def broken(*_args: object) -> None:
            raise MemoryError("boom")

        monkeypatch.setattr("router.flows.registry.load_flows", broken)
        assert reg.reload() is False
        assert reg.current is old
        assert any("MemoryError: boom" in e for e in reg.last_errors)


class TestCompileOffLoop:
    async def test_big_flow_compiles_while_calls_run(
        self, flow_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A SIGHUP reload of a ~5,000-node flow leaves the loop running; the swap is whole."""
        import router.flows.registry as registry_module
        from router.flows.loader import load_flows

        reg = FlowRegistry(flow_dir, QUEUES)
        old = reg.current
        ticks = 0
        during: list[int] = []
        seen: set[int] = set()
        halves: list[str] = []

        def counted(*args: object) -> object:
            during.append(ticks)
            try:
                return load_flows(*args)  # type: ignore[arg-type]
            finally:
                during.append(ticks)

        async def call_in_flight() -> None:
            nonlocal ticks
            while True:
                fs = reg.current
                seen.add(id(fs))
                whole = "plan" in fs.compiled and set(fs.flows) == {"main", "big"}
                if fs is not old and not whole:
                    halves.append(fs.version)
                ticks += 1
                await asyncio.sleep(0)

        monkeypatch.setattr(registry_module, "load_flows", counted)
        (flow_dir / "big.yaml").write_text(big_flow())
        stop = asyncio.Event()
        watcher = asyncio.create_task(reg.watch(stop, files=False))
        ticker = asyncio.create_task(call_in_flight())
        await asyncio.sleep(0.05)
        os.kill(os.getpid(), signal.SIGHUP)
        assert await _until(lambda: reg.current is not old, tries=1200)
        ticker.cancel()
        stop.set()
        await asyncio.wait_for(watcher, 5)
        assert len(during) == 2, during
        assert during[1] - during[0] >= 10, f"calls in flight stalled while compiling: {during}"
        assert seen == {id(old), id(reg.current)}, (len(seen), reg.last_errors)
        assert not halves
        assert len(reg.current.flows["big"].nodes) > 4900

    async def test_burst_of_requests_costs_at_most_two_compiles(
        self, flow_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Reloads asked for while one compiles are folded into a single further compile."""
        import router.flows.registry as registry_module
        from router.flows.loader import load_flows

        reg = FlowRegistry(flow_dir, QUEUES)
        calls: list[int] = []

        def counted(*args: object) -> object:
            calls.append(1)
            return load_flows(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(registry_module, "load_flows", counted)
        (flow_dir / "main.yaml").write_text(GOOD.replace("billing", "tech"))
        results = await asyncio.gather(*(reg.reload_async() for _ in range(5)))
        assert results.count(True) == 1
        assert len(calls) == 2
        assert reg.current.flows["main"].nodes["a"].service == "tech"  # type: ignore[union-attr]
