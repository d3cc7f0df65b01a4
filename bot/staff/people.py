"""Admin pages about people and their questions: the unanswered inbox, the audit log, users.

The inbox is ``storage.repositories.inbox`` (the groups /chuatraloi shows), acted on with the
same knowledge changes and audit rows as the chat; roles are ``storage.repositories.roles``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.vietnam_time import VN_TZ
from bot.messages import Channel
from bot.staff import changes
from bot.staff.app_key import STAFF_APP
from bot.staff.auth import ADMIN_PAGE, StaffUser, idle_limit, page, render
from storage.repositories import audit, inbox, roles, staff_auth, staff_views
from storage.repositories import dossiers as dossier_repo
from storage.repositories import kb_admin as repo
from storage.repositories import stats as stats_repo

GROUPS_PER_PAGE = 10
MAX_VARIANTS = 5
CHANNELS = tuple(c.value for c in Channel if c.value != "console")


# ------------------------------------------------------------------ inbox


@page(*ADMIN_PAGE)
async def inbox_page(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    groups = await inbox.open_groups(session)
    try:
        number = max(1, int(request.query.get("trang", "1")))
    except ValueError:
        number = 1
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    number = min(number, pages)
    shown = groups[(number - 1) * GROUPS_PER_PAGE : number * GROUPS_PER_PAGE]
    index = request.app[STAFF_APP].knowledge.index
    items: list[dict[str, Any]] = []
    for g in shown:
        nearest = [m.entry for m in index.search(g.representative, k=3).matches[:3]]
        items.append(
            {
                "group": g,
                "variants": [(g.samples[n], c) for n, c in g.variants.most_common(MAX_VARIANTS)],
                "nearest": nearest,
                "new_url": "/staff/kho/moi?"
                + urlencode({"cauhoi": g.representative, "nhom": g.key}),
            }
        )
    notice = {
        "cachoi": "Đã thêm thành cách hỏi của mục đã chọn.",
        "boqua": "Đã bỏ qua nhóm câu hỏi.",
    }.get(request.query.get("xong", ""), "")
    return render(
        request,
        "inbox.html",
        {
            "title": "Câu hỏi chưa trả lời",
            "items": items,
            "total": len(groups),
            "questions": sum(g.count for g in groups),
            "page": number,
            "pages": pages,
            "notice": notice,
            "FALLBACK": inbox.FALLBACK,
            "NOT_HELPFUL": inbox.NOT_HELPFUL,
        },
        user=user,
    )


@page(*ADMIN_PAGE)
async def inbox_act(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """One click on a group: a phrasing of an entry, or ignore it."""
    form = user.form
    group = inbox.find(await inbox.open_groups(session), form.get("nhom", ""))
    page_no = form.get("trang", "1")
    if group is None:
        return render(
            request,
            "message.html",
            {"title": "Chưa trả lời", "message": "Nhóm câu hỏi này đã được xử lý hoặc không còn."},
            user=user,
            status=409,
        )
    if form.get("hanhdong") == "boqua":
        await inbox.mark(session, group.members, inbox.IGNORED, actor_hash=user.user_hash)
        await audit.record(
            session,
            user.user_hash,
            user.role,
            "inbox.ignore",
            group.key,
            {"text": group.representative, "count": group.count, "via": "web"},
        )
        raise web.HTTPSeeOther(f"/staff/chuatraloi?trang={page_no}&xong=boqua")
    if form.get("hanhdong") == "cachoi":
        entry = await repo.get(session, form.get("muc", ""), for_update=True)
        if entry is None:
            raise web.HTTPBadRequest(text="Không tìm thấy mục này.")
        text = group.representative
        if text not in entry.alternatives:
            after = replace(entry, alternatives=(*entry.alternatives, text))
            await changes.change(session, user, entry, after, "alternative")
        await changes.close_group(session, user, group.key, entry.id, "inbox.alternative")
        raise web.HTTPSeeOther(f"/staff/chuatraloi?trang={page_no}&xong=cachoi")
    raise web.HTTPBadRequest(text="Thao tác không hợp lệ.")


# ------------------------------------------------------------------ audit log


def _day_start(value: str) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day, time.min, VN_TZ)


@page(*ADMIN_PAGE)
async def audit_page(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    q = request.query
    grants = await roles.all_grants(session)
    people = sorted(
        ((g.user_hash, g.display_name or f"{g.channel}:{g.user_id}") for g, _ in grants),
        key=lambda x: x[1],
    )
    since = _day_start(q.get("tu", ""))
    until = _day_start(q.get("den", ""))
    rows = await staff_views.audit_rows(
        session,
        actor_hash=q.get("nguoi") or None,
        action=q.get("hanhdong") or None,
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    names = await roles.display_names(session, [r.actor_hash for r in rows])
    return render(
        request,
        "audit.html",
        {
            "title": "Nhật ký thao tác",
            "rows": rows,
            "names": names,
            "people": people,
            "actions": await staff_views.audit_actions(session),
            "q": q,
        },
        user=user,
    )


# ------------------------------------------------------------------ users


@page(*ADMIN_PAGE)
async def users_page(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    app = request.app[STAFF_APP]
    message, status = "", 200
    if request.method == "POST":
        message, status = await _users_action(session, user, app)
    grants = await roles.all_grants(session)
    counts = await staff_auth.session_counts(session, idle_limit(request))
    agencies_list = await stats_repo.subtree_agencies(session, None)
    return render(
        request,
        "users.html",
        {
            "title": "Người dùng",
            "grants": sorted(grants, key=lambda ga: (ga[0].role, ga[0].display_name)),
            "counts": counts,
            "agencies": agencies_list,
            "channels": CHANNELS,
            "message": message,
            "me": user.user_hash,
        },
        user=user,
        status=status,
    )


async def _users_action(session: AsyncSession, user: StaffUser, app: Any) -> tuple[str, int]:
    form = user.form
    action = form.get("hanhdong", "")
    if action in ("thuhoi", "dangxuat"):
        target = form.get("nguoi", "")
        if action == "thuhoi":
            if target == user.user_hash:
                return "Bạn không thể tự thu hồi quyền của mình.", 422
            await roles.revoke(session, target)
        ended = await staff_auth.end_sessions_of(session, target)
        await audit.record(
            session,
            user.user_hash,
            user.role,
            "users.revoke" if action == "thuhoi" else "staff.logout_all",
            target[:12],
            {"sessions": ended, "via": "web"},
        )
        return (
            "Đã thu hồi quyền." if action == "thuhoi" else f"Đã kết thúc {ended} phiên đăng nhập."
        ), 200
    if action != "cap":
        return "Thao tác không hợp lệ.", 400
    channel = form.get("kenh", "")
    user_id = form.get("ma", "").strip()
    role = form.get("vaitro", "")
    name = " ".join(form.get("ten", "").split())
    if channel not in CHANNELS or not user_id or len(user_id) > 128:
        return "Kênh hoặc mã người dùng không hợp lệ.", 422
    if role not in roles.ROLES:
        return "Vai trò không hợp lệ.", 422
    agency = None
    if form.get("coquan"):
        agency = await dossier_repo.agency_by_code(session, form.get("coquan", ""))
        if agency is None:
            return "Không tìm thấy cơ quan.", 422
    if role == roles.STAFF and agency is None:
        return "Cán bộ cần có cơ quan.", 422
    target = app.dispatcher.user_hash_of(Channel(channel), user_id)
    await roles.grant(
        session,
        user_hash=target,
        channel=channel,
        user_id=user_id,
        role=role,
        agency=agency,
        display_name=name or None,
    )
    await audit.record(
        session,
        user.user_hash,
        user.role,
        "users.grant",
        target[:12],
        {"role": role, "agency": agency.code if agency else None, "via": "web"},
    )
    return f"Đã cấp quyền {role} cho {name or channel + ':' + user_id}.", 200


def register(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/chuatraloi", inbox_page)
    router.add_post(f"{prefix}/chuatraloi", inbox_act)
    router.add_get(f"{prefix}/nhatky", audit_page)
    router.add_get(f"{prefix}/nguoidung", users_page)
    router.add_post(f"{prefix}/nguoidung", users_page)
