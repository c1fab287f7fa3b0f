"""Properties: every reading parses back to its value and stays in its vocabulary."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from router.speech import LANGUAGES, spoken, vocabulary
from router.speech.values import MAX_INTEGER
from tests.speech.helpers import (
    chinese,
    chinese_integer,
    chinese_money,
    english,
    english_integer,
)

CHINESE_LANGS = st.sampled_from(["zh", "yue"])
integers = st.one_of(
    st.integers(0, 10**5),
    st.integers(0, MAX_INTEGER),
    st.integers(0, 10**5).map(lambda n: n * 10**8),  # zeros under 亿
)
fen_amounts = st.integers(-(10**12), 10**12)
days = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))
times = st.times()


def money_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


class TestChineseRoundTrip:
    @settings(max_examples=400, deadline=None)
    @given(n=integers, lang=CHINESE_LANGS, negative=st.booleans())
    def test_number_parses_back(self, n: int, lang: str, negative: bool) -> None:
        """Reading an integer and parsing the characters back gives the integer."""
        heard = chinese(spoken("number", f"{'-' if negative else ''}{n}", lang))
        if negative and n:
            assert heard.startswith("负")
            heard = heard[1:]
        assert chinese_integer(heard) == n

    @settings(max_examples=400, deadline=None)
    @given(n=integers, lang=CHINESE_LANGS)
    def test_zero_rules(self, n: int, lang: str) -> None:
        """Never two 零 in a row, no trailing 零, no leading 一十, 两 never before 十."""
        heard = chinese(spoken("number", str(n), lang))
        assert "零零" not in heard
        assert n == 0 or not heard.endswith("零")
        assert not heard.startswith("一十")
        assert "两十" not in heard
        assert not heard.endswith("两")

    @settings(max_examples=300, deadline=None)
    @given(fen=fen_amounts, lang=CHINESE_LANGS)
    def test_money_parses_back(self, fen: int, lang: str) -> None:
        """元/角/分 readings parse back to the same number of fen."""
        assert chinese_money(chinese(spoken("money", money_text(fen), lang))) == fen

    @settings(max_examples=300, deadline=None)
    @given(day=days, lang=CHINESE_LANGS)
    def test_date_parses_back(self, day: date, lang: str) -> None:
        """年/月/日 (號) readings give back year, month and day."""
        heard = chinese(spoken("date", day.isoformat(), lang))
        found = re.fullmatch(r"(.{4})年(.+)月(.+)[日號]", heard)
        assert found is not None
        year = int("".join(str("零一二三四五六七八九".index(c)) for c in found[1]))
        month, dom = chinese_integer(found[2]), chinese_integer(found[3])
        assert date(year, month, dom) == day

    @settings(max_examples=300, deadline=None)
    @given(when=times, lang=CHINESE_LANGS)
    def test_time_parses_back(self, when: time, lang: str) -> None:
        """点/分/整 readings give back hour and minute."""
        heard = chinese(spoken("time", when.isoformat(), lang))
        found = re.fullmatch(r"(.+?)点(?:整|(.+)分)", heard)
        assert found is not None
        minute = chinese_integer(found[2].lstrip("零") or "零") if found[2] else 0
        assert (chinese_integer(found[1]), minute) == (when.hour, when.minute)


class TestEnglishRoundTrip:
    @settings(max_examples=400, deadline=None)
    @given(n=integers)
    def test_number_parses_back(self, n: int) -> None:
        """Reading an integer and summing the words back gives the integer."""
        assert english_integer(english(spoken("number", str(n), "en")).split()) == n

    @settings(max_examples=300, deadline=None)
    @given(fen=fen_amounts)
    def test_money_parses_back(self, fen: int) -> None:
        """yuan/fen readings parse back to the same number of fen."""
        words = english(spoken("money", money_text(fen), "en")).split()
        sign = -1 if words[:1] == ["minus"] else 1
        words = words[1:] if sign < 0 else words
        yuan = english_integer(words[: words.index("yuan")]) if "yuan" in words else 0
        rest = words[words.index("yuan") + 1 :] if "yuan" in words else words
        cents = english_integer(rest[:-1]) if rest else 0
        assert sign * (yuan * 100 + cents) == fen

    @settings(max_examples=300, deadline=None)
    @given(when=times)
    def test_time_parses_back(self, when: time) -> None:
        """12-hour readings with am/pm/noon/midnight give back the 24-hour time."""
        *words, half = english(spoken("time", when.isoformat(), "en")).split()
        hour = english_integer(words[:1]) % 12 + (12 if half in ("pm", "noon") else 0)
        minute = english_integer([w for w in words[1:] if w != "oh"]) if words[1:] else 0
        assert (hour, minute) == (when.hour, when.minute)


class TestVocabulary:
    @settings(max_examples=300, deadline=None)
    @given(
        lang=st.sampled_from(LANGUAGES),
        n=integers,
        fraction=st.text("0123456789", max_size=6),
        fen=fen_amounts,
        digits=st.text("0123456789", min_size=1, max_size=32),
    )
    def test_every_number_token_is_in_the_vocabulary(
        self, lang: str, n: int, fraction: str, fen: int, digits: str
    ) -> None:
        """Whatever number, money or digits is spoken, each token is in vocabulary(language)."""
        number = f"-{n}.{fraction}" if fraction else str(n)
        said = set(spoken("number", number, lang)) | set(spoken("digits", digits, lang))
        said |= set(spoken("money", money_text(fen), lang))
        assert said <= vocabulary(lang)

    @settings(max_examples=300, deadline=None)
    @given(lang=st.sampled_from(LANGUAGES), day=days, when=times)
    def test_every_date_token_is_in_the_vocabulary(self, lang: str, day: date, when: time) -> None:
        """Whatever date or time is spoken, each token is in vocabulary(language)."""
        said = set(spoken("date", day.isoformat(), lang)) | set(spoken("time", str(when), lang))
        assert said <= vocabulary(lang)

    def test_no_token_is_dead(self) -> None:
        """Every vocabulary token is spoken by some value: no recording is wasted."""
        for lang in LANGUAGES:
            said: set[str] = set()
            for n in (*range(10_001), 10**8, 10**9, 10**12, 20_000):
                said |= set(spoken("number", f"-{n}.5", lang))
            for fen in (5, 22, 105, 250):
                said |= set(spoken("money", money_text(fen), lang))
            start = date(2024, 1, 1)
            for offset in range(366):
                said |= set(spoken("date", (start + timedelta(offset)).isoformat(), lang))
            for minute in range(24 * 60):
                said |= set(spoken("time", f"{minute // 60:02d}:{minute % 60:02d}", lang))
            said |= set(spoken("digits", "0123456789", lang))
            assert said == vocabulary(lang), lang
