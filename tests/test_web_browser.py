"""The web chat in a real browser: Debian's Chromium driven by Playwright, at phone size.

A real server on a free loopback port (aiohttp's ``TestServer``) serves the page over HTTP with
a small knowledge base written for these tests: an answer with links, a long answer, and an
answer whose text is HTML. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import App
from bot.server import make_web_app
from storage import migrate
from tests.browser import DESKTOP, PHONE, chromium, screenshot_path
from tests.conftest import make_settings

pytest.importorskip("playwright")

SOURCE_URL = "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html"
LONG_LINES = [f"Bước {i}: nội dung hướng dẫn số {i} của thủ tục dài." for i in range(1, 61)]
HTML_ANSWER = '<img src=x onerror="window.pwned=1"><b>đậm</b> <a href="javascript:alert(1)">bấm</a>'

KB = f"""version: 1
entries:
  - id: thu-nghiem/lien-ket
    category: Thử nghiệm
    question: Nộp hồ sơ trực tuyến ở đâu?
    keywords: [nộp trực tuyến, cổng dịch vụ công]
    answer: |
      Bạn nộp trên dichvucong.gov.vn hoặc gọi tổng đài 18001096 để được hướng dẫn.
      Nguồn: https://dichvucong.gov.vn/p/home/dvc-trang-chu.html.
    source_url: https://dichvucong.gov.vn/p/home/dvc-trang-chu.html

  - id: thu-nghiem/dai
    category: Thử nghiệm
    question: Quy trình cấp giấy phép xây dựng nhà ở riêng lẻ gồm những bước nào?
    keywords: [giấy phép xây dựng, quy trình]
    answer: |
{chr(10).join("      " + line for line in LONG_LINES)}

  - id: thu-nghiem/html
    category: Thử nghiệm
    question: Lệ phí cấp bản sao trích lục hộ tịch là bao nhiêu?
    keywords: [lệ phí, trích lục, bản sao]
    answer: |
      {HTML_ANSWER}
