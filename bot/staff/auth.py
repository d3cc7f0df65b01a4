"""Signing in to the console, sessions, roles and cross-site request protection.

- **Sign-in** by a one-time link (``storage.repositories.staff_auth``): opening the link shows a
  button, and only the POST of that button spends it, so a chat app's link preview (which
  fetches the URL) cannot use up the link or open a session by itself.
- **The session** is a random token in an HttpOnly, SameSite=Lax cookie limited to ``/staff/``,
  Secure when the public address is https://; the database holds its hash, so every worker
  knows it, and it ends after ``STAFF_SESSION_IDLE_HOURS`` without use.
- **Every request** reads the role afresh: a revoked role loses its sessions at the next
  request, a staff member never reaches an admin page, and pages check the agency subtree.
- **Every form** carries the session's CSRF token; a POST without it is refused with 403.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import BodyPartReader, web
from multidict import MultiDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.staff.app_key import STAFF_APP
from storage.models import Agency
from storage.repositories import audit, roles, staff_auth

log = logging.getLogger(__name__)

JINJA_KEY: web.AppKey[jinja2.Environment] = web.AppKey("motcua_staff_jinja", jinja2.Environment)
COOKIE = "motcua_staff"
COOKIE_PATH = "/staff"
MAX_UPLOAD = 5 * 1024 * 1024
#: Headers of every console page: nothing from elsewhere, no framing, no referrer (a sign-in
#: link must not leak through one), nothing cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
ROLE_LABELS = {roles.ADMIN: "Quản trị viên", roles.STAFF: "Cán bộ"}


@dataclass
class StaffUser:
    """The signed-in person, as read for this request."""

    user_hash: str
    role: str
    agency: Agency | None
    csrf: str
    name: str
    form: MultiDict[str] = field(default_factory=MultiDict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.role == roles.ADMIN

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def sees(self, agency: Agency | None) -> bool:
        """Admins see the city; staff their agency's subtree (``None``, the city: admins)."""
        if self.is_admin:
            return True
        if agency is None or self.agency is None:
            return False
        return agency.path.startswith(self.agency.path)


Page = Callable[[web.Request, AsyncSession, StaffUser], Awaitable[web.StreamResponse]]


def idle_limit(request: web.Request) -> timedelta:
    return timedelta(hours=request.app[STAFF_APP].settings.staff_session_idle_hours)


