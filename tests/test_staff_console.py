"""The staff web console over real HTTP: signing in, sessions, roles, CSRF, the dashboard."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.app import App
from bot.domain.stats import indexes
from bot.domain.stats.periods import parse_period
from bot.domain.stats.text import percent
from bot.messages import Channel
from bot.server import make_web_app
from storage.models import utcnow
from storage.models.admin import AuditLog
from storage.models.staff import StaffLoginLink, StaffSession
from storage.repositories import roles
from storage.repositories.audit import aware
from tests.dossier_fixtures import TODAY
from tests.staff_console import (
    ADMIN,
    CITIZEN,
    LATE_CODE,
    OTHER_STAFF,
    STAFF,
    build_console_city,
    csrf_of,
    link_for,
    path_of,
    sign_in,
)
from tests.transcript import Conversation

PAGES = ["/staff/tongquan", "/staff/tongquan/hoso?thutuc=1", "/staff/tongquan/baocao.xlsx"]


@pytest.fixture
async def city(app: App) -> App:
    return await build_console_city(app)


@pytest.fixture
async def client(city: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(city))) as c:
        yield c


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_needs_a_session(client: TestClient, path: str) -> None:  # type: ignore[type-arg]
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 401
    assert "/dangnhap" in await resp.text()
    client.session.cookie_jar.update_cookies({"motcua_staff": "forged-token"})
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 401


async def test_a_link_signs_in_once_and_the_cookie_is_safe(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    url = await link_for(city, STAFF)
    assert url.startswith("http://127.0.0.1:8080/staff/dangnhap?t=")
    token = url.split("t=", 1)[1]
    # Opening the link (or a chat app's preview of it) does not spend it.
    for _ in range(2):
        page = await client.get(path_of(url))
        assert page.status == 200 and "Đăng nhập" in await page.text()
        assert page.headers["Referrer-Policy"] == "no-referrer"
    done = await client.post("/staff/dangnhap", data={"t": token}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/staff/tongquan"
    cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    home = await client.get("/staff/tongquan")
    assert home.status == 200
    assert "Lê Văn Cán Bộ" in await home.text()
    # The same link a second time: refused, and no session for the second browser.
    async with TestClient(TestServer(make_web_app(city))) as other:
        again = await other.post("/staff/dangnhap", data={"t": token}, allow_redirects=False)
        assert again.status == 401
        assert "đã dùng hoặc đã hết hạn" in await again.text()
        assert (await other.get("/staff/tongquan")).status == 401


async def test_a_link_expires_after_ten_minutes(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    url = await link_for(city, STAFF)
    async with city.sessions() as s, s.begin():
        link = (await s.scalars(select(StaffLoginLink))).one()
        assert aware(link.expires_at) - aware(link.created_at) == timedelta(minutes=10)
        past = utcnow() - timedelta(minutes=11)
        await s.execute(
            update(StaffLoginLink).values(created_at=past, expires_at=past + timedelta(minutes=10))
        )
    token = url.split("t=", 1)[1]
    resp = await client.post("/staff/dangnhap", data={"t": token}, allow_redirects=False)
    assert resp.status == 401


async def test_citizens_get_no_link_and_groups_get_no_link(city: App) -> None:
    citizen = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=CITIZEN)
    await citizen.say("/dangnhap")
    assert "chưa hiểu lệnh này" in citizen.text and "/staff/" not in citizen.text
    from bot.messages import ChatRef, Incoming

    group = ChatRef(Channel.TELEGRAM, "-100123", STAFF)
    replies = await city.dispatcher.handle(Incoming(group, "g1", text="/dangnhap"))
    assert "cuộc trò chuyện riêng" in replies[0].text and "/staff/" not in replies[0].text


async def test_a_revoked_role_loses_its_link_and_its_session(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    url = await link_for(city, STAFF)
    await sign_in(client, city, STAFF)
    async with city.sessions() as s, s.begin():
        await roles.revoke(s, city.dispatcher.user_hash_of(Channel.TELEGRAM, STAFF))
    assert (await client.get("/staff/tongquan")).status == 401
    async with city.sessions() as s:
        assert (await s.scalars(select(StaffSession))).all() == []
    token = url.split("t=", 1)[1]
    resp = await client.post("/staff/dangnhap", data={"t": token}, allow_redirects=False)
    assert resp.status == 401
    assert await link_for(city, STAFF) == ""  # /dangnhap no longer exists for them


async def test_sessions_expire_after_a_day_without_use(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, STAFF)
    assert (await client.get("/staff/tongquan")).status == 200
    async with city.sessions() as s, s.begin():
        day_ago = utcnow() - timedelta(hours=24, minutes=1)
        await s.execute(update(StaffSession).values(last_seen_at=day_ago))
    assert (await client.get("/staff/tongquan")).status == 401


async def test_sessions_live_in_the_database_so_any_worker_serves_them(city: App) -> None:
    async with TestClient(TestServer(make_web_app(city))) as first:
        await sign_in(first, city, STAFF)
        cookie = next(c.value for c in first.session.cookie_jar if c.key == "motcua_staff")
    async with TestClient(TestServer(make_web_app(city))) as second:
        second.session.cookie_jar.update_cookies({"motcua_staff": cookie})
        assert (await second.get("/staff/tongquan")).status == 200


async def test_signing_out_ends_the_session(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, STAFF)
    csrf = await csrf_of(client)
    resp = await client.post("/staff/dangxuat", data={"csrf": csrf})
    assert resp.status == 200 and "Đã đăng xuất" in await resp.text()
    assert (await client.get("/staff/tongquan")).status == 401


async def test_a_form_without_its_csrf_token_is_refused(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, STAFF)
    for data in ({}, {"csrf": "wrong"}):
        resp = await client.post("/staff/dangxuat", data=data)
        assert resp.status == 403
    assert (await client.get("/staff/tongquan")).status == 200  # still signed in


async def test_the_cookie_is_secure_behind_https(database_url: str, tmp_path: object) -> None:
    from tests.conftest import make_settings

    app = App.build(
        make_settings(database_url, tmp_path, public_base_url="https://motcua.example.vn/")  # type: ignore[arg-type]
    )
    await app.start(migrate_db=False, watch=False)
    try:
        await build_console_city(app)
        url = await link_for(app, ADMIN)
        assert url.startswith("https://motcua.example.vn/staff/dangnhap?t=")
        async with TestClient(TestServer(make_web_app(app))) as c:
            done = await c.post(
                "/staff/dangnhap", data={"t": url.split("t=", 1)[1]}, allow_redirects=False
            )
            assert "Secure" in done.headers["Set-Cookie"]
    finally:
        await app.close()


# ------------------------------------------------------------------ roles and agencies


async def test_staff_see_their_subtree_and_nothing_else(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, STAFF)
    html = await (await client.get("/staff/tongquan")).text()
    assert "UBND phường Ninh Kiều" in html
    assert "Toàn thành phố" not in html  # the city is not offered to ward staff
    async with city.sessions() as s:
        from storage.repositories import dossiers as repo

        city_row = await repo.agency_by_code(s, "000.00.00.H13")
        other = await repo.agency_by_code(s, "000.00.13.H13")
        assert city_row is not None and other is not None
    for agency in (city_row.id, other.id):
        for path in ("/staff/tongquan", "/staff/tongquan/hoso", "/staff/tongquan/baocao.xlsx"):
            resp = await client.get(f"{path}?coquan={agency}&thutuc=1")
            assert resp.status == 403, path


async def test_staff_are_refused_admin_pages(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, OTHER_STAFF)
    for path in ("/staff/kho", "/staff/chuatraloi", "/staff/nhatky", "/staff/nguoidung"):
        resp = await client.get(path)
        assert resp.status in (403, 404), path
        if resp.status == 404:
            pytest.fail(f"{path} is not built")


# ------------------------------------------------------------------ dashboard


def _card(html: str, ident: str) -> str:
    found = re.search(rf'id="{ident}">([^<]*)<', html)
    assert found, ident
    return found.group(1)


async def test_the_dashboard_shows_the_figures_of_thongke(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, ADMIN)
    resp = await client.get("/staff/tongquan?ky=thang")
    html = await resp.text()
    assert resp.status == 200
    async with city.sessions() as s:
        stats = await indexes.compute(
            s,
            period=parse_period("tháng", TODAY),
            calendar=city.dispatcher.services.calendar,
            concurrent=False,
        )
    assert _card(html, "so-tiep-nhan") == "2" == str(stats.dossiers.received)
    assert _card(html, "so-dang-qua-han") == "1" == str(stats.dossiers.timeliness.dang_qua_han)
    assert _card(html, "ty-le-dung-han") == percent(stats.dossiers.timeliness.rate_pct)
    assert "<svg" in html
    assert not re.search(r'(src|href|url)[=(]"?https?://', html)  # nothing loaded from elsewhere
    assert "ước tính nội bộ" in html
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_filters_live_in_the_url_and_bad_ones_are_explained(
    client: TestClient, city: App
) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, ADMIN)
    resp = await client.get("/staff/tongquan?ky=khoang&tu=2026-01-01&den=2026-01-10")
    html = await resp.text()
    assert resp.status == 200 and "từ 01/01/2026 đến 10/01/2026" in html
    resp = await client.get("/staff/tongquan?ky=khoang&tu=2026-01-10&den=2026-01-01")
    assert resp.status == 400 and "Ngày kết thúc phải sau ngày bắt đầu" in await resp.text()
    resp = await client.get("/staff/tongquan?ky=khoang&tu=hôm-qua")
    assert resp.status == 400 and "Ngày không hợp lệ" in await resp.text()


async def test_drill_down_lists_late_dossiers_with_masked_owners(
    client: TestClient, city: App
) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, STAFF)
    html = await (await client.get("/staff/tongquan?ky=thang")).text()
    link = re.search(r'href="(/staff/tongquan/hoso\?[^"]+)"', html)
    assert link, "no drill-down link"
    page = await client.get(link.group(1).replace("&amp;", "&"))
    text = await page.text()
    assert page.status == 200
    assert LATE_CODE in text and "Trần T. B." in text and "Trần Thị Bích" not in text
    assert "000.00.12.H13-260115-0042" not in text  # within its limit: not listed


async def test_the_export_is_the_report_of_the_view(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    await sign_in(client, city, STAFF)
    html = await (await client.get("/staff/tongquan?ky=thang")).text()
    resp = await client.get("/staff/tongquan/baocao.xlsx?ky=thang")
    assert resp.status == 200
    wb = load_workbook(io.BytesIO(await resp.read()))
    summary = wb["Tổng hợp"]
    assert "UBND phường Ninh Kiều" in summary["A1"].value
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row[0]}
    assert str(values["Hồ sơ tiếp nhận trong kỳ"]) == _card(html, "so-tiep-nhan")
    assert str(values["Hồ sơ giải quyết xong trong kỳ"]) == _card(html, "so-giai-quyet")
    async with city.sessions() as s:
        rows = (await s.scalars(select(AuditLog).where(AuditLog.action == "stats.report"))).all()
    assert len(rows) == 1 and rows[0].details["via"] == "web"


# ------------------------------------------------------------------ chat help and the CLI


async def test_help_shows_staff_and_admins_their_own_commands(city: App) -> None:
    citizen = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=CITIZEN)
    await citizen.say("/help")
    assert "/tracuu" in citizen.text and "/thongke" not in citizen.text
    staff = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=STAFF)
    await staff.say("/help")
    assert "/thongke" in staff.text and "/dangnhap" in staff.text and "/faq" not in staff.text
    admin = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id=ADMIN)
    await admin.say("/help")
    assert "/dangnhap" in admin.text and "/faq" in admin.text and "/chuatraloi" in admin.text


def test_motcua_staff_link_prints_a_link_only_for_a_role(tmp_path: Path) -> None:
    from tests.test_cli import motcua

    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "PUBLIC_BASE_URL": "https://motcua.example.vn",
    }
    refused = motcua("staff", "link", "telegram:42", cwd=tmp_path, env=env)
    assert refused.returncode == 1 and refused.stdout == ""
    granted = motcua("users", "grant", "telegram:42", "admin", "--name", "Trần Văn Mốt",
                     cwd=tmp_path, env=env)  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    out = motcua("staff", "link", "telegram:42", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"https://motcua\.example\.vn/staff/dangnhap\?t=[\w-]+\n", out.stdout)
    ended = motcua("staff", "logout", "telegram:42", cwd=tmp_path, env=env)
    assert ended.returncode == 0 and "0 session(s)" in ended.stdout


async def test_the_channel_filters_ratings_and_questions(client: TestClient, city: App) -> None:  # type: ignore[type-arg]
    web = Conversation(city.dispatcher, channel=Channel.WEB, chat_id="dan-web")
    telegram = Conversation(city.dispatcher, channel=Channel.TELEGRAM, chat_id="777")
    await web.say("làm giấy khai sinh cần gì")
    for _ in range(2):
        await telegram.say("đăng ký tạm trú ở đâu")
    # The city's "today" is fixed in January 2026: date the questions then.
    from storage.models import MessageLog

    async with city.sessions() as s, s.begin():
        await s.execute(update(MessageLog).values(created_at=datetime(2026, 1, 16, 3, tzinfo=UTC)))
    await sign_in(client, city, ADMIN)
    q = "ky=thang"
    everything = await (await client.get(f"/staff/tongquan?{q}")).text()
    only_web = await (await client.get(f"/staff/tongquan?{q}&kenh=web")).text()
    assert _card(everything, "so-cau-hoi") == "3"
    assert _card(only_web, "so-cau-hoi") == "1"
    assert "kênh Trang web" in only_web
    bad = await client.get(f"/staff/tongquan?{q}&kenh=fax")
    assert bad.status == 400 and "Kênh không hợp lệ" in await bad.text()


async def test_figures_are_reused_for_a_while_and_say_when_they_were_computed() -> None:
    from bot.staff.cache import TtlCache

    made = []

    async def make() -> int:
        made.append(1)
        return len(made)

    cache: TtlCache[int] = TtlCache(ttl=60)
    first, at = await cache.get("k", make)
    again, at_again = await cache.get("k", make)
    assert (first, again, at_again) == (1, 1, at) and len(made) == 1
    other, _ = await cache.get("other", make)
    assert other == 2
    never: TtlCache[int] = TtlCache(ttl=0)
    assert (await never.get("k", make))[0] == 3
    assert (await never.get("k", make))[0] == 4


async def test_a_chart_is_drawn_once_for_the_same_numbers(city: App) -> None:
    from bot.staff import charts

    async with city.sessions() as s:
        stats = await indexes.compute(
            s, period=parse_period("tháng", TODAY), calendar=city.dispatcher.services.calendar
        )
    first = charts.all_charts(stats)
    assert [c.svg for c in charts.all_charts(stats)] == [c.svg for c in first]
    assert all(a is b for a, b in zip(charts.all_charts(stats), first, strict=True))
    assert all("<svg" in c.svg and c.summary for c in first)


def test_chart_labels_are_escaped() -> None:
    from bot.staff import charts

    fig = charts._hbars(["<script>alert(1)</script> & co"], [50.0], [""], "#000", 1.5)
    svg = charts._svg(fig)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
