"""Value text that cannot be spoken is refused with a message, never guessed at."""

from __future__ import annotations

import pytest

from router.errors import SpeechError, TierlineError
from router.speech import LANGUAGES, spoken, vocabulary

BAD = [
    ("number", "", "not a number"),
    ("number", "1e5", "not a number"),
    ("number", "12,5", "not a number"),
    ("number", "1.", "not a number"),
    ("number", "abc", "not a number"),
    ("number", "NaN", "not a number"),
    ("number", "\uff11\uff12", "not a number"),  # full-width digits are refused
    ("number", "1000000000000000", "too large"),
    ("number", "1.1234567", "decimal places"),
    ("money", "1.005", "finer than a fen"),
    ("money", "0.30000000000000004", "decimal places"),
    ("money", "¥5", "not a number"),
    ("digits", "12a4", "not a digit string"),
    ("digits", "", "not a digit string"),
    ("digits", "1" * 33, "too many digits"),
    ("date", "2026-02-30", "not a date"),
    ("date", "02/12/2026", "not a date"),
    ("date", "0999-01-01", "year out of range"),
    ("date", "2026-12-02 garbage", "not a date"),
    ("time", "24:00", "not a time"),
    ("time", "14h05", "not a time"),
    ("time", "2026-12-02", "not a time"),
]


class TestRefusals:
    @pytest.mark.parametrize(("kind", "value", "why"), BAD)
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_bad_value_is_a_speech_error(
        self, kind: str, value: str, why: str, language: str
    ) -> None:
        """A malformed or out-of-range value raises SpeechError saying why."""
        with pytest.raises(SpeechError, match=why):
            spoken(kind, value, language)  # type: ignore[arg-type]

    def test_unknown_language(self) -> None:
        """A language without rules is a SpeechError for both calls."""
        with pytest.raises(SpeechError, match="no speech rules for language 'fr'"):
            spoken("number", "1", "fr")
        with pytest.raises(SpeechError, match="'fr'"):
            vocabulary("fr")

    def test_unknown_kind(self) -> None:
        """A kind the rules do not know is a SpeechError, not a KeyError."""
        with pytest.raises(SpeechError, match="unknown kind of value 'ordinal'"):
            spoken("ordinal", "1", "en")  # type: ignore[arg-type]

    def test_speech_error_is_under_the_root(self) -> None:
        """SpeechError is a TierlineError but not a load error."""
        from router.errors import LoadError

        assert issubclass(SpeechError, TierlineError)
        assert not issubclass(SpeechError, LoadError)


class TestLimits:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_largest_number_and_longest_digits(self, language: str) -> None:
        """The limits themselves are spoken."""
        assert spoken("number", "999999999999999.999999", language)
        assert len(spoken("digits", "9" * 32, language)) == 32
