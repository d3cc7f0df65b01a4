"""The console's admin pages over real HTTP: the knowledge base, the inbox, users, audit."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import pytest
import yaml
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import App
from bot.messages import Channel
from bot.server import make_web_app
from storage.models.admin import AuditLog, KbHistory
from storage.repositories import kb_admin, roles
from tests.staff_console import ADMIN, STAFF, build_console_city, csrf_of, sign_in
from tests.transcript import Conversation

ENTRY = "tro-cap-that-nghiep/ho-so"


@pytest.fixture
async def admin(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    await build_console_city(app)
    async with TestClient(TestServer(make_web_app(app))) as c:
        await sign_in(c, app, ADMIN)
        yield c


async def _entry(app: App, entry_id: str = ENTRY):  # type: ignore[no-untyped-def]
    async with app.sessions() as s:
        return await kb_admin.get(s, entry_id)


def _fp(html: str) -> str:
    found = re.search(r'name="fp" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def _form(admin: TestClient, entry_id: str = ENTRY) -> tuple[str, str]:  # type: ignore[type-arg]
    html = await (await admin.get(f"/staff/kho/muc?id={entry_id}")).text()
    return await csrf_of(admin, f"/staff/kho/muc?id={entry_id}"), _fp(html)


def _fields(entry) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "id": entry.id,
        "category": entry.category,
        "procedure": entry.procedure,
        "question": entry.question,
        "answer": entry.answer,
        "alternatives": "\n".join(entry.alternatives),
        "keywords": "\n".join(entry.keywords),
        "legal_basis": entry.legal_basis,
        "legal_refs": "\n".join(entry.legal_refs),
        "source_url": entry.source_url,
        "aspect": entry.aspect,
        "reviewed": entry.reviewed,
        "review_by": entry.review_by,
    }


async def test_search_and_filter_the_base(admin: TestClient, app: App) -> None:  # type: ignore[type-arg]
    html = await (await admin.get("/staff/kho?q=trợ cấp thất nghiệp")).text()
    assert ENTRY in html
    html = await (await admin.get("/staff/kho?trangthai=tat")).text()
    assert "0 / " in html


async def test_preview_does_not_save_and_save_keeps_history_with_the_name(
    admin: TestClient,  # type: ignore[type-arg]
    app: App,
) -> None:
    before = await _entry(app)
    csrf, fp = await _form(admin)
    data = {**_fields(before), "csrf": csrf, "fp": fp, "answer": "Câu trả lời mới, ngắn gọn."}
    preview = await admin.post("/staff/kho/muc", data={**data, "hanhdong": "xemtruoc"})
    assert preview.status == 200 and "Bản xem trước (chưa lưu)" in await preview.text()
    assert (await _entry(app)).answer == before.answer
    saved = await admin.post("/staff/kho/muc", data={**data, "hanhdong": "luu"})
    html = await saved.text()
    assert saved.status == 200 and "Đã lưu." in html
    assert (await _entry(app)).answer == "Câu trả lời mới, ngắn gọn."
    assert "Nguyễn Quản Trị" in html and "sửa mục" in html  # the editor's name, not a hash
    assert "<del>" in html and "<ins>" in html
    async with app.sessions() as s:
        audit_row = (await s.scalars(select(AuditLog).where(AuditLog.action == "kb.edit"))).one()
        history = (await s.scalars(select(KbHistory).where(KbHistory.entry_id == ENTRY))).all()
    assert audit_row.details["history"] == history[-1].id and audit_row.target == ENTRY
    # The same form again, with the old fingerprint: refused, nothing changes.
    stale = await admin.post("/staff/kho/muc", data={**data, "answer": "khác", "hanhdong": "luu"})
    assert stale.status == 409
    assert (await _entry(app)).answer == "Câu trả lời mới, ngắn gọn."


async def test_restore_any_earlier_version(admin: TestClient, app: App) -> None:  # type: ignore[type-arg]
    original = await _entry(app)
    for text in ("Phiên bản một.", "Phiên bản hai."):
        current = await _entry(app)
        csrf, fp = await _form(admin)
        data = {**_fields(current), "csrf": csrf, "fp": fp, "answer": text, "hanhdong": "luu"}
        assert (await admin.post("/staff/kho/muc", data=data)).status == 200
    async with app.sessions() as s:
        first = (await kb_admin.history(s, ENTRY, 10))[-1]
    csrf, fp = await _form(admin)
    resp = await admin.post(
        "/staff/kho/khoiphuc", data={"csrf": csrf, "fp": fp, "id": ENTRY, "phienban": first.id}
    )
    assert resp.status == 200 and "Đã khôi phục" in await resp.text()
    assert (await _entry(app)).answer == "Phiên bản một."
    assert original.answer != "Phiên bản một."


async def test_invalid_edits_are_explained_and_nothing_is_saved(
    admin: TestClient,  # type: ignore[type-arg]
    app: App,
) -> None:
    before = await _entry(app)
    csrf, fp = await _form(admin)
    data = {**_fields(before), "csrf": csrf, "fp": fp, "answer": "", "review_by": "31/12/2026"}
    resp = await admin.post("/staff/kho/muc", data={**data, "hanhdong": "luu"})
    html = await resp.text()
    assert resp.status == 422 and "Chưa lưu được" in html
    assert "Hạn rà soát lại" in html
    assert (await _entry(app)) == before


async def test_phrasings_and_on_off(admin: TestClient, app: App) -> None:  # type: ignore[type-arg]
    csrf, fp = await _form(admin)
    resp = await admin.post(
        "/staff/kho/cachoi",
        data={"csrf": csrf, "fp": fp, "id": ENTRY, "cachoi": "mất việc thì nộp giấy gì"},
    )
    assert resp.status == 200
    assert "mất việc thì nộp giấy gì" in (await _entry(app)).alternatives
    csrf, fp = await _form(admin)
    resp = await admin.post(
        "/staff/kho/trangthai", data={"csrf": csrf, "fp": fp, "id": ENTRY, "bat": "0"}
    )
    assert resp.status == 200 and not (await _entry(app)).enabled
    category = (await _entry(app)).category
    resp = await admin.post(
        "/staff/kho/linhvuc", data={"csrf": csrf, "linhvuc": category, "bat": "0"}
    )
    assert resp.status == 200
    async with app.sessions() as s:
        entries = await kb_admin.of_category(s, category)
        actions = {r.action for r in (await s.scalars(select(AuditLog))).all()}
    assert entries and not any(e.enabled for e in entries)
    assert {"kb.alternative", "kb.disable", "kb.disable_category"} <= actions


async def test_import_shows_problems_or_a_diff_and_applies_on_confirmation(
    admin: TestClient,  # type: ignore[type-arg]
    app: App,
) -> None:
    csrf = await csrf_of(admin, "/staff/kho/nhap")
    bad = FormData()
    bad.add_field("csrf", csrf)
    bad.add_field("tep", b"version: 1\nentries:\n  - id: X\n", filename="sai.yaml")
    resp = await admin.post("/staff/kho/nhap", data=bad)
    assert resp.status == 422 and "lỗi" in await resp.text()
    entry = await _entry(app)
    body = {
        "version": 1,
        "entries": [
            {**_fields(entry), "alternatives": list(entry.alternatives), "keywords": [],
             "legal_refs": [], "answer": "Trả lời từ tệp."},
            {"id": "thu-nghiem/moi", "category": "Thử nghiệm", "question": "Câu hỏi mới?",
             "answer": "Trả lời mới."},
        ],
    }  # fmt: skip
    good = FormData()
    good.add_field("csrf", csrf)
    good.add_field("tep", yaml.safe_dump(body, allow_unicode=True).encode(), filename="kb.yaml")
    resp = await admin.post("/staff/kho/nhap", data=good)
    html = await resp.text()
    assert resp.status == 200 and "Thêm mới (1)" in html and "Thay đổi (1)" in html
    assert "Trả lời từ tệp." in html
    assert (await _entry(app)).answer == entry.answer  # nothing applied yet
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fp = _fp(html)
    resp = await admin.post(
        "/staff/kho/nhap/xacnhan", data={"csrf": csrf, "nonce": nonce, "fp": fp, "thaythe": "0"}
    )
    assert resp.status == 200 and "Đã nhập" in await resp.text()
    assert (await _entry(app)).answer == "Trả lời từ tệp."
    assert await _entry(app, "thu-nghiem/moi") is not None
    again = await admin.post(
        "/staff/kho/nhap/xacnhan", data={"csrf": csrf, "nonce": nonce, "fp": fp, "thaythe": "0"}
    )
    assert again.status == 409  # a preview is applied once


async def test_export(admin: TestClient) -> None:  # type: ignore[type-arg]
    resp = await admin.get("/staff/kho/xuat?dinhdang=yaml")
    assert resp.status == 200
    data = yaml.safe_load(await resp.read())
    assert any(e["id"] == ENTRY for e in data["entries"])


async def test_inbox_groups_and_one_click_actions(admin: TestClient, app: App) -> None:  # type: ignore[type-arg]
    citizen = Conversation(app.dispatcher, channel=Channel.WEB, chat_id="dan-1")
    for _ in range(3):
        await citizen.say("nuôi chim yến trong nhà có cần xin phép phường không")
    await citizen.say("cách đăng ký nuôi khủng long cảnh")
    html = await (await admin.get("/staff/chuatraloi")).text()
    assert "nuôi chim yến" in html and "(3 lần)" in html
    csrf = await csrf_of(admin, "/staff/chuatraloi")
    key = re.search(r'name="nhom" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    resp = await admin.post(
        "/staff/chuatraloi", data={"csrf": csrf, "nhom": key, "hanhdong": "cachoi", "muc": ENTRY}
    )
    assert resp.status == 200 and "Đã thêm thành cách hỏi" in await resp.text()
    assert any("chim yến" in a for a in (await _entry(app)).alternatives)
    html = await (await admin.get("/staff/chuatraloi")).text()
    assert "nuôi chim yến" not in html
    key = re.search(r'name="nhom" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    resp = await admin.post(
        "/staff/chuatraloi", data={"csrf": csrf, "nhom": key, "hanhdong": "boqua"}
    )
    assert resp.status == 200 and "Đã bỏ qua" in await resp.text()
    async with app.sessions() as s:
        actions = [r.action for r in (await s.scalars(select(AuditLog))).all()]
    assert "inbox.alternative" in actions and "inbox.ignore" in actions


async def test_users_grant_revoke_and_end_sessions(admin: TestClient, app: App) -> None:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as staff:
        await sign_in(staff, app, STAFF)
        csrf = await csrf_of(admin, "/staff/nguoidung")
        staff_hash = app.dispatcher.user_hash_of(Channel.TELEGRAM, STAFF)
        resp = await admin.post(
            "/staff/nguoidung", data={"csrf": csrf, "hanhdong": "dangxuat", "nguoi": staff_hash}
        )
        assert resp.status == 200 and "Đã kết thúc 1 phiên" in await resp.text()
        assert (await staff.get("/staff/tongquan")).status == 401
    resp = await admin.post(
        "/staff/nguoidung",
        data={"csrf": csrf, "hanhdong": "cap", "kenh": "zalo_oa", "ma": "555", "ten": "Võ Thị Mới",
              "vaitro": "staff", "coquan": "000.00.13.H13"},
    )  # fmt: skip
    assert resp.status == 200 and "Võ Thị Mới" in await resp.text()
    new_hash = app.dispatcher.user_hash_of(Channel.ZALO_OA, "555")
    async with app.sessions() as s:
        assert (await roles.actor_of(s, new_hash)).role == "staff"
    resp = await admin.post(
        "/staff/nguoidung", data={"csrf": csrf, "hanhdong": "thuhoi", "nguoi": new_hash}
    )
    assert resp.status == 200
    async with app.sessions() as s:
        assert (await roles.actor_of(s, new_hash)).role == "citizen"
    html = await (await admin.get("/staff/nhatky?hanhdong=users.grant")).text()
    assert "users.grant" in html and "Nguyễn Quản Trị" in html


async def test_chat_history_names_the_editor_of_a_web_change(admin: TestClient, app: App) -> None:  # type: ignore[type-arg]
    before = await _entry(app)
    csrf, fp = await _form(admin)
    data = {**_fields(before), "csrf": csrf, "fp": fp, "answer": "Ngắn gọn.", "hanhdong": "luu"}
    assert (await admin.post("/staff/kho/muc", data=data)).status == 200
    chat = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN)
    await chat.say(f"/faq xem {ENTRY}")
    await chat.tap_label("Lịch sử")
    assert "Nguyễn Quản Trị" in chat.text


async def test_staff_cannot_change_the_base_even_with_their_csrf_token(app: App) -> None:
    await build_console_city(app)
    async with TestClient(TestServer(make_web_app(app))) as staff:
        await sign_in(staff, app, STAFF)
        csrf = await csrf_of(staff)
        before = await _entry(app)
        for path in ("/staff/kho/trangthai", "/staff/kho/muc", "/staff/nguoidung"):
            resp = await staff.post(path, data={"csrf": csrf, "id": ENTRY, "bat": "0"})
            assert resp.status == 403, path
        assert await _entry(app) == before


async def test_an_upload_over_five_megabytes_is_refused(admin: TestClient) -> None:  # type: ignore[type-arg]
    csrf = await csrf_of(admin, "/staff/kho/nhap")
    big = FormData()
    big.add_field("csrf", csrf)
    big.add_field("tep", io.BytesIO(b"#" * (5 * 1024 * 1024 + 10)), filename="to.yaml")
    resp = await admin.post("/staff/kho/nhap", data=big)
    assert resp.status == 413
