"""Phone and ID numbers are masked wherever they stand (issue 14, M6): property-based tests."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.privacy import MASK, mask_numbers

# Text around a number: Vietnamese letters, spaces and punctuation, no digits (a digit next to
# the number would only make its run longer, which is masked too).
_LETTERS = (
    "abcdđeêghiklmnoôơpqrstuưvxyạảãáàâấầẩẫậăắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
_AROUND = st.text(alphabet=_LETTERS + _LETTERS.upper() + " ,:;!?()/'\"", max_size=20)
_SEPARATORS = st.sampled_from(["", "", " ", ".", "-", "_", "  ", " - ", ". "])


@st.composite
def numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(digits, as typed): a phone, a CCCD or a CMND, groups separated any way."""
    length = draw(st.sampled_from([9, 10, 11, 12]))
    digits = draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    typed = ""
    for i, digit in enumerate(digits):
        if i and draw(st.booleans()):
            typed += draw(_SEPARATORS)
        typed += digit
    return digits, typed


def _digits_left(text: str) -> str:
    """The digits that remain, separators dropped: what a reader could piece together."""
    return re.sub(r"[\s._\-]", "", text)


@given(numbers(), _AROUND, _AROUND)
@example(("092504701957", "cccd092504701957"), "", "")
@example(("0912345678", "sđt0912345678"), "", "")
@example(("092504701957", "092504701957ạ"), "", "")
@example(("092504701957", "0925_0470_1957"), "", "")
def test_phone_and_id_numbers_are_masked_wherever_they_stand(
    number: tuple[str, str], before: str, after: str
) -> None:
    digits, typed = number
    out = mask_numbers(before + typed + after)
    assert digits not in _digits_left(out)
    assert MASK in out


@given(_AROUND)
def test_text_without_numbers_is_unchanged(text: str) -> None:
    assert mask_numbers(text) == text


@given(numbers(), _AROUND)
def test_dossier_codes_stay_readable_beside_a_masked_number(
    number: tuple[str, str], around: str
) -> None:
    code = "000.00.12.H13-260115-0042"
    out = mask_numbers(f"hồ sơ {code} {around} số {number[1]}")
    assert code in out
    assert number[0] not in _digits_left(out.replace(code, ""))


def test_short_numbers_and_dates_are_kept() -> None:
    text = "lệ phí 50.000 đồng, hẹn ngày 12/03/2026, phòng 204"
    assert mask_numbers(text) == text
