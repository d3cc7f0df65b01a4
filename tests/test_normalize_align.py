"""The alignment that carries typed marks across rewriting passes (``normalize._carry_marks``)
is ``difflib.SequenceMatcher``'s, computed by its compiled copy (``cydifflib``): the same
opcodes for word sequences of every kind, repeats and ties included."""

from __future__ import annotations

import difflib

import cydifflib  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.normalize import _carry_marks, analyze, settle

WORDS = st.lists(st.sampled_from(["căn", "cước", "công", "dân", "hồ", "sơ", "a", "b"]), max_size=40)


def _opcodes(module: object, a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    matcher = module.SequenceMatcher(a=a, b=b, autojunk=False)  # type: ignore[attr-defined]
    return list(matcher.get_opcodes())


@settings(max_examples=400, deadline=None)
@given(WORDS, WORDS)
def test_the_compiled_matcher_aligns_as_difflib(a: list[str], b: list[str]) -> None:
    assert _opcodes(cydifflib, a, b) == _opcodes(difflib, a, b)


def _carry_with_difflib(
    before: list[tuple[str, bool]], after: list[tuple[str, bool]]
) -> list[tuple[str, bool]]:
    """``_carry_marks`` as it was written with ``difflib`` itself."""
    from knowledge.normalize import has_marks

    matcher = difflib.SequenceMatcher(
        a=[w for w, _ in before], b=[w for w, _ in after], autojunk=False
    )
    out: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(before[i1:i2])
        else:
            typed = any(m for _, m in before[i1:i2])
            out.extend((w, m or typed or has_marks(w)) for w, m in after[j1:j2])
    return out


@settings(max_examples=300, deadline=None)
@given(WORDS, WORDS, st.lists(st.booleans(), min_size=40, max_size=40))
def test_marks_are_carried_as_with_difflib(a: list[str], b: list[str], m: list[bool]) -> None:
    before = list(zip(a, m, strict=False))
    after = list(zip(b, reversed(m), strict=False))
    assert _carry_marks(before, after) == _carry_with_difflib(before, after)


def test_two_passes_carry_the_typed_marks() -> None:
    # "cccd" -> "căn cước công dân" -> "căn cước" (two passes): every word counts as typed
    # with marks, as "làm căn cước mất bao lâu" typed in one pass would
    a = analyze("làm cccd mất bao lâu")
    assert a.tokens[:4] == ("làm", "căn", "cước", "mất")
    assert all(a.accented)
    tokens, accented = settle(("căn", "cước", "căn", "cước", "công", "dân", "cho"), (False,) * 7)
    assert tokens == ("căn", "cước", "căn", "cước", "cho")
    assert accented == (False,) * 5  # "công dân" dropped, the rest kept as typed
