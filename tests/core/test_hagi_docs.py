"""The ``hagi://`` notes: Asterisk prepends ``_agi._tcp.`` itself (launch_ha_netscript)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAGI = re.compile(r"hagi://[^\s)`/]+(?=/inbound)")
"""URLs as used (with the route); counter-examples in the prose name no route."""


class TestHagiNotes:
    def test_no_url_carries_the_srv_prefix_or_a_port(self) -> None:
        """Each hagi:// URL in use names the plain domain: no ``_agi._tcp.``, no port."""
        files = [ROOT / "docs" / "agi.md", *sorted((ROOT / "asterisk_conf").iterdir())]
        urls = [(f.name, url) for f in files if f.is_file() for url in HAGI.findall(f.read_text())]
        assert urls, "no hagi:// URL documented"
        bad = [(name, url) for name, url in urls if "_agi._tcp" in url or ":" in url[7:]]
        assert bad == []

    def test_srv_records_are_explained(self) -> None:
        """docs/agi.md shows the SRV records Asterisk looks up for hagi://example.com."""
        text = (ROOT / "docs" / "agi.md").read_text()
        assert "_agi._tcp.example.com. 60 IN SRV" in text
        assert "disables SRV lookups" in text
