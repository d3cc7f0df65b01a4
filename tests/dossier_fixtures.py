"""A small city for dossier tests: two agencies, a procedure, one dossier, through real ingest."""

from __future__ import annotations

from datetime import date

from bot.app import App
from bot.domain.ingest import Ingestor, validate_batch
from handlers.notifications import DOSSIER_NOTIFICATIONS
from storage.models import Procedure
from storage.repositories import dossiers as repo

CODE = "000.00.12.H13-260115-0042"
OWNER_ID = "079123456789"
OWNER_PHONE = "0912345678"
TODAY = date(2026, 1, 19)


async def build_city(app: App) -> None:
    """The city, a ward and a department, the birth-registration procedure, one dossier."""
    async with app.sessions() as s, s.begin():
        city = await repo.add_agency(
            s, code="000.00.00.H13", name="UBND thành phố Cần Thơ", level="tinh"
        )
        await repo.add_agency(
            s, code="000.00.12.H13", name="UBND phường Ninh Kiều", level="xa", parent=city
        )
        await repo.add_agency(
            s, code="000.00.13.H13", name="UBND phường Cái Khế", level="xa", parent=city
        )
        s.add(Procedure(code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch", time_limit=5))
    await ingest(
        app,
        {
            "dossiers": [
                {
                    "code": CODE,
                    "procedure_code": "1.001193",
                    "receiving_agency": "000.00.12.H13",
                    "owner_name": "Nguyễn Văn An",
                    "owner_id_number": OWNER_ID,
                    "owner_phone": "+84 912 345 678",
                    "received_date": "2026-01-15",
                    "due_date": "2026-01-22",
                    "status": 4,
                }
            ]
        },
    )


async def ingest(app: App, body: object) -> None:
    dossiers, events, errors = validate_batch(body)
    assert not errors, errors
    async with app.sessions() as s, s.begin():
        result = await Ingestor(app.settings.resolved_secret(), DOSSIER_NOTIFICATIONS).apply(
            s, dossiers, events, scope=None
        )
    assert not result.errors, result.errors
    assert not result.forbidden, result.forbidden
