"""``router.eventloop``: uvloop when wanted and installed, and the collector tuning."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
from collections.abc import Iterator

import pytest

from router.errors import ConfigError
from router.eventloop import GC_GEN0_THRESHOLD, loop_name, run, tune_gc
from router.settings import Settings

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


async def running_loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


class TestRun:
    def test_opt_out_runs_the_standard_loop(self) -> None:
        """want_uvloop=False always gives asyncio's own loop."""
        assert loop_name(False) == "asyncio"
        assert run(running_loop_module(), want_uvloop=False) == "asyncio"

    @pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is not installed here")
    def test_uvloop_is_used_when_installed(self) -> None:
        """The default runs on uvloop where it is installed."""
        assert loop_name() == "uvloop"
        assert run(running_loop_module()) == "uvloop"

    @pytest.mark.parametrize(("raw", "want"), [("0", False), ("off", False), ("1", True)])
    def test_setting_reads_the_flag(self, raw: str, want: bool) -> None:
        """TIERLINE_UVLOOP takes the usual flag spellings."""
        assert Settings.from_env({"TIERLINE_UVLOOP": raw}).uvloop is want

    def test_bad_flag_names_the_variable(self) -> None:
        """A value that is no flag is refused with the variable's name."""
        with pytest.raises(ConfigError, match="TIERLINE_UVLOOP"):
            Settings.from_env({"TIERLINE_UVLOOP": "maybe"})


@pytest.fixture
def gc_state() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


class TestTuneGC:
    def test_freezes_the_heap_and_raises_the_young_threshold(self, gc_state: None) -> None:
        """After tune_gc the start-up objects are frozen and gen 0 waits 50,000 allocations."""
        tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
