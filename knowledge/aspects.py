"""The fixed vocabulary of entry aspects: what a question asks about a procedure.

An entry is "procedure × aspect": "Đăng ký kết hôn" × ``documents`` answers which papers to
bring. Knowledge files may state an entry's aspect (the ``aspect`` field); where they do not,
retrieval infers it from the entry's own phrasings. ``other`` is for entries that fit no aspect.
The Vietnamese labels are shown to citizens ("Về thủ tục này tôi chưa có thông tin về lệ phí").
"""

from __future__ import annotations

ASPECT_LABELS: dict[str, str] = {
    "documents": "hồ sơ, giấy tờ cần chuẩn bị",
    "place": "nơi nộp hồ sơ",
    "online": "nộp trực tuyến",
    "time": "thời hạn giải quyết",
    "deadline": "thời hạn phải làm thủ tục",
    "fee": "lệ phí, chi phí",
    "amount": "mức hưởng, số tiền",
    "condition": "điều kiện, đối tượng",
    "how": "trình tự, cách thực hiện",
    "result": "kết quả và cách nhận kết quả",
    "validity": "thời hạn hiệu lực",
    "penalty": "mức xử phạt",
    "other": "thông tin khác",
}
"""Every aspect an entry may state, with how a citizen would name it."""

ASPECTS: tuple[str, ...] = tuple(ASPECT_LABELS)


def is_aspect(value: str) -> bool:
    """Whether ``value`` is one of the documented aspects."""
    return value in ASPECT_LABELS
