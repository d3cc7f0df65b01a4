"""Staff commands: who may use them, what they see, the chart and the Excel report."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.messages import Channel
from handlers.context import Services
from storage.models.admin import AuditLog
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.dossier_fixtures import TODAY, build_city
from tests.transcript import Conversation

STAFF, ADMIN = "800001", "800002"


@pytest.fixture
async def city(app: App) -> App:
    await build_city(app)
    old = app.dispatcher.services
    app.dispatcher.services = Services(old.secret, old.calendar, lambda: TODAY)
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        for user, role, agency in ((STAFF, "staff", ward), (ADMIN, "admin", None)):
            await roles.grant(
                s,
                user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, user),
                channel="telegram",
                user_id=user,
                role=role,
                agency=agency,
            )
    return app


@pytest.mark.parametrize("command", ["/thongke", "/baocao", "/canhbao bật", "/thongke năm"])
async def test_staff_commands_do_not_exist_for_citizens(city: App, command: str) -> None:
    citizen = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="1234")
    await citizen.say(command)
    assert "chưa hiểu lệnh này" in citizen.text


async def test_staff_see_their_agency_with_a_chart(city: App) -> None:
    staff = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=STAFF)
    await staff.say("/thongke tháng")
    summary, picture = staff.last
    assert "UBND phường Ninh Kiều" in summary.text and "Tiếp nhận" in summary.text
    assert picture.image is not None and picture.image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert 20_000 < len(picture.image.content) < 400_000
    # the alternative text describes the chart in words, not by its file name
    alt = picture.image.alt
    assert alt.startswith("Biểu đồ thống kê") and "UBND phường Ninh Kiều" in alt
    assert "theo tháng" in alt and "5 yếu tố" in alt and "%" in alt
    await staff.say("/thongke năm 000.00.13.H13")  # a sibling ward
    assert "chỉ xem được số liệu của cơ quan mình" in staff.text
    await staff.say("/thongke năm 000.00.00.H13")  # the city above
    assert "chỉ xem được số liệu của cơ quan mình" in staff.text
    await staff.say("/thongke tuần thứ chín")
    assert staff.last[0].image is None and "tháng" in staff.text  # says which forms it takes


async def test_admins_see_any_agency_and_the_city(city: App) -> None:
    admin = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN)
    await admin.say("/thongke năm 000.00.13.H13")
    assert "UBND phường Cái Khế" in admin.last[0].text
    await admin.say("/thongke năm")
    assert "Toàn thành phố" in admin.last[0].text


async def test_the_excel_report_and_the_audit(city: App) -> None:
    staff = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=STAFF)
    await staff.say("/baocao năm")
    (reply,) = staff.last
    assert reply.document is not None and reply.document.name.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(reply.document.content))
    assert "Tổng hợp" in workbook.sheetnames and "Đánh giá" in workbook.sheetnames
    await staff.say("/canhbao bật")
    assert "Đã bật cảnh báo" in staff.text
    async with city.sessions() as s:
        actions = list(await s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["stats.report", "alerts.set"]
