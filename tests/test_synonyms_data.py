"""The synonym lexicon as data (knowledge/lang/synonyms.yaml): groups of words that a citizen
and an official use for the same thing. These tests check the file's form and that no member is
redundant or ambiguous after the retriever's own normalisation; they say nothing about any
evaluation set."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import pytest

from knowledge import lang
from knowledge.normalize import analyze

MAX_WORDS = 4


def problems(groups: Sequence[Sequence[object]]) -> list[str]:
    """Every rule of the file's header that ``groups`` breaks, one line per problem."""
    found: list[str] = []
    owner: dict[str, int] = {}
    folded_owner: dict[tuple[str, ...], tuple[int, str]] = {}
    for index, group in enumerate(groups):
        if not isinstance(group, list) or not 2 <= len(group) <= 6:
            found.append(f"group {index}: needs 2 to 6 members: {group!r}")
            continue
        normalised: dict[tuple[str, ...], str] = {}
        for member in group:
            if not isinstance(member, str):
                found.append(f"group {index}: {member!r} is not text")
                continue
            if member != unicodedata.normalize("NFC", member) or member != member.lower():
                found.append(f"{member!r}: not lowercase NFC")
            if not 1 <= len(member.split()) <= MAX_WORDS or member != " ".join(member.split()):
                found.append(f"{member!r}: needs 1 to {MAX_WORDS} words, single-spaced")
            if not any(ch.isalpha() for ch in member):
                found.append(f"{member!r}: has no letter")
            if member in owner and owner[member] != index:
                found.append(f"{member!r}: in groups {owner[member]} and {index}")
            owner.setdefault(member, index)
            analysis = analyze(member)
            if not analysis.content:
                found.append(f"{member!r}: only fillers, it can never match")
            if analysis.tokens in normalised:
                found.append(
                    f"{member!r}: normalises to {normalised[analysis.tokens]!r} of its own group"
                )
            normalised.setdefault(analysis.tokens, member)
            other = folded_owner.setdefault(analysis.folded, (index, member))
            if other[0] != index:
                found.append(f"{member!r}: reads like {other[1]!r} of group {other[0]}")
    return found


def test_the_file_loads_as_groups() -> None:
    data = lang.load("synonyms")
    assert set(data) == {"groups"}
    assert len(data["groups"]) >= 250


def test_every_group_follows_the_rules_of_the_header() -> None:
    assert problems(lang.load("synonyms")["groups"]) == []


def test_the_header_documents_matching_sources_and_rules() -> None:
    text = (lang.LANG_DIR / "synonyms.yaml").read_text(encoding="utf-8")
    header = text[: text.index("\ngroups:")]
    assert all(line.startswith("#") for line in header.splitlines())
    for needed in ("How it is matched", "Sources:", "dichvucong.gov.vn", "Rules:", "Left out"):
        assert needed in header, needed


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([["trẻ em"]], "needs 2 to 6 members"),
        ([["Trẻ em", "con nít"]], "not lowercase NFC"),
        ([[unicodedata.normalize("NFD", "trẻ em"), "con nít"]], "not lowercase NFC"),
        ([["giấy chứng nhận quyền sử dụng đất", "sổ đất"]], "needs 1 to 4 words"),
        ([["18", "mười tám"]], "has no letter"),
        ([["bán đất", "chuyển nhượng"], ["chuyển nhượng", "sang tên"]], "in groups 0 and 1"),
        # Fillers only: "làm nhà" keeps no content word.
        ([["xây nhà", "làm nhà"]], "only fillers"),
        # "lãnh" is already read "nhận" (abbreviations.yaml): a redundant member.
        ([["nhận", "lãnh"]], "of its own group"),
        # The same words without marks in two groups: "thuế đất" and "thuê đất".
        ([["thuế đất", "thuế nhà đất"], ["thuê đất", "đất thuê"]], "reads like"),
    ],
)
def test_a_group_breaking_a_rule_is_reported(groups: list[list[object]], expected: str) -> None:
    assert any(expected in line for line in problems(groups)), problems(groups)


def test_everyday_words_are_bridged_to_official_ones() -> None:
    groups = lang.load("synonyms")["groups"]
    by_member = {member: group for group in groups for member in group}
    for everyday, official in [
        ("trẻ nhỏ", "trẻ em"),  # "con nít" is read "trẻ em" (phrases.yaml)
        ("bán đất", "chuyển nhượng"),
        ("tàn tật", "khuyết tật"),
        ("người già", "người cao tuổi"),
        ("cúp điện", "mất điện"),
        ("đăng kí", "đăng ký"),
    ]:
        assert official in by_member[everyday], everyday