"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    """The whole web app on a free port; yields its base URL."""
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "test.yaml").write_text(KB, encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    await migrate.upgrade_async(url)
    app = App.build(make_settings(url, tmp_path, kb_dir=kb_dir))
    await app.start(migrate_db=False, watch=False)
    srv = TestServer(make_web_app(app), host="127.0.0.1")
    await srv.start_server()
    try:
        yield str(srv.make_url("/"))
    finally:
        await srv.close()
        await app.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def open_chat(browser: Any, base: str, **context: Any) -> Any:
    ctx = await browser.new_context(viewport=context.pop("viewport", PHONE), **context)
    page = await ctx.new_page()
    await page.goto(base)
    await page.locator(".msg.bot").first.wait_for()
    return page


async def ask(page: Any, text: str) -> None:
    await page.fill("#t", text)
    await page.press("#t", "Enter")


async def test_two_quick_messages_are_both_answered_in_order(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    # Slow the server's answers down so that the second message is typed while the first waits.
    await page.route("**/api/chat", lambda route: asyncio.ensure_future(_slow(route, 0.6)))
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    await ask(page, "lệ phí bản sao trích lục")
    mine = page.locator(".msg.me")
    assert await mine.count() == 2  # both shown at once, nothing silently dropped
    assert await page.locator(".meta").first.inner_text() in ("Đang gửi…", "Đang chờ gửi…")
    await page.locator(".msg.bot", has_text="đậm").first.wait_for(timeout=15000)
    texts = await page.locator("#log > .msg").all_inner_texts()
    q1 = texts.index("Bạn:\nNộp hồ sơ trực tuyến ở đâu?")
    q2 = texts.index("Bạn:\nlệ phí bản sao trích lục")
    a1 = next(i for i, t in enumerate(texts) if "18001096" in t)
    a2 = next(i for i, t in enumerate(texts) if "đậm" in t)
    assert q1 < a1 < q2 < a2  # each answer under its own question, in order
    assert await page.locator(".meta").count() == 0  # no message left pending
    # focus stays in the box after sending, ready for the next question
    assert await page.evaluate("document.activeElement.id") == "t"
    await page.screenshot(path=screenshot_path("web-two-messages-phone"))


async def _slow(route: Any, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await route.continue_()


async def test_an_offline_send_keeps_the_text_offers_a_retry_and_resumes(
    browser: Any, server: str
) -> None:
    page = await open_chat(browser, server)
    await page.context.set_offline(True)
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    failed = page.locator(".msg.me.failed")
    await failed.wait_for()
    assert "Nộp hồ sơ trực tuyến ở đâu?" in await failed.inner_text()
    assert await page.locator(".meta .retry").is_visible()
    assert "mất mạng" in await page.locator(".meta.bad").inner_text()
    assert await page.locator("#net").is_visible()
    await ask(page, "lệ phí bản sao trích lục")  # typed while offline: waits behind the first
    assert "Đang chờ gửi" in await page.locator(".meta").nth(1).inner_text()
    await page.screenshot(path=screenshot_path("web-offline-phone"))
    await page.context.set_offline(False)  # the network returns: the queue resumes by itself
    await page.locator(".msg.bot", has_text="đậm").wait_for(timeout=15000)
    assert await page.locator(".msg.me.failed").count() == 0
    assert await page.locator("#net").is_hidden()


async def test_a_failed_send_is_retried_with_one_tap(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    await page.route("**/api/chat", lambda route: route.abort())
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    retry = page.locator(".meta .retry")
    await retry.wait_for()
    assert "không kết nối được" in await page.locator(".meta.bad").inner_text()
    await page.unroute("**/api/chat")
    await retry.click()
    await page.locator(".msg.bot", has_text="18001096").wait_for()
    assert await page.locator(".msg.me").count() == 1  # the same bubble, not a copy


async def test_a_slow_server_times_out_with_a_clear_message(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    await page.route("**/api/chat", lambda route: None)  # never answered
    await page.clock.install()
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    await page.locator(".meta", has_text="Đang gửi").wait_for()
    await page.clock.run_for(21_000)
    await page.locator(".meta.bad", has_text="quá lâu").wait_for()
    assert await page.locator(".meta .retry").is_visible()


async def test_a_reload_restores_the_conversation_from_the_server(
    browser: Any, server: str
) -> None:
    page = await open_chat(browser, server)
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    await page.locator(".msg.bot", has_text="18001096").wait_for()
    before = await page.locator("#log > .msg").all_inner_texts()
    await page.reload()
    await page.locator(".msg.me").first.wait_for()
    await page.wait_for_function("!document.getElementById('log').hasAttribute('aria-busy')")
    after = await page.locator("#log > .msg").all_inner_texts()
    assert after == before  # same bubbles, and no second greeting
    # only the last turn's buttons can still be tapped
    enabled = await page.locator(".choices button:enabled").all_inner_texts()
    assert "👍 Có" in enabled
    assert "❓ Hỏi về thủ tục" not in enabled
    await page.screenshot(path=screenshot_path("web-reload-phone"))


async def test_links_and_the_hotline_are_safe_links(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    answer = page.locator(".msg.bot", has_text="18001096")
    await answer.wait_for()
    site = answer.get_by_role("link", name="dichvucong.gov.vn", exact=True)
    assert await site.get_attribute("href") == "https://dichvucong.gov.vn"
    assert await site.get_attribute("rel") == "noopener noreferrer"
    assert await site.get_attribute("target") == "_blank"
    source = answer.locator("a", has_text="dvc-trang-chu")  # the entry's official link
    assert await source.get_attribute("href") == SOURCE_URL  # without the sentence's full stop
    tel = answer.locator("a", has_text="18001096")
    assert await tel.get_attribute("href") == "tel:18001096"
    hrefs = await page.locator("#log a").evaluate_all("els => els.map(a => a.href)")
    assert hrefs
    assert all(re.match(r"^(https?:|tel:)", h) for h in hrefs), hrefs


async def test_an_html_payload_shows_as_text(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    payload = "<img src=x onerror=window.pwned=2><b>in đậm</b>"
    await ask(page, payload)
    await page.locator(".msg.me", has_text="<b>in đậm</b>").wait_for()
    await ask(page, "lệ phí bản sao trích lục")
    answer = page.locator(".msg.bot", has_text="đậm")
    await answer.wait_for()
    assert HTML_ANSWER in await answer.inner_text()
    assert await page.locator("#log img, #log b").count() == 0
    assert await page.locator("#log a[href^='javascript']").count() == 0
    assert await page.evaluate("window.pwned === undefined")


async def test_after_a_long_answer_the_view_shows_its_start(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    await ask(page, "Quy trình cấp giấy phép xây dựng nhà ở riêng lẻ gồm những bước nào?")
    answer = page.locator(".msg.bot", has_text="Bước 60")
    await answer.wait_for()
    question = page.locator(".msg.me").last
    log = page.locator("#log")
    view = await log.bounding_box()
    q_box = await question.bounding_box()
    a_box = await answer.bounding_box()
    assert view and q_box and a_box
    assert q_box["y"] >= view["y"] - 1  # the question is on screen...
    assert a_box["y"] < view["y"] + view["height"]  # ...and the answer's first lines below it
    assert a_box["y"] + a_box["height"] > view["y"] + view["height"]  # its end is further down
    jump = page.locator("#jump")
    assert await jump.is_visible()  # "jump to latest", since the end is not in view
    await page.screenshot(path=screenshot_path("web-long-answer-phone"))
    await jump.click()
    # Polled from here: the page's Content-Security-Policy forbids the eval that
    # wait_for_function would inject.
    at_end = "l => l.scrollHeight - l.scrollTop - l.clientHeight < 60"
    for _ in range(100):
        if await log.evaluate(at_end):
            break
        await asyncio.sleep(0.05)
    assert await log.evaluate(at_end)
    await page.locator("#jump").wait_for(state="hidden")


async def test_used_and_stale_buttons_are_disabled(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    menu = page.locator(".choices").first
    first_button = menu.locator("button").first
    await first_button.click()
    assert await first_button.is_disabled()  # used: at once, so it cannot be tapped twice
    assert await first_button.get_attribute("aria-pressed") == "true"
    await page.locator(".msg.bot").nth(2).wait_for()
    assert await menu.locator("button:enabled").count() == 0
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    await page.locator(".msg.bot", has_text="18001096").wait_for()
    older = await page.locator(".choices").count()
    assert await page.locator(".choices").nth(older - 1).locator("button:enabled").count() == 2
    await ask(page, "lệ phí bản sao trích lục")
    await page.locator(".msg.bot", has_text="đậm").wait_for()
    for n in range(older):  # every button of earlier answers has gone stale
        assert await page.locator(".choices").nth(n).locator("button:enabled").count() == 0
    assert await page.locator(".choices").last.locator("button:enabled").count() == 2


async def test_without_javascript_the_form_asks_and_shows_the_answer(
    browser: Any, server: str
) -> None:
    ctx = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await ctx.new_page()
    await page.goto(server)
    assert "tắt JavaScript" in await page.locator("noscript, .note").first.inner_text()
    await page.fill("textarea[name=text]", "Nộp hồ sơ trực tuyến ở đâu?")
    await page.click("form#f button[type=submit]")
    await page.wait_for_url("**/chat/form*")
    answer = page.locator(".msg.bot", has_text="18001096")
    await answer.wait_for()
    assert await answer.locator("a[href='tel:18001096']").count() == 1
    # a button of the answer works as a submit button
    await page.locator(".choices button", has_text="👍").click()
    await page.locator(".msg.bot", has_text="Cảm ơn bạn đã phản hồi").wait_for()
    await page.screenshot(path=screenshot_path("web-no-javascript-phone"), full_page=True)


async def test_desktop_screenshot(browser: Any, server: str) -> None:
    page = await open_chat(browser, server, viewport=DESKTOP)
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    await page.locator(".msg.bot", has_text="18001096").wait_for()
    await page.screenshot(path=screenshot_path("web-desktop"))


CONTRAST_JS = """
(selectors) => {
  function rgb(s) {
    const m = s.match(/[\\d.]+/g).map(Number);
    return m.length > 3 ? m : m.concat([1]);
  }
  function lum(c) {
    const f = v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  }
  const out = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (!el) { out[sel] = null; continue; }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    out[sel] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}
