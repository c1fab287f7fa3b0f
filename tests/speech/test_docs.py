"""The reading table in ivr_flows/README.md is what the rules and the shipped say: texts give."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from router.speech import spoken

ROOT = Path(__file__).resolve().parents[2]
SAY = yaml.safe_load((ROOT / "ivr_flows" / "prompts.yaml").read_text(encoding="utf-8"))["say"]
COLUMNS = ("zh", "yue", "en")
KIND = {"13800138000": "digits", "105.50": "money", "105.05": "money", "0.5": "money"}


def table_rows() -> list[tuple[str, str, str]]:
    """(value, language, documented reading) for each cell of the "How each language" table."""
    text = (ROOT / "ivr_flows" / "README.md").read_text(encoding="utf-8")
    table = text.split("How each language reads them:", 1)[1].split("\n\n", 2)[1]
    out = []
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        values = cells[0].split(" / ")
        for lang, cell in zip(COLUMNS, cells[1:], strict=True):
            out += [(v, lang, r) for v, r in zip(values, cell.split(" / "), strict=True)]
    return out


def kind_of(value: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return "date"
    return "time" if ":" in value else KIND.get(value, "number")


def normal(reading: str, lang: str) -> str:
    """Drop what a listener cannot hear: spaces, hyphens, commas; the year zero is said 零."""
    joiner = " " if lang == "en" else ""
    return re.sub(r"[\s,-]+", joiner, reading.replace("\u3007", "零")).strip()


class TestReadme:
    def test_table_is_there(self) -> None:
        """The table was found and has every column filled."""
        assert len(table_rows()) >= 30

    @pytest.mark.parametrize(("value", "lang", "documented"), table_rows())
    def test_documented_reading(self, value: str, lang: str, documented: str) -> None:
        """Each documented reading is the shipped recordings' text for the rules' tokens."""
        tokens = spoken(kind_of(value), value, lang)  # type: ignore[arg-type]
        heard = (" " if lang == "en" else "").join(str(SAY[lang][t]) for t in tokens)
        if documented.endswith("..."):
            assert heard.startswith(normal(documented.removesuffix("..."), lang))
        else:
            assert heard == normal(documented, lang)
