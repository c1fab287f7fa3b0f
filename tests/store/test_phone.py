"""Phone number normalisation: one rule for stored and calling numbers."""

import pytest

from router.customers.phone import normalise, normalise_or_none


class TestNormalise:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("13800138000", "13800138000"),
            ("+86 138-0013-8000", "13800138000"),
            ("008613800138000", "13800138000"),
            ("+8613800138000", "13800138000"),
            ("(138) 0013 8000", "13800138000"),
            ("138.0013.8000", "13800138000"),
            ("010-6552 9988", "1065529988"),
            ("+86 10 6552 9988", "1065529988"),
            ("0086 10 65529988", "1065529988"),
            ("0755-2284642", "7552284642"),
            ("+1 415 555 0100", "+14155550100"),
            ("001 415 555 0100", "+14155550100"),
            ("  13800138000\t", "13800138000"),
            ("4008001234", "4008001234"),
        ],
    )
    def test_spellings_agree(self, raw: str, expected: str) -> None:
        """Every accepted spelling maps to the one stored form."""
        assert normalise(raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "anonymous",
            "Unknown",
            "12",
            "138\n00138000",
            "13800138000;DROP",
            "１３８００１３８０００",
            "1" * 18,
            "+",
            "--",
            "138*0013",
        ],
    )
    def test_unusable_input_is_rejected(self, raw: str) -> None:
        """Hostile or empty caller ids give None instead of a key."""
        assert normalise_or_none(raw) is None

    def test_error_names_the_input(self) -> None:
        """normalise() explains which input was not a number."""
        with pytest.raises(ValueError, match="abc"):
            normalise("abc")