"""


async def test_accessibility_contrast_live_region_and_alt_text(browser: Any, server: str) -> None:
    page = await open_chat(browser, server)
    log = page.locator("#log")
    assert await log.get_attribute("aria-live") == "polite"
    assert await log.get_attribute("role") == "log"
    await ask(page, "Nộp hồ sơ trực tuyến ở đâu?")
    await page.locator(".msg.bot", has_text="18001096").wait_for()
    await page.locator(".choices button:disabled").first.wait_for()  # the menu, gone stale
    await page.context.set_offline(True)
    await ask(page, "lệ phí bản sao trích lục")
    await page.locator(".meta.bad").wait_for()
    selectors = [
        "header h1",
        "header p",
        ".msg.bot",
        ".msg.me",
        ".msg.bot a",
        ".choices button:enabled",
        ".choices button:disabled",
        ".meta.bad",
        ".retry",
        "#net",
        "form button",
        "textarea",
    ]
    ratios = await page.evaluate(CONTRAST_JS, selectors)
    low = {k: v for k, v in ratios.items() if v is None or v < 4.5}
    assert not low, low  # WCAG 2.1 AA for normal text
    await page.context.set_offline(False)
    await page.locator(".msg.bot", has_text="đậm").wait_for()


async def test_a_chart_gets_its_description_as_alternative_text(browser: Any, server: str) -> None:
    """The page shows what the server sends for a staff chart (here served by a stand-in)."""
    page = await open_chat(browser, server)
    alt = "Biểu đồ thống kê tháng 11/2026 – UBND phường Ninh Kiều: đúng hạn 95,0%."
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwA"
        "ChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    body = {
        "session": "x" * 43,
        "replies": [
            {
                "text": "Biểu đồ",
                "choices": [],
                "image": {"name": "thong-ke.png", "url": png, "alt": alt},
            },
            {
                "text": "Ảnh lạ",
                "choices": [],
                "image": {"name": "x.png", "url": "javascript:alert(1)"},
            },
        ],
    }
    await page.route("**/api/chat", lambda route: route.fulfill(json=body))
    await ask(page, "/thongke")
    image = page.locator(".msg.bot img")
    await image.first.wait_for()
    assert await image.count() == 1  # the javascript: "picture" is not loaded, only named
    assert await image.get_attribute("alt") == alt
    assert await page.locator(".msg.bot", has_text="Ảnh lạ").locator("img").count() == 0
