"""``motcua demo``: an illustrative city so that a new user can try every feature at once.

Everything written here is labelled illustrative (``illustrative = true`` on agencies,
procedures and dossiers): names, codes and figures are realistic in shape, not real records.
The agency tree follows the two-tier government of Cần Thơ since 01/7/2025 (city, departments,
wards and communes; a subset of the 103), agency codes follow the QCVN 102 shape with the city
code H13, and dossiers cover the last 12 months with realistic shares of early, on-time and
late results, supplement requests, refusals and withdrawals.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.dossiers.status import DossierStatus as S
from bot.domain.dossiers.workdays import WorkCalendar
from bot.domain.privacy import mask_name, owner_id_hash, owner_phone_hash
from bot.domain.vietnam_time import VN_TZ
from storage.models import (
    Agency,
    Dossier,
    DossierEvent,
    DossierPause,
    FeedbackAnswer,
    FeedbackResponse,
    Procedure,
)
from storage.repositories import dossiers as repo

CITY = ("000.00.00.H13", "UBND thành phố Cần Thơ", "tinh")
CENTRE = ("000.00.01.H13", "Trung tâm Phục vụ hành chính công thành phố", "trung_tam_hcc")
DEPARTMENTS = [
    ("000.01.00.H13", "Sở Nội vụ"),
    ("000.02.00.H13", "Sở Tư pháp"),
    ("000.03.00.H13", "Sở Tài chính"),
    ("000.04.00.H13", "Sở Nông nghiệp và Môi trường"),
    ("000.05.00.H13", "Sở Xây dựng"),
    ("000.06.00.H13", "Sở Công Thương"),
    ("000.07.00.H13", "Sở Y tế"),
    ("000.08.00.H13", "Công an thành phố"),
    ("000.09.00.H13", "Bảo hiểm xã hội thành phố"),
]
WARDS = [
    ("phường", "Ninh Kiều"),
    ("phường", "Cái Khế"),
    ("phường", "Tân An"),
    ("phường", "An Bình"),
    ("phường", "Bình Thủy"),
    ("phường", "Cái Răng"),
    ("phường", "Hưng Phú"),
    ("phường", "Ô Môn"),
    ("phường", "Thốt Nốt"),
    ("phường", "Vị Thanh"),
    ("phường", "Sóc Trăng"),
    ("phường", "Ngã Bảy"),
    ("xã", "Phong Điền"),
    ("xã", "Thới Lai"),
    ("xã", "Cờ Đỏ"),
    ("xã", "Vĩnh Thạnh"),
    ("xã", "Châu Thành"),
    ("xã", "Kế Sách"),
]


@dataclass(frozen=True, slots=True)
class DemoProcedure:
    code: str
    name: str
    field: str
    days: int
    level: str  # "xa" (ward desks) or a department code
    online: str
    weight: float


PROCEDURES = [
    DemoProcedure("DEMO.KS", "Đăng ký khai sinh", "Hộ tịch", 1, "xa", "toan_trinh", 14),
    DemoProcedure("DEMO.KH", "Đăng ký kết hôn", "Hộ tịch", 5, "xa", "mot_phan", 5),
    DemoProcedure("DEMO.KT", "Đăng ký khai tử", "Hộ tịch", 1, "xa", "toan_trinh", 4),
    DemoProcedure(
        "DEMO.HN", "Cấp giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3, "xa", "toan_trinh", 6
    ),
    DemoProcedure(
        "DEMO.CT", "Chứng thực bản sao từ bản chính", "Chứng thực", 1, "xa", "mot_phan", 12
    ),
    DemoProcedure("DEMO.TT", "Đăng ký thường trú", "Cư trú", 7, "xa", "toan_trinh", 8),
    DemoProcedure("DEMO.TAMT", "Đăng ký tạm trú", "Cư trú", 3, "xa", "toan_trinh", 7),
    DemoProcedure(
        "DEMO.HKD", "Đăng ký thành lập hộ kinh doanh", "Kinh doanh", 3, "xa", "toan_trinh", 5
    ),
    DemoProcedure(
        "DEMO.GPXD", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", 15, "xa", "mot_phan", 4
    ),
    DemoProcedure(
        "DEMO.GCN",
        "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        "Đất đai",
        20,
        "xa",
        "mot_phan",
        4,
    ),
    DemoProcedure(
        "DEMO.TCTN",
        "Giải quyết hưởng trợ cấp thất nghiệp",
        "Việc làm",
        20,
        "000.01.00.H13",
        "toan_trinh",
        9,
    ),
    DemoProcedure(
        "DEMO.LLTP",
        "Cấp Phiếu lý lịch tư pháp",
        "Lý lịch tư pháp",
        10,
        "000.08.00.H13",
        "toan_trinh",
        6,
    ),
    DemoProcedure(
        "DEMO.DN",
        "Đăng ký thành lập doanh nghiệp",
        "Kinh doanh",
        3,
        "000.03.00.H13",
        "toan_trinh",
        3,
    ),
    DemoProcedure(
        "DEMO.BHXH1L",
        "Giải quyết hưởng bảo hiểm xã hội một lần",
        "Bảo hiểm xã hội",
        7,
        "000.09.00.H13",
        "toan_trinh",
        4,
    ),
]

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "Hoàng",
    "Phan",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hoàng", "Minh", "Ngọc", "Thanh", "Hữu", "Đức", "Thu", "Quốc", "Kim"]
GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Khoa",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Ngân",
    "Phúc",
    "Quân",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A sample dossier and the fake identifiers that unlock it, printed for the user to try."""

    code: str
    status: S
    id_number: str
    phone: str


