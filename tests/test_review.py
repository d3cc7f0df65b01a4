"""The review list on small fixtures, on SQLite and PostgreSQL: a document replaced or expired,
or a review-by date passed, lists its entries; admins who asked for alerts are told once; the
answer's footer shows the basis, the date and the link, and the caveat when the admin chose it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import kb_review
from bot.app import App
from bot.domain.outbox_payload import payload_to_replies
from bot.messages import Channel
from handlers import answer_footer
from knowledge.entry import Entry
from knowledge.register import LegalDocument
from storage.models import OutboxMessage
from storage.models.register import KbReviewItem
from storage.repositories import kb as kb_repo
from storage.repositories import legal, roles
from tests.conftest import make_settings
from tests.transcript import Conversation

TODAY = date(2026, 12, 6)
ADMIN_ID, QUIET_ADMIN_ID = "810001", "810002"

DOCS = [
    LegalDocument("1/2020/QH14", "Luật Thử nghiệm", "Quốc hội", "2021-01-01"),
    LegalDocument("2/2026/QH15", "Luật Thử nghiệm mới", "Quốc hội", "2027-01-01"),
    LegalDocument("3/2021/NĐ-CP", "Nghị định Thử nghiệm", "Chính phủ", "2021-07-01"),
]
ENTRIES = [
    Entry(
        id="thu/ho-so",
        category="Hộ tịch",
        procedure="Thủ tục thử",
        question="Thủ tục thử cần hồ sơ gì?",
        answer="Tờ khai thử.",
        legal_basis="Luật Thử nghiệm số 1/2020/QH14",
        source_url="https://dichvucong.gov.vn/thu-tuc-thu",
        legal_refs=("1/2020/QH14",),
        reviewed="2026-11-20",
        review_by="2027-06-30",
    ),
    Entry(
        id="thu/le-phi",
        category="Hộ tịch",
        procedure="Thủ tục thử",
        question="Lệ phí thủ tục thử bao nhiêu?",
        answer="Miễn phí.",
        legal_refs=("1/2020/QH14", "3/2021/NĐ-CP"),
        reviewed="2026-11-20",
        review_by="2027-06-30",
    ),
    Entry(
        id="thu/noi-nop",
        category="Hộ tịch",
        procedure="Thủ tục thử",
        question="Nộp hồ sơ thủ tục thử ở đâu?",
        answer="UBND xã.",
        legal_refs=("3/2021/NĐ-CP",),
        reviewed="2026-01-10",
        review_by="2026-12-01",  # overdue on TODAY
    ),
]


async def _grant(app: App, user_id: str, *, alerts: bool) -> str:
    user_hash = app.dispatcher.user_hash_of(Channel.TELEGRAM, user_id)
    async with app.sessions() as s, s.begin():
        await roles.grant(
            s,
            user_hash=user_hash,
            channel="telegram",
            user_id=user_id,
            role="admin",
            agency=None,
            alerts=alerts,
        )
    return user_hash


@pytest.fixture
async def small(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    """An application on a base of three entries and three documents, today = TODAY."""
    register_dir = tmp_path / "register"
    register_dir.mkdir()
    (register_dir / "r.yaml").write_text(
        "version: 1\ndocuments:\n"
        + "".join(
            f"  - {{number: {d.number}, title: {d.title}, issuer: {d.issuer}, "
            f"effective: {d.effective}}}\n"
            for d in DOCS
        ),
        encoding="utf-8",
    )
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    application = App.build(
        make_settings(database_url, tmp_path, kb_dir=kb_dir, kb_register_dir=register_dir)
    )
    application.dispatcher.services = application.dispatcher.services.__class__(
        application.dispatcher.services.secret,
        application.dispatcher.services.calendar,
        lambda: TODAY,
    )
    async with application.sessions() as s, s.begin():
        await kb_repo.apply_import(s, ENTRIES, replace=False)
    await application.start(migrate_db=False, watch=False)
    yield application
    await application.close()


async def _items(app: App) -> list[tuple[str, str, str]]:
    async with app.sessions() as s:
        return [(i.entry_id, i.document_number, i.event) for i in await legal.open_items(s)]


async def _alerts(app: App) -> list[OutboxMessage]:
    async with app.sessions() as s:
        rows = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("kbreview:%"))
        )
        return list(rows)


async def test_a_replaced_document_lists_its_entries_and_alerts_once(small: App) -> None:
    admin_hash = await _grant(small, ADMIN_ID, alerts=True)
    await _grant(small, QUIET_ADMIN_ID, alerts=False)
    # At start only the overdue entry is listed.
    await small.review_sweep()
    assert await _items(small) == [("thu/noi-nop", "", "overdue:2026-12-01")]

    async with small.sessions() as s, s.begin():
        await legal.mark_replaced(s, "1/2020/QH14", "2/2026/QH15", date(2026, 12, 6))
        result = await kb_review.sweep(s, TODAY)
    assert result.opened == 2
    assert sorted(await _items(small)) == [
        ("thu/ho-so", "1/2020/QH14", "replaced:2/2026/QH15"),
        ("thu/le-phi", "1/2020/QH14", "replaced:2/2026/QH15"),
        ("thu/noi-nop", "", "overdue:2026-12-01"),
    ]
    alerts = await _alerts(small)
    # One alert for the replacement (both entries in it), none for the admin without alerts;
    # the overdue alert was queued when the admin was not yet listening: none now either.
    replaced = [a for a in alerts if "replaced" in a.dedupe_key]
    assert len(replaced) == 1 and replaced[0].chat_id == ADMIN_ID
    assert admin_hash in replaced[0].dedupe_key
    text = payload_to_replies(replaced[0].payload)[0].text
    assert "1/2020/QH14 (Luật Thử nghiệm) đã được thay thế bởi 2/2026/QH15" in text
    assert "2 câu trả lời cần rà soát: thu/ho-so, thu/le-phi" in text

    # Sweeping again (another process, the daily task) lists nothing new and alerts no more.
    again = await small.review_sweep()
    assert again.opened == 0 and again.alerts == 0
    assert len(await _alerts(small)) == len(alerts)

    # An entry reviewed after the change leaves the list; the other stays.
    fixed = Entry(**{**_fields(ENTRIES[0]), "reviewed": "2026-12-06", "answer": "Tờ khai mới."})
    async with small.sessions() as s, s.begin():
        await kb_repo.apply_import(s, [fixed], replace=False)
    await small.review_sweep()
    assert ("thu/ho-so", "1/2020/QH14", "replaced:2/2026/QH15") not in await _items(small)
    assert ("thu/le-phi", "1/2020/QH14", "replaced:2/2026/QH15") in await _items(small)


def _fields(e: Entry) -> dict[str, object]:
    return {f: getattr(e, f) for f in e.__dataclass_fields__}


async def test_an_expiry_date_lists_entries_only_once_it_has_passed(small: App) -> None:
    await _grant(small, ADMIN_ID, alerts=True)
    async with small.sessions() as s, s.begin():
        await legal.mark_expired(s, "3/2021/NĐ-CP", date(2027, 1, 1))
        before = await kb_review.sweep(s, TODAY)
    assert before.opened == 0
    async with small.sessions() as s, s.begin():
        after = await kb_review.sweep(s, date(2027, 1, 1))
    assert after.opened == 2  # thu/le-phi and thu/noi-nop cite it
    assert after.alerts == 1  # the expiry (the overdue entry was listed, without alerts, at start)
    expired = [a for a in await _alerts(small) if "expired" in a.dedupe_key]
    assert len(expired) == 1
    assert "hết hiệu lực từ 01/01/2027" in payload_to_replies(expired[0].payload)[0].text


async def test_a_bundled_file_never_undoes_an_admins_marking(small: App) -> None:
    async with small.sessions() as s, s.begin():
        await legal.mark_replaced(s, "1/2020/QH14", "2/2026/QH15", TODAY, caveat=True)
    await small.review_sweep(sync_register=True)  # the bundled file does not know of it
    async with small.sessions() as s:
        document = (await legal.register(s)).get("1/2020/QH14")
    assert document is not None
    assert (document.replaced_by, document.expired, document.caveat) == (
        "2/2026/QH15",
        "2026-12-06",
        True,
    )


async def test_the_answer_shows_basis_date_and_link_and_the_caveat_when_chosen(
    small: App,
) -> None:
    citizen = Conversation(small.dispatcher, chat_id="c-1")
    await citizen.say("Thủ tục thử cần hồ sơ gì?")
    answer = citizen.last[0].text
    assert answer == (
        "Tờ khai thử.\n\n"
        "Căn cứ: Luật Thử nghiệm số 1/2020/QH14\n"
        "Cập nhật: 20/11/2026\n"
        "Xem văn bản, thủ tục chính thức: https://dichvucong.gov.vn/thu-tuc-thu"
    )
    # Without legal_basis text the cited numbers are the basis; no link, no line for it.
    await citizen.say("Lệ phí thủ tục thử bao nhiêu?")
    assert citizen.last[0].text == (
        "Miễn phí.\n\nCăn cứ: 1/2020/QH14; 3/2021/NĐ-CP\nCập nhật: 20/11/2026"
    )

    # An admin marks the law replaced from the chat, asking for the caveat.
    await _grant(small, ADMIN_ID, alerts=True)
    admin = Conversation(small.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN_ID)
    await admin.say("/vanban thaythe 1/2020/QH14 2/2026/QH15 06/12/2026 canhbao")
    assert admin.text == (
        "Đã cập nhật văn bản 1/2020/QH14. 2 câu trả lời được đưa vào danh sách rà soát."
    )
    await admin.say("/canxem")
    assert admin.text.startswith("Câu trả lời cần rà soát (3):")
    assert "- thu/ho-so: văn bản 1/2020/QH14 đã được thay thế bởi 2/2026/QH15" in admin.text
    assert "- thu/noi-nop: quá hạn rà soát (01/12/2026)" in admin.text

    await citizen.say("Thủ tục thử cần hồ sơ gì?")
    assert citizen.last[0].text.endswith(
        "⚠️ Lưu ý: quy định liên quan vừa thay đổi, nội dung này đang được rà soát lại. "
        "Bạn nên đối chiếu với cơ quan giải quyết trước khi nộp hồ sơ."
    )
    # The overdue entry cites no flagged document: no caveat unless the setting says so.
    await citizen.say("Nộp hồ sơ thủ tục thử ở đâu?")
    assert "⚠️" not in citizen.last[0].text


async def test_the_setting_puts_the_caveat_on_every_entry_under_review(small: App) -> None:
    services = small.dispatcher.services
    small.dispatcher.services = services.__class__(
        services.secret, services.calendar, services.today, review_caveat=True
    )
    citizen = Conversation(small.dispatcher, chat_id="c-2")
    await citizen.say("Nộp hồ sơ thủ tục thử ở đâu?")  # overdue: under review
    assert "⚠️ Lưu ý" in citizen.last[0].text
    await citizen.say("Thủ tục thử cần hồ sơ gì?")  # not under review
    assert "⚠️" not in citizen.last[0].text


async def test_register_commands_refuse_bad_input_and_change_nothing(small: App) -> None:
    await _grant(small, ADMIN_ID, alerts=False)
    admin = Conversation(small.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN_ID)
    await admin.say("/vanban hethan 1/2020/QH14 31/02/2027")
    assert admin.text == "Ngày «31/02/2027» không hợp lệ. Bạn viết theo dạng dd/mm/yyyy."
    await admin.say("/vanban thaythe 9/2099/QH99 2/2026/QH15")
    assert admin.text == "Không có văn bản 9/2099/QH99 trong sổ văn bản."
    await admin.say("/vanban 1/2020/qh14")
    assert admin.text.startswith("1/2020/QH14: Luật Thử nghiệm\nCơ quan ban hành: Quốc hội")
    assert "Hết hiệu lực" not in admin.text
    async with small.sessions() as s:
        rows = list(await s.scalars(select(KbReviewItem)))
    assert [r.entry_id for r in rows] == ["thu/noi-nop"]
    # A citizen does not have the command.
    citizen = Conversation(small.dispatcher, chat_id="c-3")
    await citizen.say("/vanban thaythe 1/2020/QH14 2/2026/QH15")
    assert "chưa hiểu lệnh này" in citizen.text


async def test_bundled_answers_show_the_date_and_the_official_link_on_the_terminal_and_web(
    app: App,
) -> None:
    """Transcripts on the bundled base: the terminal prints the footer as is; the web chat's
    JSON carries the same text (the page turns the URL into a link)."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.server import make_web_app

    terminal = Conversation(app.dispatcher, chat_id="t-1")
    await terminal.say("Đăng ký khai sinh cần chuẩn bị những giấy tờ gì?")
    answer = terminal.last[0].text
    assert "\nCăn cứ: Luật Hộ tịch số 60/2014/QH13" in answer
    assert "\nCập nhật: 06/12/2026" in answer
    assert answer.endswith(
        "Xem văn bản, thủ tục chính thức: "
        "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-3fe0-70ac-b9d6-5e9e20d6eef7"
    )
    async with TestClient(TestServer(make_web_app(app))) as client:
        resp = await client.post(
            "/api/chat", json={"text": "Đăng ký khai sinh cần chuẩn bị những giấy tờ gì?"}
        )
        assert resp.status == 200
        replies = (await resp.json())["replies"]
    assert replies[0]["text"] == answer


