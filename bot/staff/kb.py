"""The knowledge base for admins: find, edit with a phone preview, history with names and
diffs, restore any version, phrasings, on/off for entries and categories, import with a diff
and confirmation, export.

Every change goes through ``storage.repositories.kb_changes`` (history row, revision bump,
audit row), the functions the chat commands use; form fields are checked by the knowledge-file
validator (``knowledge.kbfile``), so the web, the chat and files accept the same entries.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import logging
import zipfile
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from bot.staff import changes
from bot.staff.app_key import STAFF_APP
from bot.staff.auth import ADMIN_PAGE, StaffUser, page, render
from handlers import texts_admin as t
from knowledge import kbfile
from knowledge.entry import Entry
from knowledge.normalize import fold
from storage.repositories import audit, kb_changes, roles
from storage.repositories import kb as kb_repo
from storage.repositories import kb_admin as repo

log = logging.getLogger(__name__)

PAGE_SIZE = 50
HISTORY_SHOWN = 50
MAX_UNPACKED_XLSX = 100 * 1024 * 1024
EXPORT_TYPES = {
    "yaml": "application/yaml",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LABELS = {
    **t.FIELD_LABELS,
    "aspect": "Khía cạnh",
    "legal_refs": "Số hiệu văn bản",
    "reviewed": "Ngày rà soát",
    "review_by": "Hạn rà soát lại",
}
ACTIONS = {**t.ACTIONS, "edit": "sửa mục", "restore": "khôi phục phiên bản"}
FORM_FIELDS = (
    "category",
    "procedure",
    "question",
    "answer",
    "legal_basis",
    "source_url",
    "aspect",
    "reviewed",
    "review_by",
)
LIST_FIELDS = ("alternatives", "keywords", "legal_refs")


def _today(request: web.Request) -> date:
    return request.app[STAFF_APP].dispatcher.services.today()


def _entry_url(entry_id: str, **extra: str) -> str:
    return "/staff/kho/muc?" + urlencode({"id": entry_id, **extra})


def _due(entry: Entry, today: date) -> bool:
    return bool(entry.review_by) and entry.review_by <= today.isoformat()


def _matches(entry: Entry, query: str) -> bool:
    hay = fold(" ".join((entry.id, entry.question, *entry.alternatives, *entry.keywords)))
    q = fold(query)
    return q in hay or fuzz.token_set_ratio(q, hay) >= 80


@page(*ADMIN_PAGE)
async def listing(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    q = request.query
    query, category = q.get("q", "").strip(), q.get("linhvuc", "")
    procedure, status, review = q.get("thutuc", ""), q.get("trangthai", ""), q.get("ratsoat", "")
    entries = await kb_repo.all_entries(session)
    today = _today(request)
    found = [
        e
        for e in entries
        if (not category or e.category == category)
        and (not procedure or e.procedure == procedure)
        and (status != "bat" or e.enabled)
        and (status != "tat" or not e.enabled)
        and (not review or _due(e, today))
        and (not query or _matches(e, query))
    ]
    try:
        number = max(1, int(q.get("trang", "1")))
    except ValueError:
        number = 1
    pages = max(1, -(-len(found) // PAGE_SIZE))
    number = min(number, pages)
    shown = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    base = {k: v for k, v in q.items() if k != "trang" and v}
    return render(
        request,
        "kb_list.html",
        {
            "title": "Kho câu hỏi",
            "entries": shown,
            "total": len(found),
            "all": len(entries),
            "categories": sorted({e.category for e in entries}),
            "procedures": sorted({e.procedure for e in entries if e.procedure}),
            "q": q,
            "page": number,
            "pages": pages,
            "prev": urlencode({**base, "trang": number - 1}) if number > 1 else "",
            "next": urlencode({**base, "trang": number + 1}) if number < pages else "",
            "today": today.isoformat(),
            "entry_url": _entry_url,
        },
        user=user,
    )


# ------------------------------------------------------------------ one entry


def _lines(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(value)
    if isinstance(value, bool):
        return t.ON if value else t.OFF
    return "" if value is None else str(value)


def field_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The fields a change touched, each with a line diff (list of (kind, text))."""
    old, new = before or {}, after or {}
    out = []
    for name in LABELS:
        a, b = _lines(old.get(name)), _lines(new.get(name))
        if a == b:
            continue
        parts: list[tuple[str, str]] = []
        for line in difflib.ndiff(a.splitlines(), b.splitlines()):
            if line.startswith("? "):
                continue
            kind = {"- ": "del", "+ ": "ins"}.get(line[:2], "same")
            parts.append((kind, line[2:]))
        out.append({"label": LABELS[name], "parts": parts})
    return out


