"""A worker applies an admin's edit to its index by editing it, not by rebuilding it, and ends
with the index a fresh worker would build; a large change is built at once."""

from __future__ import annotations

from dataclasses import replace

from bot.app import App
from knowledge import search
from knowledge.search import Index
from storage.repositories import kb as kb_repo
from tests.test_index_edits import assert_same

QUERIES = [
    "lệ phí khai sinh",
    "dang ky khai sinh can giay to gi",
    "nuôi chim bồ câu đưa thư đăng ký ở đâu",
    "giấy phép nuôi chim bồ câu",
    "đăng ký thường trú cần gì",
]


async def _db_entries(app: App) -> list:  # type: ignore[type-arg]
    async with app.sessions() as s:
        return await kb_repo.all_entries(s)


async def test_an_admin_edit_is_applied_without_a_rebuild(app: App) -> None:
    before = app.knowledge.index
    entries = await _db_entries(app)
    fee = next(e for e in entries if e.id == "khai-sinh/le-phi")
    changed = replace(fee, answer="Đăng ký khai sinh đúng hạn được miễn lệ phí (bản mới).")
    added = replace(
        fee,
        id="nuoi-chim/dang-ky",
        procedure="Đăng ký nuôi chim bồ câu",
        question="Nuôi chim bồ câu đưa thư có phải đăng ký không, đăng ký ở đâu?",
        alternatives=("giấy phép nuôi chim bồ câu",),
        keywords=("chim bồ câu",),
        answer="Liên hệ Ủy ban nhân dân xã nơi cư trú.",
    )
    async with app.sessions() as s, s.begin():
        plan = await kb_repo.apply_import(s, [changed, added], replace=False)
    assert plan.changed == ("khai-sinh/le-phi",) and plan.added == ("nuoi-chim/dang-ky",)

    assert await app.knowledge.refresh()
    after = app.knowledge.index
    # Edited from the old index: its feature table is shared, not built again.
    assert after._state.fid is before._state.fid
    assert_same(after, Index(await _db_entries(app)), QUERIES)
    found = after.search("nuôi chim bồ câu đưa thư đăng ký ở đâu")
    assert found.best is not None and found.best.entry.id == "nuoi-chim/dang-ky"
    # The old index, which answered while the new one was made, did not change.
    assert before.get("nuoi-chim/dang-ky") is None
    old_fee = before.get("khai-sinh/le-phi")
    assert old_fee is not None and old_fee.answer == fee.answer
    assert not await app.knowledge.refresh()  # same revision: nothing to do


async def test_a_large_change_is_built_at_once(app: App) -> None:
    before = app.knowledge.index
    entries = await _db_entries(app)
    many = [replace(e, answer=e.answer + " (cập nhật)") for e in entries[: search.MAX_EDITS + 1]]
    async with app.sessions() as s, s.begin():
        await kb_repo.apply_import(s, many, replace=False)
    assert await app.knowledge.refresh()
    after = app.knowledge.index
    assert after._state.fid is not before._state.fid
    assert_same(after, Index(await _db_entries(app)), QUERIES)