async def test_an_admin_marks_an_entry_reviewed_and_it_leaves_the_list(small: App) -> None:
    await _grant(small, ADMIN_ID, alerts=False)
    admin = Conversation(small.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN_ID)
    await admin.say("/canxem")
    assert "- thu/noi-nop: quá hạn rà soát (01/12/2026)" in admin.text
    await admin.say("/canxem xong thu/noi-nop 01/01/2026")  # a past date is refused
    assert admin.text == "Ngày «01/01/2026» không hợp lệ. Bạn viết theo dạng dd/mm/yyyy."
    await admin.say("/canxem xong thu/khong-co")
    assert admin.text == "Không có mục «thu/khong-co» trong cơ sở tri thức."
    await admin.say("/canxem xong thu/noi-nop")
    assert (
        admin.text
        == "Đã ghi nhận rà soát mục thu/noi-nop hôm nay. Hạn rà soát lần sau: 06/06/2027."
    )
    assert await _items(small) == []
    await admin.say("/canxem")
    assert admin.text == "Không có câu trả lời nào cần rà soát. 👍"
    async with small.sessions() as s:
        entry = await kb_repo.all_entries(s)
    noi_nop = next(e for e in entry if e.id == "thu/noi-nop")
    assert (noi_nop.reviewed, noi_nop.review_by) == ("2026-12-06", "2027-06-06")
    # The citizen's answer shows the new date once the index is rebuilt.
    await small.knowledge.refresh()
    citizen = Conversation(small.dispatcher, chat_id="c-4")
    await citizen.say("Nộp hồ sơ thủ tục thử ở đâu?")
    assert "Cập nhật: 06/12/2026" in citizen.last[0].text


