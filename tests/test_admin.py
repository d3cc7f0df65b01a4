"""Admin transcripts: maintaining the knowledge base from the chat, on SQLite and PostgreSQL.

Search, read, edit (preview, confirm, live in another process), phrasings, kill switches, a
guided new entry, file imports previewed, confirmed and undone, broken and hostile files, stale
confirmations, the unanswered-questions inbox, non-admins, the audit log and exports.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from bot.app import App
from bot.messages import Channel, Incoming, IncomingFile
from handlers import admin as admin_handlers
from handlers import texts
from handlers.admin import imports as admin_imports
from handlers.admin.flow import AdminFlow
from knowledge import kbfile
from storage.models import Agency
from storage.models.admin import AuditLog, KbHistory, PendingImport
from storage.repositories import audit, chats, kb_admin, roles
from storage.repositories import kb as kb_repo
from tests import cli_runner
from tests.conftest import BUNDLED_KB, make_settings
from tests.transcript import Conversation

ADMIN_ID = "700100"
STAFF_ID = "700200"
CITIZEN_ID = "700300"
FEE_QUESTION = "lệ phí khai sinh"
NEW_PHRASING = "bé nhà tôi vừa lọt lòng thì lo giấy tờ ra sao"
_files = itertools.count(1)
BUNDLED = len(kbfile.load_dir(BUNDLED_KB))  # the base grows; counts below follow it


async def _grant(app: App, user_id: str, role: str) -> None:
    async with app.sessions() as s, s.begin():
        agency = None
        if role == "staff":
            agency = Agency(code="000.00.99.H13", name="Phường Thử", level="xa", path="/")
            s.add(agency)
            await s.flush()
        await roles.grant(
            s,
            user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, user_id),
            channel="telegram",
            user_id=user_id,
            role=role,
            agency=agency,
        )


@pytest.fixture
async def admin(app: App) -> Conversation:
    await _grant(app, ADMIN_ID, "admin")
    return Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN_ID)


def citizen(app: App, chat_id: str = CITIZEN_ID) -> Conversation:
    return Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=chat_id)


async def entry(app: App, entry_id: str) -> Any:
    async with app.sessions() as s:
        return await kb_admin.get(s, entry_id)


async def revision(app: App) -> int:
    async with app.sessions() as s:
        return await kb_repo.revision(s)


async def count(app: App, model: Any) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def audit_actions(app: App) -> list[str]:
    async with app.sessions() as s:
        return list(await s.scalars(select(AuditLog.action).order_by(AuditLog.id)))


async def send_file(c: Conversation, name: str, content: bytes) -> None:
    await c.send(Incoming(c.chat, f"file-{next(_files)}", file=IncomingFile(name, content)))


async def test_search_read_edit_and_add_a_phrasing_live_in_a_second_process(
    app: App, admin: Conversation, database_url: str, tmp_path: Path
) -> None:
    other = App.build(make_settings(database_url, tmp_path))  # another process, same database
    await other.start(migrate_db=False, watch=False)
    try:
        assert other.knowledge.index.search(NEW_PHRASING).decision.value == "fallback"
        await admin.say("/faq")
        assert admin.text.startswith("Quản trị cơ sở tri thức:")
        await admin.say("/faq tìm lệ phí khai sinh")
        assert "Kết quả cho «lệ phí khai sinh»" in admin.text
        await admin.say("/faq tim le phi khai sinh")  # without diacritics too
        await admin.tap_label("Đăng ký khai sinh có mất lệ phí")
        assert admin.text.startswith("📄 khai-sinh/le-phi (đang bật)")
        assert "Trả lời:" in admin.text
        old_answer = (await entry(app, "khai-sinh/le-phi")).answer

        await admin.tap_label("Sửa câu trả lời")
        assert "Bạn gõ câu trả lời mới" in admin.text
        await admin.say("Đăng ký khai sinh đúng hạn được miễn lệ phí (bản thử nghiệm).")
        assert "TRƯỚC:\n" + old_answer in admin.text
        assert "SAU:\nĐăng ký khai sinh đúng hạn được miễn lệ phí (bản thử nghiệm)." in admin.text
        assert (await entry(app, "khai-sinh/le-phi")).answer == old_answer  # not yet
        rev = await revision(app)
        await admin.tap_label("Xác nhận")
        assert "Đã sửa câu trả lời của «khai-sinh/le-phi»" in admin.text
        assert await revision(app) == rev + 1

        await admin.say("/faq xem khai-sinh/ho-so")
        await admin.tap_label("Thêm cách hỏi")
        await admin.say("dang ky khai sinh can chuan bi nhung giay to gi")  # its own question
        assert "đã có" in admin.text
        await admin.say(NEW_PHRASING)
        assert "TRƯỚC:" in admin.text
        assert NEW_PHRASING in admin.text.split("SAU:")[1]
        await admin.tap_label("Xác nhận")
        assert "Đã thêm cách hỏi cho «khai-sinh/ho-so»" in admin.text

        assert await other.knowledge.refresh()
        person = Conversation(other.dispatcher, channel=Channel.TELEGRAM, chat_id=CITIZEN_ID)
        await person.say(FEE_QUESTION)
        assert person.last[0].text.startswith("Đăng ký khai sinh đúng hạn được miễn lệ phí")
        found = other.knowledge.index.search(NEW_PHRASING)
        assert found.best is not None
        assert found.best.entry.id == "khai-sinh/ho-so"
        assert found.decision.value == "answer"
    finally:
        await other.close()

    async with app.sessions() as s:
        (change,) = await kb_admin.history(s, "khai-sinh/le-phi")
    assert change.action == "answer"
    assert change.actor_hash == app.dispatcher.user_hash_of(Channel.TELEGRAM, ADMIN_ID)
    assert change.before is not None
    assert change.before["answer"] == old_answer
    assert await audit_actions(app) == ["kb.answer", "kb.alternative"]


async def test_disable_an_entry_and_a_whole_category(app: App, admin: Conversation) -> None:
    await admin.say("/faq xem thuong-tru/dieu-kien")
    await admin.tap_label("Tắt mục")
    assert "TẮT mục «thuong-tru/dieu-kien»" in admin.text
    await admin.tap_label("Xác nhận")
    assert admin.text.startswith("Đã tắt mục «thuong-tru/dieu-kien»")

    await admin.say("/faq lĩnh vực")
    await admin.tap_label("Hộ tịch (50/50)")
    assert "Lĩnh vực «Hộ tịch»: 50/50 mục đang bật." in admin.text
    await admin.tap_label("Tắt cả lĩnh vực")
    assert "TẮT cả lĩnh vực «Hộ tịch»: 50 mục" in admin.text
    await admin.tap_label("Xác nhận")
    assert "Đã tắt 50 mục của lĩnh vực «Hộ tịch»" in admin.text

    await app.knowledge.refresh()
    assert app.knowledge.index.get("thuong-tru/dieu-kien") is None
    assert not [e for e in app.knowledge.index.entries if e.category == "Hộ tịch"]
    person = citizen(app)
    await person.say("đăng ký kết hôn cần giấy tờ gì")
    assert person.last[0].text.startswith("Câu hỏi này nằm ngoài")
    await person.say("Điều kiện để được đăng ký thường trú là gì?")
    assert not person.last[0].text.startswith("Theo Điều 20 Luật Cư trú 2020")

    await admin.say("/faq linh vuc")
    await admin.tap_label("Hộ tịch (0/50)")
    await admin.tap_label("Bật lại cả lĩnh vực")
    await admin.tap_label("Xác nhận")
    async with app.sessions() as s:
        assert ("Hộ tịch", 50, 50) in await kb_admin.categories(s)
    await admin.say("/faq xem thuong-tru/dieu-kien")
    assert "(⛔ đang tắt)" in admin.text
    await admin.tap_label("Bật lại mục")
    await admin.tap_label("Xác nhận")
    assert (await entry(app, "thuong-tru/dieu-kien")).enabled
    actions = await audit_actions(app)
    assert actions == ["kb.disable", "kb.disable_category", "kb.enable_category", "kb.enable"]


async def test_a_new_entry_through_the_guided_flow(app: App, admin: Conversation) -> None:
    await admin.say("/faq thêm")
    assert "bước 1/4" in admin.text
    assert "✖️ Hủy" in admin.labels
    await admin.tap_label("Hộ tịch")
    assert "Bước 2/4" in admin.text
    await admin.say("Nuôi chim bồ câu đưa thư có cần đăng ký không?")
    await admin.say("Không cần đăng ký; bạn chỉ cần giữ vệ sinh chuồng trại.")
    assert "Bước 4/4" in admin.text
    await admin.tap_label("Bỏ qua")
    assert "Mã: ho-tich/nuoi-chim-bo-cau-dua-thu-co-can-dang-ky\n" in admin.text
    assert "Căn cứ: (trống)" in admin.text
    await admin.tap_label("Xác nhận")
    assert "Đã thêm mục «ho-tich/nuoi-chim-bo-cau-dua-thu-co-can-dang-ky»" in admin.text
    await app.knowledge.refresh()
    person = citizen(app)
    await person.say("nuôi chim bồ câu đưa thư có phải đăng ký không")
    assert person.last[0].text.startswith("Không cần đăng ký")

    # The same question again gets the next free id; /huy cancels at any step.
    await admin.say("/faq them")
    await admin.say("Hộ tịch")  # a category typed, not tapped
    await admin.say("Nuôi chim bồ câu đưa thư có cần đăng ký không?")
    await admin.say("Trả lời khác.")
    await admin.say("Luật Chăn nuôi 2018")
    assert "Mã: ho-tich/nuoi-chim-bo-cau-dua-thu-co-can-dang-ky-2\n" in admin.text
    await admin.say("/huy")
    assert admin.text == "Đã hủy. Không có gì thay đổi."
    assert await entry(app, "ho-tich/nuoi-chim-bo-cau-dua-thu-co-can-dang-ky-2") is None
    await admin.say("/faq thêm")
    await admin.tap_label("Hủy")
    assert admin.text == "Đã hủy. Không có gì thay đổi."
    assert await audit_actions(app) == ["kb.create"]


IMPORT_YAML = """\
version: 1
entries:
  - id: thu-nghiem/chim-bo-cau
    category: Khác
    question: Nuôi chim bồ câu đưa thư cần đăng ký ở đâu?
    keywords: [chim bồ câu đưa thư]
    answer: Không cần đăng ký.
  - id: khai-sinh/le-phi
    category: Hộ tịch
    procedure: Đăng ký khai sinh
    question: Đăng ký khai sinh có mất lệ phí không?
    answer: Miễn lệ phí khi đăng ký đúng hạn (nhập từ tệp).