async def _history(session: AsyncSession, entry_id: str) -> list[dict[str, Any]]:
    rows = await repo.history(session, entry_id, HISTORY_SHOWN)
    names = await roles.display_names(session, [r.actor_hash for r in rows])
    return [
        {
            "id": r.id,
            "at": r.at,
            "action": ACTIONS.get(r.action, r.action),
            "actor": names.get(r.actor_hash) or f"Người dùng {r.actor_hash[:6]}",
            "diff": field_diff(r.before, r.after),
            "restorable": r.after is not None and i > 0,
        }
        for i, r in enumerate(rows)
    ]


def _form_record(form: Any, entry_id: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": entry_id}
    for name in FORM_FIELDS:
        rec[name] = str(form.get(name, ""))
    for name in LIST_FIELDS:
        rec[name] = [line.strip() for line in str(form.get(name, "")).splitlines() if line.strip()]
    return rec


def validate_form(form: Any, entry_id: str, enabled: bool) -> tuple[Entry | None, list[str]]:
    """An entry from the form, checked as a knowledge file checks it; or the problems."""
    problems: list[kbfile.Problem] = []
    rec = _form_record(form, entry_id)
    entry = kbfile._entry_from_record("form", rec, problems)
    messages = [
        f"{LABELS.get(p.field, p.field)}: {t.translate_problem(p.message)}" for p in problems
    ]
    if entry is None:
        return None, messages
    return replace(entry, enabled=enabled), messages


async def _entry_page(
    request: web.Request,
    session: AsyncSession,
    user: StaffUser,
    entry: Entry,
    *,
    draft: Entry | None = None,
    problems: list[str] | None = None,
    notice: str = "",
    status: int = 200,
) -> web.Response:
    shown = draft or entry
    return render(
        request,
        "kb_entry.html",
        {
            "title": f"Mục {entry.id}",
            "entry": entry,
            "form": shown,
            "preview": draft is not None,
            "problems": problems or [],
            "notice": notice,
            "history": await _history(session, entry.id),
            "fp": repo.fingerprint([entry]),
            "labels": LABELS,
        },
        user=user,
        status=status,
    )


@page(*ADMIN_PAGE)
async def entry_page(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    entry = await repo.get(session, request.query.get("id", ""))
    if entry is None:
        raise web.HTTPNotFound(text="Không tìm thấy mục này.")
    notice = {
        "luu": "Đã lưu.",
        "khoiphuc": "Đã khôi phục phiên bản đã chọn.",
        "cachoi": "Đã thêm cách hỏi.",
        "bat": "Đã bật mục.",
        "tat": "Đã tắt mục.",
        "tao": "Đã tạo mục mới.",
    }.get(request.query.get("xong", ""), "")
    return await _entry_page(request, session, user, entry, notice=notice)


async def _locked(session: AsyncSession, user: StaffUser) -> Entry | None:
    """The entry a form names, locked, if it is still as the form showed it."""
    entry = await repo.get(session, user.form.get("id", ""), for_update=True)
    if entry is None or repo.fingerprint([entry]) != user.form.get("fp"):
        return None
    return entry


def _changed_since(entry_id: str) -> web.Response:
    return web.Response(
        status=409,
        content_type="text/html",
        text=(
            '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Đã thay đổi</title>'
            "<p>Mục này vừa được người khác sửa; chưa có gì thay đổi. "
            f'<a href="{_entry_url(entry_id)}">Mở lại mục</a> để xem bản mới nhất.</p></html>'
        ),
    )


@page(*ADMIN_PAGE)
async def save_entry(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """Preview (nothing saved) or save the edit form."""
    entry_id = user.form.get("id", "")
    current = await repo.get(session, entry_id)
    if current is None:
        raise web.HTTPNotFound(text="Không tìm thấy mục này.")
    draft, problems = validate_form(user.form, entry_id, current.enabled)
    if draft is None:
        bad = replace(current, answer=user.form.get("answer", current.answer))
        return await _entry_page(
            request, session, user, current, draft=bad, problems=problems, status=422
        )
    if user.form.get("hanhdong") != "luu":
        return await _entry_page(request, session, user, current, draft=draft)
    entry = await _locked(session, user)
    if entry is None:
        return _changed_since(entry_id)
    if draft == entry:
        return await _entry_page(request, session, user, entry, notice="Không có gì thay đổi.")
    await changes.change(session, user, entry, draft, "edit")
    raise web.HTTPSeeOther(_entry_url(entry_id, xong="luu"))


@page(*ADMIN_PAGE)
async def add_phrasing(
    request: web.Request, session: AsyncSession, user: StaffUser
) -> web.Response:
    entry = await _locked(session, user)
    if entry is None:
        return _changed_since(user.form.get("id", ""))
    text = " ".join(user.form.get("cachoi", "").split())
    problem = ""
    if not text:
        problem = "Cách hỏi đang trống."
    elif len(text) > kbfile.MAX_TEXT["question"]:
        problem = f"Cách hỏi dài quá {kbfile.MAX_TEXT['question']} ký tự."
    elif tuple(fold(w) for w in text.split()) in {
        tuple(fold(w) for w in p.split()) for p in entry.phrasings
    }:
        problem = t.ALREADY_PHRASING
    if problem:
        return await _entry_page(request, session, user, entry, problems=[problem], status=422)
    after = replace(entry, alternatives=(*entry.alternatives, text))
    await changes.change(session, user, entry, after, "alternative")
    raise web.HTTPSeeOther(_entry_url(entry.id, xong="cachoi"))


@page(*ADMIN_PAGE)
async def toggle(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    entry = await _locked(session, user)
    if entry is None:
        return _changed_since(user.form.get("id", ""))
    on = user.form.get("bat") == "1"
    if entry.enabled != on:
        action = "enable" if on else "disable"
        await changes.change(session, user, entry, replace(entry, enabled=on), action)
    raise web.HTTPSeeOther(_entry_url(entry.id, xong="bat" if on else "tat"))


@page(*ADMIN_PAGE)
async def restore(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """Make the entry what it was after an earlier change (a new change, itself undoable)."""
    entry = await _locked(session, user)
    if entry is None:
        return _changed_since(user.form.get("id", ""))
    try:
        version_id = int(user.form.get("phienban", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="Phiên bản không hợp lệ.") from None
    rows = await repo.history(session, entry.id, HISTORY_SHOWN)
    version = next((r for r in rows if r.id == version_id), None)
    if version is None or version.after is None:
        raise web.HTTPBadRequest(text="Không tìm thấy phiên bản này của mục.")
    after = repo.from_snapshot(version.after)
    if after != entry:
        await changes.change(session, user, entry, after, "restore", version=version.id)
    raise web.HTTPSeeOther(_entry_url(entry.id, xong="khoiphuc"))


# ------------------------------------------------------------------ new entries


@page(*ADMIN_PAGE)
async def new_entry(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """The form of a new entry (GET, prefilled from the inbox) or its creation (POST)."""
    categories = [c for c, _, _ in await repo.categories(session)]
    if request.method == "GET":
        blank = Entry(id="", category="", question=request.query.get("cauhoi", ""), answer="")
        return render(
            request,
            "kb_new.html",
            {
                "title": "Thêm mục mới",
                "form": blank,
                "problems": [],
                "categories": categories,
                "nhom": request.query.get("nhom", ""),
            },
            user=user,
        )
    form = user.form
    category = " ".join(form.get("category", "").split())
    question = " ".join(form.get("question", "").split())
    entry_id = await repo.new_id(session, category or "khac", question or "muc")
    draft, problems = validate_form(form, entry_id, True)
    if draft is None:
        shown = Entry(id="", category=category, question=question, answer=form.get("answer", ""))
        return render(
            request,
            "kb_new.html",
            {
                "title": "Thêm mục mới",
                "form": shown,
                "problems": problems,
                "categories": categories,
                "nhom": form.get("nhom", ""),
            },
            user=user,
            status=422,
        )
    await changes.change(session, user, None, draft, "create")
    group = form.get("nhom", "")
    if group:
        await changes.close_group(session, user, group, draft.id, "inbox.new_entry")
    raise web.HTTPSeeOther(_entry_url(draft.id, xong="tao"))


# ------------------------------------------------------------------ categories


@page(*ADMIN_PAGE)
async def categories(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    if request.method == "POST":
        category = user.form.get("linhvuc", "")
        entries = await repo.of_category(session, category, for_update=True)
        if not entries:
            raise web.HTTPBadRequest(text="Không tìm thấy lĩnh vực này.")
        on = user.form.get("bat") == "1"
        await kb_changes.set_category(
            session, category, entries, on, actor_hash=user.user_hash, role=user.role
        )
        raise web.HTTPSeeOther("/staff/kho/linhvuc")
    return render(
        request,
        "kb_categories.html",
        {"title": "Lĩnh vực", "categories": await repo.categories(session), "quote": quote},
        user=user,
    )


# ------------------------------------------------------------------ import and export


def _unpacked_size(content: bytes) -> int:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


async def _plan_view(
    session: AsyncSession, entries: list[Entry], replace_all: bool
) -> dict[str, Any]:
    current = {e.id: e for e in await kb_repo.all_entries(session)}
    plan = kb_repo.plan_import(list(current.values()), entries, replace=replace_all)
    incoming = {e.id: e for e in entries}
    return {
        "plan": plan,
        "added": [incoming[i] for i in plan.added],
        "changed": [
            {
                "id": i,
                "question": incoming[i].question,
                "diff": field_diff(repo.snapshot(current[i]), repo.snapshot(incoming[i])),
            }
            for i in plan.changed
        ],
        "removed": [current[i] for i in plan.removed],
        "kept": len(set(current) - set(incoming)),
        "fp": repo.fingerprint(repo.touched(current, plan)),
    }


@page(*ADMIN_PAGE)
async def import_page(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    """GET: the upload form. POST: the validation report, or the diff to confirm."""
    if request.method == "GET":
        return render(
            request, "kb_import.html", {"title": "Nhập tệp", "stage": "upload"}, user=user
        )
    name, content = user.files.get("tep", ("", b""))
    name = name.replace("/", "_")[:120]
    context: dict[str, Any] = {"title": "Nhập tệp", "name": name}
    problems: list[str] = []
    entries: list[Entry] = []
    if not name or not content:
        problems = ["Bạn chưa chọn tệp."]
    else:
        try:
            fmt = kbfile.detect_format(name)
            if fmt == "xlsx" and _unpacked_size(content) > MAX_UNPACKED_XLSX:
                problems = ["Tệp XLSX giải nén ra quá lớn."]
            else:
                entries = await asyncio.to_thread(kbfile.parse, content, fmt)
        except kbfile.KbFileError as exc:
            problems = [
                f"{t.translate_where(p.where)}"
                + (f", trường «{p.field}»" if p.field else "")
                + f": {t.translate_problem(p.message)}"
                for p in exc.problems
            ]
        except (RecursionError, MemoryError, ValueError, TypeError, KeyError) as exc:
            log.warning("an admin's knowledge file could not be read: %r", exc)
            problems = ["Không đọc được tệp này. Hãy kiểm tra đúng định dạng YAML, CSV hoặc XLSX."]
    if problems:
        context.update(stage="problems", problems=problems)
        return render(request, "kb_import.html", context, user=user, status=422)
    replace_all = user.form.get("thaythe") == "1"
    nonce = await repo.create_pending(
        session, actor_hash=user.user_hash, file_name=name, fmt=fmt, entries=entries
    )
    context.update(
        stage="preview",
        nonce=nonce,
        replace_all=replace_all,
        count=len(entries),
        **await _plan_view(session, entries, replace_all),
    )
    return render(request, "kb_import.html", context, user=user)


@page(*ADMIN_PAGE)
async def import_confirm(
    request: web.Request, session: AsyncSession, user: StaffUser
) -> web.Response:
    """Apply a previewed import if nothing moved since the preview (as the chat does)."""
    row = await repo.pending(session, user.form.get("nonce", ""), user.user_hash)
    if row is None:
        return render(
            request,
            "message.html",
            {"title": "Nhập tệp", "message": t.IMPORT_EXPIRED},
            user=user,
            status=409,
        )
    if user.form.get("huy"):
        await repo.drop_pending(session, row.nonce)
        raise web.HTTPSeeOther("/staff/kho/nhap")
    entries = repo.pending_entries(row)
    replace_all = user.form.get("thaythe") == "1"
    current = {e.id: e for e in await kb_repo.all_entries(session)}
    plan = kb_repo.plan_import(list(current.values()), entries, replace=replace_all)
    if repo.fingerprint(repo.touched(current, plan)) != user.form.get("fp"):
        await repo.drop_pending(session, row.nonce)
        return render(
            request,
            "message.html",
            {"title": "Nhập tệp", "message": t.CHANGED_IMPORT},
            user=user,
            status=409,
        )
    plan = await repo.import_entries(
        session, entries, replace=replace_all, actor_hash=user.user_hash, batch=row.nonce
    )
    await kb_repo.bump_revision(session)
    await repo.drop_pending(session, row.nonce)
    await kb_changes.record_import(
        session,
        actor_hash=user.user_hash,
        role=user.role,
        file_name=row.file_name,
        fmt=row.fmt,
        replace_all=replace_all,
        batch=row.nonce,
        plan=plan,
    )
    message = t.IMPORT_DONE.format(
        name=row.file_name,
        added=len(plan.added),
        changed=len(plan.changed),
        removed=len(plan.removed),
    )
    return render(request, "message.html", {"title": "Đã nhập tệp", "message": message}, user=user)


@page(*ADMIN_PAGE)
async def export(request: web.Request, session: AsyncSession, user: StaffUser) -> web.Response:
    fmt = request.query.get("dinhdang", "yaml")
    if fmt not in EXPORT_TYPES:
        raise web.HTTPBadRequest(text="Định dạng không hỗ trợ: chọn yaml, csv hoặc xlsx.")
    entries = await kb_repo.all_entries(session)
    content = await asyncio.to_thread(kbfile.dump, entries, fmt)
    name = f"motcua-kb-{_today(request):%Y%m%d}.{fmt}"
    await audit.record(
        session,
        user.user_hash,
        user.role,
        "kb.export",
        name,
        {"format": fmt, "entries": len(entries), "via": "web"},
    )
    return web.Response(
        body=content,
        headers={
            "Content-Type": EXPORT_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def register(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/kho", listing)
    router.add_get(f"{prefix}/kho/muc", entry_page)
    router.add_post(f"{prefix}/kho/muc", save_entry)
    router.add_post(f"{prefix}/kho/cachoi", add_phrasing)
    router.add_post(f"{prefix}/kho/trangthai", toggle)
    router.add_post(f"{prefix}/kho/khoiphuc", restore)
    router.add_get(f"{prefix}/kho/moi", new_entry)
    router.add_post(f"{prefix}/kho/moi", new_entry)
    router.add_get(f"{prefix}/kho/linhvuc", categories)
    router.add_post(f"{prefix}/kho/linhvuc", categories)
    router.add_get(f"{prefix}/kho/nhap", import_page)
    router.add_post(f"{prefix}/kho/nhap", import_page)
    router.add_post(f"{prefix}/kho/nhap/xacnhan", import_confirm)
    router.add_get(f"{prefix}/kho/xuat", export)
