"""A city with staff and admins for the console's HTTP and browser tests, and signing in."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from bot.app import App
from bot.messages import Channel
from handlers.context import Services
from storage.repositories import dossiers as repo
from storage.repositories import roles
from tests.dossier_fixtures import TODAY, build_city, ingest
from tests.transcript import Conversation

STAFF, OTHER_STAFF, ADMIN, CITIZEN = "800001", "800003", "800002", "800009"
LATE_CODE = "000.00.12.H13-260102-0007"
LINK = re.compile(r"https?://\S+/staff/dangnhap\?t=\S+")


async def build_console_city(app: App) -> App:
    """The dossier fixtures' city, a late dossier, a staff member per ward and an admin."""
    await build_city(app)
    await ingest(
        app,
        {
            "dossiers": [
                {
                    "code": LATE_CODE,
                    "procedure_code": "1.001193",
                    "receiving_agency": "000.00.12.H13",
                    "owner_name": "Trần Thị Bích",
                    "received_date": "2026-01-02",
                    "due_date": "2026-01-09",
                    "status": 4,
                }
            ]
        },
    )
    old = app.dispatcher.services
    app.dispatcher.services = Services(
        old.secret, old.calendar, lambda: TODAY, staff_base_url=old.staff_base_url
    )
    async with app.sessions() as s, s.begin():
        ward = await repo.agency_by_code(s, "000.00.12.H13")
        other = await repo.agency_by_code(s, "000.00.13.H13")
        for user, role, agency, name in (
            (STAFF, "staff", ward, "Lê Văn Cán Bộ"),
            (OTHER_STAFF, "staff", other, "Phạm Thị Khác"),
            (ADMIN, "admin", None, "Nguyễn Quản Trị"),
        ):
            await roles.grant(
                s,
                user_hash=app.dispatcher.user_hash_of(Channel.TELEGRAM, user),
                channel="telegram",
                user_id=user,
                role=role,
                agency=agency,
                display_name=name,
            )
    return app


async def link_for(app: App, user: str) -> str:
    """The sign-in link /dangnhap gives ``user`` in a private Telegram chat ("" if none)."""
    chat = Conversation(app.dispatcher, channel=Channel.TELEGRAM, chat_id=user)
    await chat.say("/dangnhap")
    found = LINK.search(chat.text)
    return found.group(0) if found else ""


def path_of(url: str) -> str:
    """The path and query of a link, for a test client on another port."""
    return url[url.index("/staff/") :]


async def sign_in(client: TestClient, app: App, user: str) -> None:  # type: ignore[type-arg]
    """Sign ``client`` in as ``user`` through the link, as a browser would."""
    url = await link_for(app, user)
    assert url, "no sign-in link"
    token = url.split("t=", 1)[1]
    page = await client.get(path_of(url))
    assert page.status == 200
    done = await client.post("/staff/dangnhap", data={"t": token}, allow_redirects=False)
    assert done.status == 303, await done.text()


async def csrf_of(client: TestClient, path: str = "/staff/tongquan") -> str:  # type: ignore[type-arg]
    html = await (await client.get(path)).text()
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)