async def test_a_file_sent_in_the_chat_citing_an_unknown_document_is_refused(small: App) -> None:
    from bot.messages import Incoming, IncomingFile

    await _grant(small, ADMIN_ID, alerts=False)
    admin = Conversation(small.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN_ID)
    content = (
        "version: 1\nentries:\n"
        "  - {id: thu/moi, category: Hộ tịch, question: 'Câu mới?', answer: Đáp.,\n"
        "     legal_refs: [9/2099/QH99]}\n"
    ).encode()
    await admin.send(Incoming(admin.chat, "f-1", file=IncomingFile("moi.yaml", content)))
    assert admin.text.startswith("Tệp «moi.yaml» có 1 lỗi nên không nhập được")
    assert "'9/2099/QH99' is not in the register of documents" in admin.text
    async with small.sessions() as s:
        assert "thu/moi" not in {e.id for e in await kb_repo.all_entries(s)}


def test_the_official_link_is_not_repeated_when_the_answer_already_gives_it() -> None:
    entry = ENTRIES[0]
    quoted = replace(entry, answer=f"Tờ khai thử. Nguồn: {entry.source_url}")
    assert answer_footer.answer_with_footer(quoted).count(entry.source_url) == 1
    assert answer_footer.answer_with_footer(entry).count(entry.source_url) == 1
