"""The say: vocabulary of prompts.yaml is checked against the speech rules, with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import FlowError, Problem
from router.flows.loader import load_catalog, load_texts
from router.flows.model import FlowSet
from router.flows.vocabulary import unspoken
from router.speech import LANGUAGES, vocabulary
from tests.flows.helpers import QUEUES

SHIPPED = Path(__file__).resolve().parents[2] / "ivr_flows"
FLOW = "flow: main\nserves: {dnis: ['100']}\nstart: a\nnodes:\n  a: {type: hangup}\n"


def block(lang: str, drop: str = "", extra: str = "") -> str:
    """A complete say.<lang> block (minus ``drop``, plus ``extra`` lines), one token a line."""
    lines = [f"    {t}: x\n" for t in sorted(vocabulary(lang)) if t != drop]
    return f"  {lang}:\n" + "".join(lines) + extra


def load(catalog: str) -> FlowSet:
    return load_texts({"f.yaml": FLOW}, QUEUES, catalog, "prompts.yaml")


def problems(catalog: str) -> list[str]:
    with pytest.raises(FlowError) as info:
        load(catalog)
    return [str(p) for p in info.value.problems]


HEAD = "languages: [zh, en]\nprompts:\n  hello: {zh: x, en: y}\nsay:\n"  # say: on line 4


class TestShippedVocabulary:
    def test_shipped_catalog_records_exactly_the_vocabulary(self) -> None:
        """ivr_flows/prompts.yaml carries every token each language speaks, no more."""
        problems: list[Problem] = []
        path = SHIPPED / "prompts.yaml"
        catalog = load_catalog(path.read_text(encoding="utf-8"), str(path), problems)
        assert problems == []
        assert set(catalog.say) == set(LANGUAGES)
        for lang in LANGUAGES:
            assert catalog.say[lang] == vocabulary(lang), lang


class TestSayChecks:
    def test_complete_vocabulary_loads(self) -> None:
        """A say: section with each configured language complete is accepted."""
        catalog = load(HEAD + block("zh") + block("en")).prompts
        assert catalog.say["zh"] == vocabulary("zh")
        assert catalog.say["en"] == vocabulary("en")

    def test_no_say_section_is_fine(self) -> None:
        """Without say: nothing is required (flows that speak no values)."""
        assert load(HEAD.removesuffix("say:\n")).prompts.say == {}

    def test_missing_token_located_at_its_language(self) -> None:
        """A token the rules speak but the language lacks: error at that language's key."""
        found = problems(HEAD + block("zh", drop="say_wan") + block("en"))
        assert found == ["prompts.yaml:5:3: say vocabulary 'zh' lacks say_wan"]

    def test_many_missing_tokens_named_then_counted(self) -> None:
        """An empty language names its first missing tokens and counts the rest."""
        found = problems(HEAD + "  zh: {say_0: x}\n" + block("en"))
        assert found == [
            "prompts.yaml:5:3: say vocabulary 'zh' lacks say_1, say_2, say_3, say_4, say_5,"
            f" say_6 and {len(vocabulary('zh')) - 7} more"
        ]

    def test_token_of_another_language(self) -> None:
        """say_wan under en is located at the token, naming who speaks it."""
        found = problems(HEAD + block("zh") + block("en", extra="    say_wan: wan\n"))
        line = 5 + len(vocabulary("zh")) + 1 + len(vocabulary("en")) + 1
        assert found == [
            f"prompts.yaml:{line}:5: 'say_wan' is never spoken in 'en' (only zh, yue speak it)"
        ]

    def test_unknown_token_suggests_closest(self) -> None:
        """A misspelt token gets a did-you-mean."""
        found = problems(HEAD + block("zh", extra="    say_thousnd: x\n") + block("en"))
        assert any(
            "'say_thousnd' is never spoken in 'zh' (did you mean 'say_thousand'?)" in p
            for p in found
        )

    def test_configured_language_without_vocabulary(self) -> None:
        """A language of languages: with no say vocabulary: error at say:."""
        found = problems(HEAD + block("zh"))
        assert found == [
            "prompts.yaml:4:1: no say vocabulary for language 'en'"
            f" (add say: {{en: {{...}}}} with the {len(vocabulary('en'))} tokens of that language)"
        ]

    def test_unknown_language(self) -> None:
        """A say language without speech rules is located at its key."""
        found = problems(HEAD + block("zh") + block("en") + "  fr: {say_0: zéro}\n")
        assert len(found) == 1
        assert "no speech rules for language 'fr'" in found[0]

    def test_language_not_yet_configured_is_checked_not_required(self) -> None:
        """yue recorded before languages: lists it is accepted, and still checked."""
        catalog = load(HEAD + block("zh") + block("en") + block("yue")).prompts
        assert catalog.say["yue"] == vocabulary("yue")
        found = problems(HEAD + block("zh") + block("en") + block("yue", drop="say_ya"))
        assert len(found) == 1
        assert "say vocabulary 'yue' lacks say_ya" in found[0]

    def test_token_reusing_a_prompt_name(self) -> None:
        """A token that is also an ordinary prompt is ambiguous: rejected at the token."""
        head = HEAD.replace("hello:", "say_0:")
        found = problems(head + block("zh") + block("en"))
        assert len(found) == 2
        assert all("'say_0' is also a prompt under prompts:" in p for p in found)

    def test_token_without_text(self) -> None:
        """A token needs its script (what the voice talent records)."""
        found = problems(HEAD + block("zh").replace("say_wan: x", "say_wan: ''") + block("en"))
        assert len(found) == 1
        assert "'say_wan' needs its text" in found[0]

    def test_say_must_be_a_mapping(self) -> None:
        """say: [zh] is a located error, not a traceback."""
        found = problems(HEAD + "  [zh]\n")
        assert found == ["prompts.yaml:5:3: say: must map languages to {token: text}"]

    def test_language_must_map_tokens(self) -> None:
        """say: {zh: [say_0]} is a located error."""
        found = problems(HEAD + "  zh: [say_0]\n" + block("en"))
        assert found == ["prompts.yaml:5:3: say.zh must map tokens to their text"]


class TestUnspoken:
    def test_languages_without_vocabulary(self) -> None:
        """unspoken() names the configured languages a say step could not speak in."""
        assert unspoken(load(HEAD + block("zh") + block("en")).prompts) == ()
        assert unspoken(load(HEAD.removesuffix("say:\n")).prompts) == ("zh", "en")
        assert unspoken(load("languages: [fr]\nprompts: {}\n").prompts) == ("fr",)


class TestCatalogKeys:
    def test_empty_prompts_table(self) -> None:
        """prompts: {} is an empty catalogue, not a wrong type."""
        assert load("languages: [zh]\nprompts: {}\n").prompts.prompts == {}

    def test_unknown_top_level_key(self) -> None:
        """A misspelt catalogue key is an error with a suggestion, not silently ignored."""
        found = problems("languages: [zh]\nprompts: {}\nsound_prefx: x/\n")
        assert found == [
            "prompts.yaml:3:1: unknown key 'sound_prefx' in prompts.yaml"
            " (did you mean 'sound_prefix'?)"
        ]
