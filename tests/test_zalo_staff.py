"""Staff on Zalo OA: the chart of /thongke and the workbook of /baocao reach them as a
picture and a file, uploaded to the fake OA platform and sent over real HTTP; what Zalo will
not take becomes a short text instead of silence."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from bot.app import App
from bot.channels.zalo_oa import (
    CS_MESSAGE_PATH,
    UPLOAD_FILE_PATH,
    UPLOAD_IMAGE_PATH,
    OaMessage,
    render,
)
from bot.messages import Attachment, Channel, Reply
from handlers.context import Services
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.dossier_fixtures import TODAY, build_city
from tests.fake_zalo import FakeZaloOA
from tests.test_zalo import CITIZEN, Citizen, fake, oa_app, sqlite_url  # noqa: F401 (fixtures)

STAFF = "6142494823000000077"
PNG = b"\x89PNG\r\n\x1a\n"


async def make_staff(app: App, user_id: str) -> None:
    """The city's dossiers, a fixed today, and ``user_id`` staff of a ward on Zalo OA."""
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY)
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        await roles.grant(
            s,
            user_hash=app.dispatcher.user_hash_of(Channel.ZALO_OA, user_id),
            channel=Channel.ZALO_OA.value,
            user_id=user_id,
            role="staff",
            agency=ward,
        )


def test_render_puts_a_picture_and_a_file_after_their_text() -> None:
    chart = Attachment("chart.png", PNG + b"x", "image/png", alt="Biểu đồ")
    sheet = Attachment("bao-cao.xlsx", b"PK", "application/octet-stream")
    messages = render([Reply("Biểu đồ", image=chart), Reply("Báo cáo", document=sheet)])
    assert [(m.text, m.image, m.document) for m in messages] == [
        ("Biểu đồ", None, None),
        ("", chart, None),
        ("Báo cáo", None, None),
        ("", None, sheet),
    ]
    image = messages[1].body("U1", "att-1")["message"]
    assert image == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "attachment_id": "att-1"}],
            },
        }
    }
    assert messages[3].body("U1", "tok-1")["message"] == {
        "attachment": {"type": "file", "payload": {"token": "tok-1"}}
    }
    too_big = OaMessage("", image=Attachment("big.png", PNG + b"0" * 1_000_000, "image/png"))
    assert not too_big.fits() and messages[1].fits() and messages[3].fits()


async def test_staff_receive_the_chart_and_the_report_on_zalo_oa(
    sqlite_url: str,  # noqa: F811
    tmp_path: Path,
    fake: FakeZaloOA,  # noqa: F811
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        await make_staff(app, STAFF)
        staff = Citizen(fake, channel, user_id=STAFF)
        await staff.follow()

        await staff.say("/thongke tháng")
        summary, caption, picture = staff.last
        assert "UBND phường Ninh Kiều" in summary["text"] and "Tiếp nhận" in summary["text"]
        assert caption["text"].startswith("Biểu đồ")
        image = picture["image"]
        assert image is not None and image.content.startswith(PNG)
        assert image.mime_type == "image/png" and 20_000 < len(image.content) < 400_000
        (upload,) = fake.calls_of(UPLOAD_IMAGE_PATH)
        assert upload.error == 0 and upload.headers["access_token"] == fake.initial_access_token

        await staff.say("/baocao năm")
        text, document = staff.last
        assert "Báo cáo" in text["text"] and "tệp Excel" in text["text"]
        sheet = document["file"]
        assert sheet is not None and sheet.name.endswith(".xlsx")
        workbook = load_workbook(io.BytesIO(sheet.content))
        assert "Tổng hợp" in workbook.sheetnames
        assert len(fake.calls_of(UPLOAD_FILE_PATH)) == 1

        # A citizen asking the same gets no chart, no upload: the commands are staff-only.
        citizen = Citizen(fake, channel, user_id=CITIZEN)
        await citizen.follow()
        await citizen.say("/thongke tháng")
        assert all(m["image"] is None for m in citizen.last)
        assert len(fake.calls_of(UPLOAD_IMAGE_PATH)) == 1


async def test_a_refused_upload_is_said_in_words_and_the_turn_goes_on(
    sqlite_url: str,  # noqa: F811
    tmp_path: Path,
    fake: FakeZaloOA,  # noqa: F811
) -> None:
    async with oa_app(sqlite_url, tmp_path, fake, knowledge=False) as (app, channel):
        await make_staff(app, STAFF)
        staff = Citizen(fake, channel, user_id=STAFF)
        await staff.follow()
        fake.fail(UPLOAD_FILE_PATH, error=-201)  # e.g. a file type this OA may not send
        await staff.say("/baocao năm")
        text, instead = staff.last
        assert "tệp Excel" in text["text"] and instead["file"] is None
        assert instead["text"].startswith("Zalo không nhận tệp «bao-cao-")
        assert "Telegram hoặc trang web" in instead["text"]
        # the refused upload was tried once (not retried: -201 is final), nothing was lost
        assert [c.error for c in fake.calls_of(UPLOAD_FILE_PATH)] == [-201]
        assert len(fake.calls_of(CS_MESSAGE_PATH, STAFF)) >= 3
