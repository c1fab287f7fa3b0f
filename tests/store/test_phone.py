"""Phone number normalisation: one rule for stored and calling numbers."""

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from router.customers.phone import normalise, normalise_or_none
from router.customers.phone_check import checked_number, plan_normalise


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


REGIONS = ("CN", "US", "GB", "DE", "IT", "FR", "JP", "HK", "SG", "AU", "IN", "BR")
TYPES = tuple(
    getattr(phonenumbers.PhoneNumberType, name)
    for name in ("FIXED_LINE", "MOBILE", "TOLL_FREE", "PREMIUM_RATE", "SHARED_COST", "VOIP", "UAN")
)


@st.composite
def valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """A valid number near a region's example: its last digits redrawn, kept only if valid."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    assume(example is not None)
    national = phonenumbers.national_significant_number(example)
    keep = draw(st.integers(min(3, len(national)), len(national)))
    tail = draw(st.text("0123456789", min_size=len(national) - keep, max_size=len(national) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{national[:keep]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    return number


def spellings(number: phonenumbers.PhoneNumber) -> list[str]:
    """How people and switches write it: E.164, international, with 00, and (home) national."""
    fmt = phonenumbers.PhoneNumberFormat
    e164 = phonenumbers.format_number(number, fmt.E164)
    out = [e164, phonenumbers.format_number(number, fmt.INTERNATIONAL), "00" + e164[1:]]
    if number.country_code == 86:
        national = phonenumbers.format_number(number, fmt.NATIONAL)
        out += [national, phonenumbers.national_significant_number(number)]
    return out


class TestPlanAgreement:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
    @given(valid_numbers())
    def test_fast_rule_agrees_with_the_numbering_plan(
        self, number: phonenumbers.PhoneNumber
    ) -> None:
        """On every valid number and spelling the call-path rule gives the import's form."""
        for raw in spellings(number):
            assert plan_normalise(raw) is not None, raw
            assert normalise_or_none(raw) == plan_normalise(raw) == checked_number(raw), raw

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("1380013800", "is not a valid phone number"),
            ("+86 12345", "is not a valid phone number"),
            ("000000013800138000", "is not a valid phone number"),
            ("0755-2284642", "is not a valid phone number"),
            ("138-0013-800x", "is not a phone number"),
        ],
    )
    def test_import_rejects_what_the_fast_rule_lets_through(self, raw: str, reason: str) -> None:
        """Too short, unallocated or zero-padded numbers are refused at import."""
        with pytest.raises(ValueError, match=reason):
            checked_number(raw)

    def test_valid_spellings_are_kept_in_the_fast_form(self) -> None:
        """A valid number is stored exactly as calls will look it up."""
        assert checked_number("+86 138-0013-8000") == "13800138000"
        assert checked_number("010-6552 9988") == "1065529988"
        assert checked_number("+44 20 7946 0958") == "+442079460958"
