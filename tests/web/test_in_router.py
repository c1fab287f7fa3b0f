"""``tierline serve`` with TIERLINE_WEB=1: the web service beside the router, in one process."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.agi.serving import IVR, serving
from tests.redis_server import free_port


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                return await http.get(url)
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered")


class TestWebInRouter:
    async def test_readyz_sees_redis_flows_and_ami(self, redis_url: str) -> None:
        """/readyz checks the router's own flows and listener; /metrics parses."""
        port = free_port()
        async with serving(IVR, redis_url, web=True, web_port=port):
            ready = await get(f"http://127.0.0.1:{port}/readyz")
            metrics = await get(f"http://127.0.0.1:{port}/metrics")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"redis": True, "flows": True, "ami": True}
        families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
        assert "tierline_state_age_seconds" in families
        assert families["tierline_agi_sessions_active"].samples[0].value == 0.0
        assert families["tierline_agi_calls"].type == "counter"
        [info] = families["tierline_flows_info"].samples
        assert len(info.labels["version"]) >= 8

    async def test_a_routed_call_is_counted(self, redis_url: str) -> None:
        """tierline_calls_routed rises by one, labelled with the queue, tier and reason family;
        the lookup latency histogram counts the read."""
        from router.agi.caller import place_call
        from router.agi.double import environment

        port = free_port()

        def routed(text: str) -> dict[tuple[str, str, str], float]:
            out = {}
            for fam in text_string_to_metric_families(text):
                if fam.name == "tierline_calls_routed":
                    for smp in fam.samples:
                        if smp.name.endswith("_total"):
                            key = (smp.labels["queue"], smp.labels["tier"], smp.labels["reason"])
                            out[key] = smp.value
            return out

        async with serving(IVR, redis_url, web=True, web_port=port) as s:
            before = routed((await get(f"http://127.0.0.1:{port}/metrics")).text)
            env = environment("13912345678", dnis="95555", host=f"127.0.0.1:{s.agi_port}")
            call = await place_call("127.0.0.1", s.agi_port, env)
            after = routed((await get(f"http://127.0.0.1:{port}/metrics")).text)
        queue = call.variables["TIERLINE_QUEUE"]
        grown = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k)}
        [(key, rise)] = grown.items()
        assert key[:2] == (queue, "unknown")
        assert rise == 1.0

    async def test_a_bad_wallboard_file_never_stops_routing(
        self, redis_url: str, tmp_path: object
    ) -> None:
        """The web service is left out (and logged); the router still serves calls."""
        from pathlib import Path

        bad = Path(str(tmp_path)) / "wb.yaml"
        bad.write_text("timezone: Asia/Shangai\n")
        port = free_port()
        async with serving(IVR, redis_url, web=True, web_port=port, wallboard_config=bad) as s:
            _, writer = await asyncio.open_connection("127.0.0.1", s.agi_port)
            writer.close()
            try:
                await asyncio.open_connection("127.0.0.1", port)
                web_up = True
            except OSError:
                web_up = False
        assert not web_up