def secure_cookie(request: web.Request) -> bool:
    return request.app[STAFF_APP].settings.staff_base_url.startswith("https://")


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    user: StaffUser | None = None,
    status: int = 200,
) -> web.Response:
    """A page of the console with the security headers."""
    values = {"user": user, "csrf": user.csrf if user else "", "path": request.path, **context}
    response = aiohttp_jinja2.render_template(
        template, request, values, status=status, app_key=JINJA_KEY
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def secured(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(SECURITY_HEADERS)
    return response


def _problem(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "message.html", {"title": title, "message": message}, status=status)


def unauthorized(request: web.Request, message: str = "") -> web.Response:
    return render(
        request, "signin_help.html", {"message": message, "title": "Đăng nhập"}, status=401
    )


def forbidden(request: web.Request, message: str = "") -> web.Response:
    return _problem(
        request,
        403,
        "Không có quyền truy cập",
        message or "Tài khoản của bạn không có quyền xem trang này.",
    )


async def _read_form(request: web.Request) -> tuple[MultiDict[str], dict[str, tuple[str, bytes]]]:
    """The fields of a POST, files included (multipart read as a stream, up to ``MAX_UPLOAD``
    per file: the server's body limit is smaller than a knowledge file may be)."""
    if not request.content_type.startswith("multipart/"):
        return MultiDict(await request.post()), {}  # type: ignore[arg-type]
    fields: MultiDict[str] = MultiDict()
    files: dict[str, tuple[str, bytes]] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        filename = part.filename
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(65536):
            size += len(chunk)
            if size > MAX_UPLOAD + 1:
                raise web.HTTPRequestEntityTooLarge(MAX_UPLOAD, size)
            chunks.append(chunk)
        data = b"".join(chunks)
        if filename is not None:
            files[name] = (filename, data)
        else:
            fields.add(name, data.decode("utf-8", "replace"))
    return fields, files


def page(*allowed: str) -> Callable[[Page], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A console page for the given roles: session, fresh role, CSRF on POST, one transaction."""

    def wrap(view: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            app = request.app[STAFF_APP]
            token = request.cookies.get(COOKIE, "")
            if not token:
                return unauthorized(request)
            async with app.sessions() as session, session.begin():
                row = await staff_auth.find_session(session, token, idle_limit(request))
                if row is None:
                    return unauthorized(request, "Phiên làm việc đã hết hạn hoặc đã đăng xuất.")
                actor = await roles.actor_of(session, row.user_hash)
                if not actor.is_staff:
                    await staff_auth.end_sessions_of(session, row.user_hash)
                    return unauthorized(request, "Tài khoản không còn quyền cán bộ.")
                if actor.role not in allowed:
                    return forbidden(request)
                agency = (
                    await session.get(Agency, actor.agency_id)
                    if actor.agency_id is not None
                    else None
                )
                names = await roles.display_names(session, [row.user_hash])
                user = StaffUser(
                    row.user_hash,
                    actor.role,
                    agency,
                    row.csrf,
                    names.get(row.user_hash, "") or ROLE_LABELS.get(actor.role, ""),
                )
                if request.method == "POST":
                    user.form, user.files = await _read_form(request)
                    given = user.form.get("csrf", "")
                    if not hmac.compare_digest(given.encode(), row.csrf.encode()):
                        return _problem(
                            request,
                            403,
                            "Yêu cầu không hợp lệ",
                            "Biểu mẫu đã cũ hoặc không gửi từ trang quản trị. "
                            "Bạn vui lòng tải lại trang rồi thử lại.",
                        )
                try:
                    response = await view(request, session, user)
                except web.HTTPRedirection as done:
                    # A redirect after a change: commit, unlike the errors (which roll back).
                    response = web.Response(status=done.status, headers=done.headers)
                return secured(response)

        return handler

    return wrap


STAFF_PAGE = (roles.STAFF, roles.ADMIN)
ADMIN_PAGE = (roles.ADMIN,)


# ------------------------------------------------------------------ sign in and out


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/staff/tongquan")


async def login_page(request: web.Request) -> web.StreamResponse:
    """The page a link opens: a button that signs in (GET never spends the link)."""
    token = request.query.get("t", "")
    if not token:
        return unauthorized(request)
    return render(request, "signin.html", {"token": token, "title": "Đăng nhập"})


async def login(request: web.Request) -> web.StreamResponse:
    """Spend the link, check the role now, open a session and set its cookie."""
    app = request.app[STAFF_APP]
    form = await request.post()
    token = str(form.get("t", ""))
    async with app.sessions() as session, session.begin():
        user_hash = await staff_auth.redeem_link(session, token) if token else None
        actor = await roles.actor_of(session, user_hash) if user_hash else None
        if user_hash is None or actor is None or not actor.is_staff:
            return unauthorized(
                request,
                "Đường dẫn đăng nhập không đúng, đã dùng hoặc đã hết hạn (10 phút). "
                "Bạn hãy nhắn /dangnhap để nhận đường dẫn mới.",
            )
        await staff_auth.purge(session, idle_limit(request))
        cookie, _ = await staff_auth.create_session(session, user_hash)
        await audit.record(session, user_hash, actor.role, "staff.login", "web")
    response = web.HTTPSeeOther("/staff/tongquan")
    response.set_cookie(
        COOKIE,
        cookie,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=secure_cookie(request),
    )
    response.headers.update(SECURITY_HEADERS)
    raise response


@page(*STAFF_PAGE)
async def _logout(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    await staff_auth.end_session(session, request.cookies.get(COOKIE, ""))
    await audit.record(session, user.user_hash, user.role, "staff.logout", "web")
    response = render(
        request,
        "message.html",
        {"title": "Đã đăng xuất", "message": "Bạn đã đăng xuất khỏi trang quản trị."},
    )
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    return await _logout(request)