"""


BROKEN_YAML = """\
version: 1
entries:
  - id: Sai Ma
    category: Hộ tịch
    question: Câu hỏi?
    answer: Trả lời.
  - id: a/b
    category: Hộ tịch
    question: Câu hỏi?
    answer: Trả lời.
  - id: a/b
    category: Hộ tịch
    question: Câu hỏi khác?
    answer: Trả lời.
  - id: c/d
    category: Hộ tịch
    question: ""
    answer: Trả lời.
    colour: đỏ
"""


async def test_file_imports_previewed_confirmed_rolled_back_or_refused(
    app: App, admin: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_fee = await entry(app, "khai-sinh/le-phi")
    rev = await revision(app)
    await send_file(admin, "sua-doi.yaml", IMPORT_YAML.encode())
    assert "Tệp «sua-doi.yaml»: 2 mục hợp lệ. Nếu áp dụng:" in admin.text
    assert "➕ Thêm 1 mục:\n  • thu-nghiem/chim-bo-cau" in admin.text
    assert "✏️ Sửa 1 mục:\n  • khai-sinh/le-phi (trả lời, cách hỏi khác, từ khóa," in admin.text
    assert f"{BUNDLED - 1} mục đang có nhưng không nằm trong tệp: giữ nguyên." in admin.text
    assert admin.labels == ["✅ Áp dụng", f"🔁 Thay toàn bộ (xóa {BUNDLED - 1} mục)", "✖️ Hủy"]
    assert await revision(app) == rev  # a preview changes nothing
    assert await count(app, PendingImport) == 1

    # Replacing the whole base is previewed with what it removes; cancelled here.
    await admin.tap_label("Thay toàn bộ")
    assert "Nếu THAY TOÀN BỘ cơ sở tri thức:" in admin.text
    assert f"🗑 Xóa {BUNDLED - 1} mục:" in admin.text
    assert f"… và {BUNDLED - 1 - admin_handlers.MAX_LISTED} mục khác" in admin.text
    await admin.tap_label("Hủy")
    assert admin.text == "Đã hủy. Không có gì thay đổi."
    assert await count(app, PendingImport) == 0

    # An apply that fails half-way changes nothing.
    await send_file(admin, "sua-doi.yaml", IMPORT_YAML.encode())
    real_write = kb_admin.write

    async def failing_write(*args: Any, **kwargs: Any) -> KbHistory:
        if kwargs.get("action") == "import" and args[1] is not None:
            raise RuntimeError("disk full")  # the file's second entry, after the first is written
        return await real_write(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(kb_admin, "write", failing_write)
        await admin.tap_label("Áp dụng")
    assert admin.text == "Nhập tệp không thành công nên không có gì thay đổi. Bạn thử gửi lại tệp."
    assert await revision(app) == rev
    assert await entry(app, "thu-nghiem/chim-bo-cau") is None
    assert await count(app, KbHistory) == 0

    await send_file(admin, "sua-doi.yaml", IMPORT_YAML.encode())
    await admin.tap_label("Áp dụng")
    assert "Đã nhập tệp «sua-doi.yaml»: thêm 1, sửa 1, xóa 0 mục." in admin.text
    assert await revision(app) == rev + 1
    assert await count(app, PendingImport) == 0
    assert (await entry(app, "khai-sinh/le-phi")).answer.endswith("(nhập từ tệp).")
    assert await entry(app, "thu-nghiem/chim-bo-cau") is not None

    await admin.tap_label("Hoàn tác lần nhập này")
    assert "hoàn tác lần nhập tệp «sua-doi.yaml»: 2 mục" in admin.text
    await admin.tap_label("Xác nhận")
    assert "Đã hoàn tác lần nhập: 2 mục trở lại như trước." in admin.text
    assert await entry(app, "thu-nghiem/chim-bo-cau") is None
    assert await entry(app, "khai-sinh/le-phi") == old_fee
    assert await revision(app) == rev + 2
    assert await audit_actions(app) == ["kb.import", "kb.rollback_import"]

    # An entry's own last change (here: that undo) can be undone from its page, too.
    await admin.say("/faq xem khai-sinh/le-phi")
    await admin.tap_label("Hoàn tác lần sửa cuối")
    assert "Xem trước: hoàn tác «hoàn tác»" in admin.text
    assert "• Trả lời: " in admin.text
    await admin.tap_label("Xác nhận")
    assert (await entry(app, "khai-sinh/le-phi")).answer.endswith("(nhập từ tệp).")

    # Broken and hostile files: every problem listed, nothing written.
    rev = await revision(app)
    history = await count(app, KbHistory)
    actions = await audit_actions(app)
    await send_file(admin, "loi.yaml", BROKEN_YAML.encode())
    assert admin.text.startswith("Tệp «loi.yaml» có 4 lỗi nên không nhập được")
    assert "dòng 3, trường id: mã «Sai Ma» chỉ được gồm a-z" in admin.text
    assert "dòng 11, trường id: trùng mã «a/b» (đã có ở dòng 7)" in admin.text
    assert "dòng 15, trường colour: trường không được hỗ trợ" in admin.text
    assert "dòng 15, trường question: bắt buộc nhưng đang trống" in admin.text

    await send_file(admin, "alias.yaml", b"version: 1\nx: &a [1]\nentries: *a\n")
    assert "YAML không được dùng tham chiếu" in admin.text
    await send_file(admin, "sau.yaml", b"entries: " + b"[" * 50_000)
    assert "cấu trúc lồng nhau quá sâu" in admin.text
    await send_file(admin, "utf16.csv", "id,category,question,answer\n".encode("utf-16"))
    assert "không phải văn bản UTF-8" in admin.text
    await send_file(admin, "latin1.yaml", "entries: [{id: a, question: é}]".encode("latin-1"))
    assert "không phải văn bản UTF-8" in admin.text
    await send_file(admin, "thieu-cot.csv", b"id,question\na/b,Hoi?\n")
    assert "hàng 1, trường category: thiếu cột bắt buộc" in admin.text
    await send_file(admin, "hong.xlsx", b"PK\x03\x04 not really a workbook")
    assert "không phải tệp Excel (.xlsx) hợp lệ" in admin.text
    await send_file(admin, "ghi-chu.docx", b"whatever")
    assert "loại tệp «.docx» không hỗ trợ" in admin.text

    many = "version: 1\nentries:\n" + "".join(
        f"  - {{id: x/{n}, category: C, question: Câu {n}}}\n" for n in range(40)
    )
    await send_file(admin, "nhieu.yaml", many.encode())
    assert "có 40 lỗi" in admin.text
    assert "… và 10 lỗi khác (xem tệp đính kèm)." in admin.text
    report = admin.last[0].document
    assert report is not None
    assert report.content.decode().count("trường answer: bắt buộc nhưng đang trống") == 40

    # A workbook that unpacks far beyond its size (a zip bomb) is not even opened.
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["id", "category", "question", "answer"])
    for n in range(100):
        ws.append([f"x/{n}", "C", "Q?", "a" * 30_000])
    buf = io.BytesIO()
    wb.save(buf)
    assert len(buf.getvalue()) < 200_000
    monkeypatch.setattr(admin_imports, "MAX_UNPACKED_XLSX", 1024 * 1024)
    await send_file(admin, "bom.xlsx", buf.getvalue())
    assert "Tệp «bom.xlsx» khi giải nén lớn hơn 1 MB" in admin.text

    assert await revision(app) == rev
    assert await count(app, PendingImport) == 0
    assert await count(app, KbHistory) == history
    assert await audit_actions(app) == actions


async def test_stale_confirmations_and_non_admins_are_refused(
    app: App, admin: Conversation
) -> None:
    # A button from an older preview.
    await admin.say("/faq xem khai-sinh/le-phi")
    await admin.tap_label("Tắt mục")
    old_confirm = admin.values[0]
    await admin.say("/faq xem khai-sinh/ho-so")
    await admin.tap_label("Tắt mục")
    await admin.say("có chắc không?")  # text while a preview waits: a reminder, nothing else
    assert admin.text.startswith("Bạn đang có một thay đổi chờ xác nhận.")
    await admin.tap(old_confirm)
    assert admin.text.startswith("Nút xác nhận này thuộc một tin nhắn cũ")
    assert (await entry(app, "khai-sinh/le-phi")).enabled

    # The entry changed since the preview (another admin confirmed an edit meanwhile).
    await admin.say("/faq xem khai-sinh/le-phi")
    await admin.tap_label("Sửa câu trả lời")
    await admin.say("Câu trả lời của admin thứ nhất.")
    await _grant(app, "700101", "admin")
    other = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id="700101")
    await other.say("/faq xem khai-sinh/le-phi")
    await other.tap_label("Thêm cách hỏi")
    await other.say("khai sinh có tốn tiền không")
    await other.tap_label("Xác nhận")
    await admin.tap_label("Xác nhận")
    assert "đã bị thay đổi sau khi bạn xem trước" in admin.text
    assert (await entry(app, "khai-sinh/le-phi")).answer != "Câu trả lời của admin thứ nhất."

    # An expired flow: the preview is more than an hour old.
    await admin.say("/faq xem khai-sinh/ho-so")
    await admin.tap_label("Tắt mục")
    async with app.sessions() as s, s.begin():
        key = app.dispatcher.state_key(admin.chat)  # state rows are keyed by person
        state = await chats.lock_state(s, admin.chat, key=key)
        flow = state.flow
        assert isinstance(flow, AdminFlow)
        older = state.evolve(flow=replace(flow, data={**flow.data, "at": 0}))
        await chats.save_state(s, admin.chat, older, key=key)
    await admin.tap_label("Xác nhận")
    assert admin.text.startswith("Thao tác quản trị trước đã quá 1 giờ")
    assert (await entry(app, "khai-sinh/ho-so")).enabled

    # After /huy, and a second tap on an applied confirmation.
    await admin.say("/faq xem khai-sinh/ho-so")
    await admin.tap_label("Tắt mục")
    button = admin.values[0]
    await admin.say("/huy")
    await admin.tap(button)
    assert admin.text.startswith("Nút xác nhận này thuộc một tin nhắn cũ")
    await admin.say("/faq xem khai-sinh/ho-so")
    await admin.tap_label("Tắt mục")
    button = admin.values[0]
    await admin.tap(button)
    assert admin.text.startswith("Đã tắt mục")
    await admin.tap(button)
    assert admin.text.startswith("Nút xác nhận này thuộc một tin nhắn cũ")
    assert await audit_actions(app) == ["kb.alternative", "kb.disable"]

    # Citizens and staff: admin commands do not exist for them, and nothing changes.
    await _grant(app, STAFF_ID, "staff")
    rev = await revision(app)
    for user in (CITIZEN_ID, STAFF_ID):
        c = citizen(app, user)
        for command in (
            "/faq",
            "/faq tìm khai sinh",
            "/faq tim khai sinh",
            "/faq xem khai-sinh/le-phi",
            "/faq thêm",
            "/faq xuất",
            "/faq xuất csv",
            "/faq lĩnh vực",
            "/chuatraloi",
            "/huy",
        ):
            await c.say(command)
            assert c.text == texts.UNKNOWN_COMMAND, (user, command)
        for value in ("ad:e:v:0123456789", "ad:y:abcd", "ad:c:off:01234567", "ad:x", "ad:g:i:x"):
            await c.tap(value)
            assert c.last[0].text == texts.STALE_CHOICE, (user, value)
        await send_file(c, "kb.yaml", IMPORT_YAML.encode())
        assert c.text == texts.FILE_NOT_ACCEPTED
    assert await revision(app) == rev
    assert await count(app, PendingImport) == 0
    assert await audit_actions(app) == ["kb.alternative", "kb.disable"]


async def test_the_unanswered_questions_inbox(app: App, admin: Conversation) -> None:
    await admin.say("/chuatraloi")
    assert admin.text == "Không có câu hỏi nào chưa trả lời được. 🎉"
    asked = [
        "giấy tờ cho đứa nhỏ mới đẻ",
        "giấy tờ cho đứa nhỏ mới đẻ",
        "cho em hỏi giấy tờ cho đứa nhỏ mới đẻ ạ",
        "lo giấy tờ cho đứa nhỏ mới đẻ",
        "nuôi chim bồ câu đưa thư có cần đăng ký không",
    ]
    for n, question in enumerate(asked):
        person = citizen(app, f"7009{n}")
        await person.say(question)
        assert person.last[0].text.startswith("Câu hỏi này nằm ngoài"), question
    person = citizen(app)
    await person.say(FEE_QUESTION)
    await person.tap_label("Chưa")  # an answer rated not helpful

    await admin.say("/chuatraloi")
    assert admin.text.startswith("Câu hỏi chưa trả lời được: 3 nhóm, 6 lượt hỏi")
    assert "1. «giấy tờ cho đứa nhỏ mới đẻ» · 4 lượt" in admin.text
    assert admin.labels == [
        "1. giấy tờ cho đứa nhỏ mới đẻ (4)",
        "2. lệ phí khai sinh (1)",  # newest first among equal counts
        "3. nuôi chim bồ câu đưa thư có cần đăng ký không (1)",
    ]

    await admin.tap_label("1. giấy tờ")
    assert "Nhóm «giấy tờ cho đứa nhỏ mới đẻ»: 4 lượt (4 không trả lời được" in admin.text
    assert "• lo giấy tờ cho đứa nhỏ mới đẻ (1)" in admin.text
    assert [label.startswith("➕ Vào: ") for label in admin.labels].count(True) == 3
    await admin.tap_label("Vào: Đăng ký khai sinh cần chuẩn bị")
    assert "thêm cách hỏi cho «khai-sinh/ho-so»" in admin.text
    await admin.tap_label("Xác nhận")
    assert "giấy tờ cho đứa nhỏ mới đẻ" in (await entry(app, "khai-sinh/ho-so")).alternatives

    await admin.say("/chuatraloi")
    assert admin.text.startswith("Câu hỏi chưa trả lời được: 2 nhóm, 2 lượt hỏi")
    await admin.tap_label("chim bồ câu")
    ignore = next(c.value for r in admin.last for c in r.choices if c.label.endswith("Bỏ qua nhóm"))
    await admin.tap(ignore)
    assert admin.text.startswith("Đã bỏ qua nhóm «nuôi chim bồ câu")
    await admin.tap(ignore)  # the same button again: the group is gone
    assert admin.text.startswith("Nhóm này không còn trong hộp thư")
    await admin.say("/chuatraloi")
    assert admin.text.startswith("Câu hỏi chưa trả lời được: 1 nhóm, 1 lượt hỏi")

    # A group can also become a new entry, with its question prefilled.
    await admin.tap_label("lệ phí khai sinh")
    assert "0 không trả lời được, 1 bị đánh giá chưa hữu ích" in admin.text
    await admin.tap_label("Tạo mục mới")
    await admin.tap_label("Hộ tịch")
    assert "Câu hỏi gợi ý:\n«lệ phí khai sinh»" in admin.text
    await admin.tap_label("Giữ nguyên")
    await admin.say("Miễn lệ phí.")
    await admin.tap_label("Bỏ qua")
    await admin.tap_label("Xác nhận")
    assert "Đã thêm mục «ho-tich/le-phi-khai-sinh»" in admin.text
    await admin.say("/chuatraloi")
    assert admin.text == "Không có câu hỏi nào chưa trả lời được. 🎉"

    # Still unanswered after its group was handled (this process has not reloaded yet): new
    # evidence, shown again; an ignored question stays hidden.
    await citizen(app, "700999").say("giấy tờ cho đứa nhỏ mới đẻ ạ")
    await citizen(app, "700998").say("nuôi chim bồ câu đưa thư có cần đăng ký không")
    await admin.say("/chuatraloi")
    assert admin.text.startswith("Câu hỏi chưa trả lời được: 1 nhóm, 1 lượt hỏi")
    assert "«giấy tờ cho đứa nhỏ mới đẻ ạ»" in admin.text
    assert await audit_actions(app) == [
        "kb.alternative",
        "inbox.alternative",
        "inbox.ignore",
        "kb.create",
        "inbox.new_entry",
    ]


def motcua(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123",
    }
    return cli_runner.run(*args, cwd=cwd, env=env)  # in this process: tests/cli_runner.py


async def test_exports_neutralise_formulas_and_the_audit_log_is_append_only(
    app: App,
    admin: Conversation,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await admin.say("/faq xem khai-sinh/le-phi")
    await admin.tap_label("Sửa câu trả lời")
    await admin.say('=HYPERLINK("http://evil.example","Bấm vào đây")')
    await admin.tap_label("Xác nhận")

    await admin.say("/faq xuất csv")
    document = admin.last[0].document
    assert document is not None
    assert document.name.endswith(".csv")
    assert f"{BUNDLED} mục (CSV)" in admin.text
    rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8-sig"))))
    fee = next(r for r in rows if r["id"] == "khai-sinh/le-phi")
    assert fee["answer"].startswith("'=HYPERLINK(")
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())

    await admin.say("/faq xuất xlsx")
    document = admin.last[0].document
    assert document is not None
    sheet = load_workbook(io.BytesIO(document.content), read_only=True).worksheets[0]
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert "'=HYPERLINK(" in "\n".join(cells)
    assert all(not v.startswith(("=", "+", "-", "@")) for v in cells)
    # The exported workbook imports back unchanged (the apostrophes are undone): nothing to do.
    await send_file(admin, document.name, document.content)
    assert "giống hệt cơ sở tri thức hiện tại" in admin.text

    await admin.say("/faq xuất")
    document = admin.last[0].document
    assert document is not None
    assert document.name.endswith(".yaml")
    await admin.say("/faq xuất pdf")
    assert admin.text.startswith("Định dạng «pdf» không hỗ trợ")

    # What staff commands and role changes record, through the same call.
    async with app.sessions() as s, s.begin():
        await audit.record(s, "staffhash", "staff", "stats.report", "agency:1", {"period": "Q4"})
    actions = ["kb.answer", "kb.export", "kb.export", "kb.export", "stats.report"]
    assert await audit_actions(app) == actions

    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with app.sessions() as s, s.begin():
                await s.execute(text(statement))
    assert await audit_actions(app) == actions

    admin_hash = app.dispatcher.user_hash_of(Channel.TELEGRAM, ADMIN_ID)
    out = motcua("audit", "--json", database_url=database_url, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    logged = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["action"] for r in logged] == actions
    assert logged[0]["actor"] == admin_hash
    assert logged[0]["role"] == "admin"
    assert logged[0]["target"] == "khai-sinh/le-phi"
    assert logged[1]["details"] == {"format": "csv", "entries": BUNDLED}
    assert logged[4]["details"] == {"period": "Q4"}

    # Filters and the plain-text format, in this process (same code as the command line).
    from bot import cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-0123456789abcdef0123")
    monkeypatch.chdir(tmp_path)
    args = cli.build_parser().parse_args(
        ["audit", "--actor", admin_hash[:8], "--since", "2000-01-01", "--action", "kb.answer"]
    )
    capsys.readouterr()
    assert await args.func(args) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert f"admin   {admin_hash[:12]}  kb.answer" in line
    assert "khai-sinh/le-phi" in line
    args = cli.build_parser().parse_args(["audit", "--since", "2999-01-01"])
    assert await args.func(args) == 0
    assert capsys.readouterr().out == ""
