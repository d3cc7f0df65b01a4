"""The web chat's history endpoint and the no-JavaScript form, over real HTTP on loopback."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from bot.app import App
from bot.channels import web_history
from bot.channels.web_form import COOKIE
from bot.channels.web_links import pieces, to_html
from bot.server import make_web_app
from storage.models import WebSession, utcnow
from storage.models.web import WebHistoryItem
from storage.repositories import retention


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(app))) as c:
        yield c


async def chat(client: TestClient, **body: object) -> dict:  # type: ignore[type-arg]
    resp = await client.post("/api/chat", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


async def history(client: TestClient, token: str | None) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {} if token is None else {"X-Session-Token": token}
    resp = await client.get("/api/chat/history", headers=headers)
    return resp.status, await resp.json()


async def test_a_session_gets_back_its_own_conversation(client: TestClient) -> None:
    first = await chat(client, text="/start")
    token = first["session"]
    answer = await chat(client, session=token, text="ho so tctn gom nhung gi")
    helpful = answer["replies"][-1]["choices"][0]
    await chat(client, session=token, choice=helpful["value"])

    status, body = await history(client, token)
    assert status == 200
    items = body["items"]
    # the page's own /start is not shown as a message of the citizen
    assert [i["role"] for i in items][:2] == ["bot", "bot"]
    assert "Xin chào" in items[0]["text"]
    users = [i["text"] for i in items if i["role"] == "user"]
    assert users == ["ho so tctn gom nhung gi", helpful["label"]]  # a tap shows its label
    assert any("Mẫu số 10" in i["text"] for i in items)
    assert any(i["text"] == "Cảm ơn bạn đã phản hồi!" for i in items[-2:])
    # buttons come back with their values, so the last ones can still be tapped
    menu = items[1]["choices"]
    assert menu and {"label", "value"} <= set(menu[0])


async def test_another_session_sees_only_its_own(client: TestClient) -> None:
    a = (await chat(client, text="le phi tam tru"))["session"]
    b = (await chat(client, text="/start"))["session"]
    _, body_b = await history(client, b)
    assert all("tam tru" not in i["text"] for i in body_b["items"])
    _, body_a = await history(client, a)
    assert [i["text"] for i in body_a["items"] if i["role"] == "user"] == ["le phi tam tru"]


@pytest.mark.parametrize("token", [None, "", "short", "made-up-session-token-0123456789"])
async def test_an_unknown_session_sees_nothing(client: TestClient, token: str | None) -> None:
    await chat(client, text="le phi tam tru")  # someone else's conversation exists
    status, body = await history(client, token)
    assert status == 401
    assert "items" not in body
    assert "hết hạn" in body["error"]


async def test_the_token_in_the_query_string_is_not_accepted(client: TestClient) -> None:
    token = (await chat(client, text="/start"))["session"]
    resp = await client.get("/api/chat/history", params={"session": token})
    assert resp.status == 401


async def test_an_expired_session_sees_nothing_and_is_purged_with_its_history(
    client: TestClient, app: App
) -> None:
    token = (await chat(client, text="le phi tam tru"))["session"]
    assert (await history(client, token))[0] == 200
    digest = web_history.token_hash(token)
    async with app.sessions() as s, s.begin():
        await s.execute(
            update(WebSession)
            .where(WebSession.token_hash == digest)
            .values(last_seen_at=utcnow() - timedelta(days=31))
        )
    status, body = await history(client, token)
    assert status == 401
    assert "items" not in body
    async with app.sessions() as s, s.begin():
        deleted = await retention.purge(s, retention.Retention())
        assert deleted["web_sessions"] == 1
        left = await s.scalar(select(func.count()).select_from(WebHistoryItem))
    assert left == 0  # the history went with its session


async def test_phone_and_id_numbers_typed_are_masked_in_the_history(client: TestClient) -> None:
    token = (await chat(client, text="số cccd của tôi là 092201001234, sđt 0901234567"))["session"]
    _, body = await history(client, token)
    typed = next(i["text"] for i in body["items"] if i["role"] == "user")
    assert "092201001234" not in typed
    assert "0901234567" not in typed
    assert "[số đã ẩn]" in typed


async def test_the_history_is_limited(
    client: TestClient, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_history, "KEEP_ITEMS", 12)
    monkeypatch.setattr(web_history, "SHOW_ITEMS", 8)
    token = (await chat(client, text="/start"))["session"]
    for n in range(web_history.KEEP_ITEMS // 2):
        await chat(client, session=token, text=f"/menu {n}")
    async with app.sessions() as s:
        kept = await s.scalar(
            select(func.count())
            .select_from(WebHistoryItem)
            .where(WebHistoryItem.session_hash == web_history.token_hash(token))
        )
    assert kept == web_history.KEEP_ITEMS
    _, body = await history(client, token)
    assert len(body["items"]) == web_history.SHOW_ITEMS
    assert body["items"][-1]["role"] == "bot"  # the newest, oldest first


# ------------------------------------------------------------------ the form without JavaScript


async def test_the_form_asks_answers_and_keeps_the_conversation(client: TestClient) -> None:
    page = await client.get("/chat/form")
    assert page.status == 200
    assert COOKIE in page.cookies
    html = await page.text()
    assert "Xin chào" in html  # a first visit greets, like the page with JavaScript
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in html

    resp = await client.post(
        "/chat/form", data={"text": "ho so tctn gom nhung gi"}, allow_redirects=False
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "form#moi"
    page = await client.get("/chat/form")
    html = await page.text()
    assert "Mẫu số 10" in html
    assert 'id="moi"' in html
    value = re.findall(r'name="choice" value="(hf:[^"]+)"', html)[0]
    await client.post("/chat/form", data={"choice": value})
    html = await (await client.get("/chat/form")).text()
    assert "Cảm ơn bạn đã phản hồi!" in html
    # the used feedback buttons are now disabled, not submit buttons
    assert f'value="{value}"' not in html


async def test_the_form_escapes_html_and_keeps_a_too_long_text(client: TestClient) -> None:
    await client.post("/chat/form", data={"text": "<script>alert(1)</script>"})
    html = await (await client.get("/chat/form")).text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    long = "á" * 2001
    resp = await client.post("/chat/form", data={"text": long})
    assert resp.status == 413
    html = await resp.text()
    assert "tối đa 2000 ký tự" in html
    assert long in html  # back in the box, not lost


async def test_the_form_refuses_a_post_from_another_site(client: TestClient) -> None:
    resp = await client.post(
        "/chat/form", data={"text": "xin chào"}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403


# ------------------------------------------------------------------ links from text


def test_only_http_and_tel_links_are_made_from_text() -> None:
    html = to_html(
        "Xem dichvucong.gov.vn, https://a.gov.vn/x?y=1. Gọi 1800 1096 hoặc 0292 3820 000. "
        'javascript:alert(1) <a href="x">y</a> mã 000.00.12.H13-260115-0042'
    )
    assert '<a href="https://dichvucong.gov.vn" target="_blank" rel="noopener noreferrer">' in html
    assert 'href="https://a.gov.vn/x?y=1"' in html  # the sentence's full stop is not in it
    assert '<a href="tel:18001096">1800 1096</a>' in html
    assert '<a href="tel:02923820000">0292 3820 000</a>' in html
    assert "javascript:alert(1)" in html
    assert 'href="javascript' not in html
    assert "&lt;a href=&quot;x&quot;&gt;y&lt;/a&gt;" in html
    assert [p.href for p in pieces("mã 000.00.12.H13-260115-0042") if p.href] == []