def _at(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock in Vietnam on ``day``, as the UTC instant the models store: SQLite
    keeps a datetime's wall-clock digits and drops its zone, so a Vietnam-time value would be
    read back seven hours off."""
    return datetime.combine(day, time(hour, 0), VN_TZ).astimezone(UTC)


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Agency))


async def generate(
    session: AsyncSession,
    *,
    secret: bytes,
    calendar: WorkCalendar,
    today: date,
    count: int = 5000,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
) -> list[DemoLogin]:
    """Write the illustrative city into an empty database (inside the caller's transaction)."""
    rng = random.Random(seed)
    city = await repo.add_agency(
        session, code=CITY[0], name=CITY[1], level=CITY[2], illustrative=True
    )
    await repo.add_agency(
        session, code=CENTRE[0], name=CENTRE[1], level=CENTRE[2], parent=city, illustrative=True
    )
    departments = {
        code: await repo.add_agency(
            session, code=code, name=name, level="so_nganh", parent=city, illustrative=True
        )
        for code, name in DEPARTMENTS
    }
    wards = [
        await repo.add_agency(
            session,
            code=f"000.00.{10 + i:02d}.H13",
            name=f"UBND {kind} {name}",
            level="xa",
            parent=city,
            illustrative=True,
        )
        for i, (kind, name) in enumerate(WARDS)
    ]
    procedures = []
    for p in PROCEDURES:
        row = Procedure(
            code=p.code,
            name=p.name,
            field=p.field,
            time_limit=p.days,
            online_level=p.online,
            kb_procedure=p.name,
            illustrative=True,
        )
        session.add(row)
        procedures.append(row)
    await session.flush()
    weights = [p.weight for p in PROCEDURES]
    counters: dict[tuple[int, date], int] = {}
    logins: list[DemoLogin] = []
    batch: list[Dossier] = []
    pending_children: list[
        tuple[Dossier, list[tuple[date, int, str]], list[tuple[date, date | None]]]
    ] = []
    start = today - timedelta(days=365)
    for n in range(count):
        i = rng.choices(range(len(PROCEDURES)), weights)[0]
        spec, procedure = PROCEDURES[i], procedures[i]
        agency = rng.choice(wards) if spec.level == "xa" else departments[spec.level]
        received = calendar.next_workday(start + timedelta(days=rng.randrange(365)))
        if received > today:
            received = today
        due = calendar.add_workdays(received, spec.days)
        key = (agency.id, received)
        counters[key] = counters.get(key, 0) + 1
        code = f"{agency.code}-{received:%y%m%d}-{counters[key]:04d}"
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        id_number = f"0{rng.randrange(79, 95)}{rng.randrange(10**9):09d}"
        phone = f"09{rng.randrange(10**8):08d}"
        history, pauses, dossier = _life(rng, calendar, today, received, due, spec.days)
        dossier.code = code
        dossier.procedure_id = procedure.id
        dossier.receiving_agency_id = agency.id
        dossier.handling_agency_id = agency.id
        dossier.channel = rng.choices((1, 2, 3), (50, 45, 5))[0]
        dossier.owner_name_masked = mask_name(name)
        dossier.owner_id_hmac = owner_id_hash(secret, id_number)
        dossier.owner_phone_hmac = owner_phone_hash(secret, phone)
        dossier.submitted_at = _at(received, 8)
        dossier.illustrative = True
        batch.append(dossier)
        pending_children.append((dossier, history, pauses))
        recent = received > today - timedelta(days=45)
        if recent and len(logins) < 6 and dossier.status not in {x.status for x in logins}:
            logins.append(DemoLogin(code, S(dossier.status), id_number, phone))
        if len(batch) >= 500 or n == count - 1:
            session.add_all(batch)
            await session.flush()
            ratings = []
            for d, events, spans in pending_children:
                if d.status in (S.DA_XU_LY_XONG, S.DA_TRA_KET_QUA) and rng.random() < 0.35:
                    ratings.append(_rating(rng, d))
                previous: int | None = None
                for k, (day, status, note) in enumerate(events):
                    session.add(
                        DossierEvent(
                            dossier_id=d.id,
                            source_id=f"demo:{d.code}:{k}",
                            at=_at(day, 9 + k % 8),
                            from_status=previous,
                            to_status=status,
                            note=note,
                        )
                    )
                    previous = status
                for requested, resumed in spans:
                    session.add(
                        DossierPause(
                            dossier_id=d.id,
                            requested_date=requested,
                            resumed_date=resumed,
                            reason="Bổ sung giấy tờ còn thiếu (minh họa)",
                        )
                    )
            session.add_all(r for r, _ in ratings)
            await session.flush()
            for response, answers in ratings:
                for answer in answers:
                    answer.response_id = response.id
                session.add_all(answers)
            await session.flush()
            batch.clear()
            pending_children.clear()
            if progress:
                progress(n + 1, count)
    return logins


def _rating(rng: random.Random, d: Dossier) -> tuple[FeedbackResponse, list[FeedbackAnswer]]:
    """An illustrative rating of a finished dossier: the three levels, often the five aspects."""
    assert d.finished_date is not None
    level = rng.choices((3, 2, 1), (55, 38, 7))[0]
    response = FeedbackResponse(
        kind="dossier",
        dossier_id=d.id,
        agency_id=d.handling_agency_id,
        procedure_id=d.procedure_id,
        channel=rng.choice(("telegram", "zalo_oa", "web")),
        user_hash="demo",
        submitted_at=_at(d.finished_date, 17),
        comment="",
        dedupe_key=f"dossier:{d.id}:demo",
    )
    answers = [FeedbackAnswer(item_code="rating3", aspect="tong_the", scale="3", value=level)]
    if rng.random() < 0.5:
        base = {3: 5, 2: 4, 1: 2}[level]
        for aspect in ("tiep_can", "tthc", "cong_chuc", "ket_qua", "pakn"):
            value = (
                None if rng.random() < 0.08 else max(1, min(5, base + rng.choice((-1, 0, 0, 1))))
            )
            answers.append(
                FeedbackAnswer(
                    item_code=f"sipas.{aspect}",
                    aspect=aspect,
                    scale="5",
                    value=value,
                    is_valid=value is not None,
                )
            )
    return response, answers


def _life(
    rng: random.Random, calendar: WorkCalendar, today: date, received: date, due: date, days: int
) -> tuple[list[tuple[date, int, str]], list[tuple[date, date | None]], Dossier]:
    """One dossier's history: intake, maybe supplements, then an early, on-time or late end."""
    d = Dossier(received_date=received, due_date=due, supplement_count=0, status=S.DUOC_TIEP_NHAN)
    events: list[tuple[date, int, str]] = [(received, S.DUOC_TIEP_NHAN, "")]
    pauses: list[tuple[date, date | None]] = []
    roll = rng.random()
    if roll < 0.03:
        d.status, d.refusal_reason = (
            S.KHONG_DUOC_TIEP_NHAN,
            "Hồ sơ không thuộc thẩm quyền (minh họa)",
        )
        d.finished_date = received
        events = [(received, S.KHONG_DUOC_TIEP_NHAN, d.refusal_reason)]
        return events, pauses, d
    cursor = received
    events.append((cursor, S.DANG_XU_LY, ""))
    requests = rng.choices((0, 1, 2), (86, 12, 2))[0]
    shift = 0
    for _ in range(requests):
        asked = calendar.add_workdays(cursor, max(1, days // 3))
        if asked >= today:
            break
        back = calendar.add_workdays(asked, rng.randint(2, 8))
        d.supplement_count += 1
        d.supplement_reason = "Bổ sung bản sao giấy tờ tùy thân (minh họa)"
        events.append((asked, S.YEU_CAU_BO_SUNG, d.supplement_reason))
        if back >= today:
            pauses.append((asked, None))
            d.status = S.YEU_CAU_BO_SUNG
            return events, pauses, d
        pauses.append((asked, back))
        events.append((back, S.DANG_XU_LY, ""))
        shift += calendar.workdays_between(asked, back)
        cursor = back
    if rng.random() < 0.02:
        end = calendar.add_workdays(cursor, 1)
        if end < today:
            d.status, d.finished_date = S.CONG_DAN_RUT, end
            events.append((end, S.CONG_DAN_RUT, "Công dân rút hồ sơ (minh họa)"))
            return events, _closed_by(pauses, end), d
    effective_due = calendar.add_workdays(due, shift) if shift else due
    outcome = rng.random()
    if outcome < 0.55 and days > 1:
        end = calendar.add_workdays(received, rng.randint(max(0, days // 3), days - 1) + shift)
    elif outcome < 0.89:
        end = effective_due
    else:
        end = calendar.add_workdays(effective_due, rng.randint(1, 10))
    end = max(end, cursor)  # never before the last supplement came back
    if end >= today:
        d.status = S.DANG_XU_LY
        return events, pauses, d
    d.status, d.finished_date = S.DA_XU_LY_XONG, end
    events.append((end, S.DA_XU_LY_XONG, ""))
    pauses = _closed_by(pauses, end)
    returned = calendar.add_workdays(end, rng.randint(0, 5))
    if returned < today and rng.random() < 0.9:
        d.status, d.returned_date = S.DA_TRA_KET_QUA, returned
        events.append((returned, S.DA_TRA_KET_QUA, ""))
    return events, pauses, d


def _closed_by(pauses: list[tuple[date, date | None]], end: date) -> list[tuple[date, date | None]]:
    """Pauses of a dossier that finished on ``end``: none still open, none resumed after it
    (ingest closes a pause the same way when a dossier ends while waiting)."""
    return [(a, end if b is None or b > end else b) for a, b in pauses if a <= end]
