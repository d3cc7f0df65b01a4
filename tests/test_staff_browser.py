"""The staff console in a real browser: Playwright driving Debian's chromium.

Sign in with a link, filter the dashboard, drill down, edit an entry and restore it, import a
file with a diff and confirm, triage an inbox group; screenshots at phone and desktop sizes go
to ``artifacts/screenshots/`` (see ``tests/browser.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestServer

from bot.app import App
from bot.messages import Channel
from bot.server import make_web_app
from storage import migrate
from storage.repositories import kb_admin
from tests.browser import DESKTOP, PHONE, chromium, screenshot_path
from tests.conftest import make_settings
from tests.staff_console import ADMIN, STAFF, build_console_city, link_for, path_of
from tests.transcript import Conversation

ENTRY = "tro-cap-that-nghiep/ho-so"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[App, str]]:
    """The console city on SQLite, served on a loopback port: (app, base URL)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}"
    await migrate.upgrade_async(url)
    app = App.build(make_settings(url, tmp_path))
    await app.start(migrate_db=False, watch=False)
    await build_console_city(app)
    server = TestServer(make_web_app(app), host="127.0.0.1")
    await server.start_server()
    try:
        yield app, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        await app.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _signed_in(browser: Any, app: App, base: str, user: str, viewport: dict[str, int]) -> Any:
    page = await browser.new_page(viewport=viewport, locale="vi-VN")
    link = await link_for(app, user)
    await page.goto(base + path_of(link))
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url("**/staff/tongquan")
    return page


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length)
                && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id)"""


async def _accessible(page: Any) -> None:
    """Every form control has a label; the first Tab reaches the skip link, which leads to
    the main content; the page declares Vietnamese."""
    assert await page.evaluate(UNLABELLED) == []
    assert await page.get_attribute("html", "lang") == "vi"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == (
        "Bỏ qua, tới nội dung chính"
    )


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_sign_in_filter_and_drill_down(
    served: tuple[App, str], browser: Any, size: str, viewport: dict[str, int]
) -> None:
    app, base = served
    page = await _signed_in(browser, app, base, STAFF, viewport)
    assert await page.get_by_role("heading", level=1).inner_text() == (
        "Tổng quan: UBND phường Ninh Kiều"
    )
    await page.screenshot(path=screenshot_path(f"console-dashboard-{size}"), full_page=True)
    await _accessible(page)
    # Filter: a range of dates, by keyboard-free form controls; the URL keeps the filters.
    await page.get_by_label("Kỳ").select_option("khoang")
    await page.get_by_label("Từ ngày").fill("2026-01-01")
    await page.get_by_label("Đến ngày").fill("2026-01-19")
    await page.get_by_role("button", name="Xem").click()
    await page.wait_for_url("**ky=khoang**")
    assert "tu=2026-01-01" in page.url and "den=2026-01-19" in page.url
    assert "từ 01/01/2026 đến 19/01/2026" in await page.content()
    assert await page.locator("#so-dang-qua-han").inner_text() == "1"
    # The chart is there, with its text alternative; no horizontal scrolling on the page.
    assert await page.locator("figure.chart svg").count() >= 2
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page scrolls sideways at {viewport['width']} px"
    # Drill down: the procedure, then its late dossiers with the owner masked.
    await page.get_by_role("link", name="Đăng ký khai sinh").click()
    await page.wait_for_url("**/tongquan/hoso**")
    body = await page.content()
    assert "000.00.12.H13-260102-0007" in body and "Trần T. B." in body
    await page.screenshot(path=screenshot_path(f"console-drill-{size}"), full_page=True)
    await page.close()


async def test_edit_an_entry_with_a_preview_and_restore_it(
    served: tuple[App, str], browser: Any
) -> None:
    app, base = served
    page = await _signed_in(browser, app, base, ADMIN, DESKTOP)
    await page.get_by_role("link", name="Kho câu hỏi").click()
    await page.get_by_label("Từ khóa").fill("hồ sơ trợ cấp thất nghiệp")
    await page.get_by_role("button", name="Tìm").click()
    await page.locator(f'a[href*="{ENTRY.replace("/", "%2F")}"]').first.click()
    async with app.sessions() as s:
        original = await kb_admin.get(s, ENTRY)
    assert original is not None
    await page.get_by_label("Trả lời", exact=True).fill("Bạn mang theo CCCD và sổ BHXH.")
    await page.get_by_role("button", name="Xem trước trên điện thoại").click()
    assert (
        await page.locator(".phone .bubble").first.inner_text() == "Bạn mang theo CCCD và sổ BHXH."
    )
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=screenshot_path("console-entry-preview-phone"), full_page=True)
    await page.set_viewport_size(DESKTOP)
    await page.get_by_role("button", name="Lưu").click()
    await page.get_by_text("Đã lưu.").wait_for()
    await _accessible(page)
    async with app.sessions() as s:
        assert (await kb_admin.get(s, ENTRY)).answer == "Bạn mang theo CCCD và sổ BHXH."  # type: ignore[union-attr]
    await page.screenshot(path=screenshot_path("console-entry-history-desktop"), full_page=True)
    # Restore: edit once more, then bring back the first edit's version.
    await page.get_by_label("Trả lời", exact=True).fill("Phiên bản thứ hai.")
    await page.get_by_role("button", name="Lưu").click()
    await page.get_by_text("Đã lưu.").wait_for()
    await page.get_by_role("button", name="Khôi phục phiên bản").last.click()
    await page.get_by_text("Đã khôi phục phiên bản đã chọn.").wait_for()
    async with app.sessions() as s:
        assert (await kb_admin.get(s, ENTRY)).answer == "Bạn mang theo CCCD và sổ BHXH."  # type: ignore[union-attr]
    assert "Nguyễn Quản Trị" in await page.content()
    await page.close()


async def test_import_a_file_with_a_diff_then_confirm(
    served: tuple[App, str], browser: Any, tmp_path: Path
) -> None:
    app, base = served
    async with app.sessions() as s:
        entry = await kb_admin.get(s, ENTRY)
    assert entry is not None
    data = kb_admin.snapshot(entry)
    assert data is not None
    data["answer"] = "Trả lời mới từ tệp nhập."
    data["enabled"] = True
    new = {"id": "thu-nghiem/moi", "category": "Thử nghiệm", "question": "Câu hỏi mới từ tệp?",
           "answer": "Trả lời mới."}  # fmt: skip
    path = tmp_path / "kho.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "entries": [data, new]}, allow_unicode=True), "utf-8"
    )
    page = await _signed_in(browser, app, base, ADMIN, PHONE)
    await page.goto(base + "/staff/kho/nhap")
    await page.get_by_label("Tệp YAML, CSV hoặc XLSX").set_input_files(str(path))
    await page.get_by_role("button", name="Kiểm tra tệp").click()
    await page.get_by_role("heading", name="Thêm mới (1)").wait_for()
    inserted = await page.locator("ins").all_inner_texts()
    assert any("Trả lời mới từ tệp nhập." in text for text in inserted)
    await page.screenshot(path=screenshot_path("console-import-diff-phone"), full_page=True)
    await page.get_by_role("button", name="Xác nhận nhập").click()
    await page.get_by_role("heading", name="Đã nhập tệp").wait_for()
    async with app.sessions() as s:
        assert (await kb_admin.get(s, ENTRY)).answer == "Trả lời mới từ tệp nhập."  # type: ignore[union-attr]
        assert await kb_admin.get(s, "thu-nghiem/moi") is not None
    await page.close()


async def test_triage_an_inbox_group(served: tuple[App, str], browser: Any) -> None:
    app, base = served
    citizen = Conversation(app.dispatcher, channel=Channel.WEB, chat_id="dan-2")
    for _ in range(2):
        await citizen.say("nuôi chim yến trong nhà có cần xin phép phường không")
    page = await _signed_in(browser, app, base, ADMIN, DESKTOP)
    await page.get_by_role("link", name="Chưa trả lời").click()
    await page.get_by_role("heading", name="nuôi chim yến").wait_for()
    await page.screenshot(path=screenshot_path("console-inbox-desktop"), full_page=True)
    await _accessible(page)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=screenshot_path("console-inbox-phone"), full_page=True)
    await page.get_by_role("link", name="Tạo mục mới từ câu này").click()
    assert "nuôi chim yến" in await page.get_by_label("Câu hỏi").input_value()
    await page.get_by_label("Lĩnh vực").fill("Nông nghiệp")
    await page.get_by_label("Trả lời").fill("Bạn liên hệ UBND phường để được hướng dẫn.")
    await page.get_by_role("button", name="Tạo mục").click()
    await page.get_by_text("Đã tạo mục mới.").wait_for()
    await page.goto(base + "/staff/chuatraloi")
    assert "nuôi chim yến" not in await page.content()
    await page.close()


async def test_the_demo_city_dashboard_reads_at_phone_and_desktop_sizes(
    tmp_path: Path, browser: Any
) -> None:
    """A year of the illustrative city: charts with data, tables beside them, no sideways
    scrolling at 360 px; screenshots for a person to look at."""
    from bot import demo
    from storage.repositories import roles

    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await migrate.upgrade_async(url)
    app = App.build(make_settings(url, tmp_path))
    await app.start(migrate_db=False, watch=False)
    server = TestServer(make_web_app(app), host="127.0.0.1")
    try:
        services = app.dispatcher.services
        async with app.sessions() as s, s.begin():
            await demo.generate(
                s, secret=services.secret, calendar=services.calendar, today=services.today(),
                count=600,
            )  # fmt: skip
            await roles.grant(
                s, user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, ADMIN),
                channel="telegram", user_id=ADMIN, role="admin", agency=None,
                display_name="Nguyễn Quản Trị",
            )  # fmt: skip
        await server.start_server()
        base = str(server.make_url("")).rstrip("/")
        for size, viewport in (("phone", {"width": 360, "height": 780}), ("desktop", DESKTOP)):
            page = await _signed_in(browser, app, base, ADMIN, viewport)
            await page.goto(base + "/staff/tongquan?ky=nam")
            assert await page.locator("figure.chart svg").count() == 3
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"]
            await page.screenshot(path=screenshot_path(f"console-demo-{size}"), full_page=True)
            await page.close()
    finally:
        await server.close()
        await app.close()
