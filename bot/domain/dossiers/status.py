"""The 10 national dossier status codes (``TrangThaiHoSoId``) and what they mean for a citizen.

The codes are the ones provincial one-stop systems synchronise to Cổng DVCQG and the ones the
Decision 766 formula text uses (domain.md §3.2), so ingest stores them unchanged and everything
else derives from them: the label shown to a citizen, the next step, whether processing has
ended (for the on-time rule, domain.md §2.3) and the statistics group of provincial reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from enum import IntEnum, StrEnum


class DossierStatus(IntEnum):
    """A dossier's status, numbered as synchronised to Cổng DVCQG."""

    MOI_DANG_KY = 1
    DUOC_TIEP_NHAN = 2
    KHONG_DUOC_TIEP_NHAN = 3
    DANG_XU_LY = 4
    YEU_CAU_BO_SUNG = 5
    YEU_CAU_NVTC = 6
    CONG_DAN_RUT = 7
    DUNG_XU_LY = 8
    DA_XU_LY_XONG = 9
    DA_TRA_KET_QUA = 10

    @property
    def label(self) -> str:
        """The status as the national portal names it (citizen-facing, Vietnamese)."""
        return _LABELS[self]

    @property
    def next_step(self) -> str:
        """One polite Vietnamese sentence telling the citizen what happens next."""
        return _NEXT_STEPS[self]

    @property
    def group(self) -> StatsGroup:
        """The statistics group provincial reports put this status in."""
        return _GROUPS[self]


class StatsGroup(StrEnum):
    """Statistics groups of provincial reports (domain.md §3.2, from [TH] BaoCaoTongHop).

    A dossier refused at the desk (3, *Không được tiếp nhận*) has its own group, apart from one
    not yet received (1, *Chưa tiếp nhận*): the first was examined and turned down, the second
    still waits for the desk, and staff act on them differently."""

    NOT_RECEIVED = "not_received"
    REFUSED = "refused"
    IN_PROGRESS = "in_progress"
    SUPPLEMENT = "supplement"
    STOPPED = "stopped"
    RETURNED_TO_CITIZEN = "returned_to_citizen"
    DONE = "done"

    @property
    def label(self) -> str:
        """The group's Vietnamese name, as a report column would show it."""
        return _GROUP_LABELS[self]


_LABELS: dict[DossierStatus, str] = {
    DossierStatus.MOI_DANG_KY: "Mới đăng ký",
    DossierStatus.DUOC_TIEP_NHAN: "Được tiếp nhận",
    DossierStatus.KHONG_DUOC_TIEP_NHAN: "Không được tiếp nhận",
    DossierStatus.DANG_XU_LY: "Đang xử lý",
    DossierStatus.YEU_CAU_BO_SUNG: "Yêu cầu bổ sung giấy tờ",
    DossierStatus.YEU_CAU_NVTC: "Yêu cầu thực hiện nghĩa vụ tài chính",
    DossierStatus.CONG_DAN_RUT: "Công dân yêu cầu rút hồ sơ",
    DossierStatus.DUNG_XU_LY: "Dừng xử lý",
    DossierStatus.DA_XU_LY_XONG: "Đã xử lý xong",
    DossierStatus.DA_TRA_KET_QUA: "Đã trả kết quả",
}

_NEXT_STEPS: dict[DossierStatus, str] = {
    DossierStatus.MOI_DANG_KY: (
        "Hồ sơ của bạn đã được gửi, cơ quan sẽ kiểm tra và thông báo việc tiếp nhận."
    ),
    DossierStatus.DUOC_TIEP_NHAN: (
        "Hồ sơ đã được tiếp nhận và sẽ được chuyển đến bộ phận giải quyết."
    ),
    DossierStatus.KHONG_DUOC_TIEP_NHAN: (
        "Hồ sơ chưa được tiếp nhận, bạn vui lòng xem lý do trong thông báo và nộp lại khi đã "
        "đủ giấy tờ."
    ),
    DossierStatus.DANG_XU_LY: (
        "Cơ quan đang giải quyết hồ sơ, bạn chưa cần làm gì thêm và sẽ được báo khi có kết quả."
    ),
    DossierStatus.YEU_CAU_BO_SUNG: (
        "Bạn vui lòng bổ sung giấy tờ theo yêu cầu để cơ quan tiếp tục giải quyết hồ sơ."
    ),
    DossierStatus.YEU_CAU_NVTC: (
        "Bạn vui lòng nộp phí, lệ phí hoặc thuế theo thông báo để cơ quan tiếp tục giải quyết "
        "hồ sơ."
    ),
    DossierStatus.CONG_DAN_RUT: (
        "Hồ sơ đã được rút theo yêu cầu của bạn, bạn có thể nộp hồ sơ mới khi cần."
    ),
    DossierStatus.DUNG_XU_LY: (
        "Hồ sơ đã dừng xử lý, bạn vui lòng xem lý do trong thông báo hoặc liên hệ Bộ phận Một cửa."
    ),
    DossierStatus.DA_XU_LY_XONG: (
        "Hồ sơ đã có kết quả, bạn vui lòng đến nhận hoặc chờ nhận theo hình thức đã đăng ký."
    ),
    DossierStatus.DA_TRA_KET_QUA: "Kết quả đã được trả cho bạn, hồ sơ đã hoàn tất.",
}

_GROUPS: dict[DossierStatus, StatsGroup] = {
    DossierStatus.MOI_DANG_KY: StatsGroup.NOT_RECEIVED,
    DossierStatus.DUOC_TIEP_NHAN: StatsGroup.IN_PROGRESS,
    DossierStatus.KHONG_DUOC_TIEP_NHAN: StatsGroup.REFUSED,
    DossierStatus.DANG_XU_LY: StatsGroup.IN_PROGRESS,
    DossierStatus.YEU_CAU_BO_SUNG: StatsGroup.SUPPLEMENT,
    DossierStatus.YEU_CAU_NVTC: StatsGroup.STOPPED,
    DossierStatus.CONG_DAN_RUT: StatsGroup.RETURNED_TO_CITIZEN,
    DossierStatus.DUNG_XU_LY: StatsGroup.STOPPED,
    DossierStatus.DA_XU_LY_XONG: StatsGroup.DONE,
    DossierStatus.DA_TRA_KET_QUA: StatsGroup.DONE,
}

_GROUP_LABELS: dict[StatsGroup, str] = {
    StatsGroup.NOT_RECEIVED: "Chưa tiếp nhận",
    StatsGroup.REFUSED: "Không được tiếp nhận",
    StatsGroup.IN_PROGRESS: "Đang giải quyết",
    StatsGroup.SUPPLEMENT: "Chờ bổ sung",
    StatsGroup.STOPPED: "Tạm dừng, dừng xử lý",
    StatsGroup.RETURNED_TO_CITIZEN: "Trả lại, rút hồ sơ",
    StatsGroup.DONE: "Đã giải quyết",
}

#: Statuses after which no further transition is expected. "Đã xử lý xong" (9) is not one: the
#: result still has to be handed over ("Đã trả kết quả", 10).
TERMINAL = frozenset(
    {
        DossierStatus.KHONG_DUOC_TIEP_NHAN,
        DossierStatus.CONG_DAN_RUT,
        DossierStatus.DUNG_XU_LY,
        DossierStatus.DA_TRA_KET_QUA,
    }
)

#: Statuses whose dossiers were never received, so they have no deadline to meet.
NOT_RECEIVED = frozenset({DossierStatus.MOI_DANG_KY, DossierStatus.KHONG_DUOC_TIEP_NHAN})

#: Statuses that were reached only after the agency accepted the dossier; a withdrawal after one
#: of them ends processing, a withdrawal before does not (domain.md §2.3).
_ACCEPTED = frozenset(
    {
        DossierStatus.DUOC_TIEP_NHAN,
        DossierStatus.DANG_XU_LY,
        DossierStatus.YEU_CAU_BO_SUNG,
        DossierStatus.YEU_CAU_NVTC,
        DossierStatus.DUNG_XU_LY,
        DossierStatus.DA_XU_LY_XONG,
        DossierStatus.DA_TRA_KET_QUA,
    }
)

#: Which terminal state's time is the end of processing when a dossier reached several:
#: *Đã xử lý xong* > *Đã trả kết quả* > *Dừng xử lý* / *Từ chối* (domain.md §2.3), then a
#: withdrawal. A higher number wins.
END_PRIORITY: dict[DossierStatus, int] = {
    DossierStatus.DA_XU_LY_XONG: 4,
    DossierStatus.DA_TRA_KET_QUA: 3,
    DossierStatus.DUNG_XU_LY: 2,
    DossierStatus.KHONG_DUOC_TIEP_NHAN: 2,
    DossierStatus.CONG_DAN_RUT: 1,
}


def is_terminal(status: DossierStatus) -> bool:
    """Whether nothing more is expected to happen to a dossier in this status."""
    return status in TERMINAL


def is_finished(status: DossierStatus) -> bool:
    """Whether the dossier has its result (9 "Đã xử lý xong" or 10 "Đã trả kết quả")."""
    return status in (DossierStatus.DA_XU_LY_XONG, DossierStatus.DA_TRA_KET_QUA)


def is_received(status: DossierStatus) -> bool:
    """Whether the agency accepted the dossier, so that it has a deadline to meet."""
    return status not in NOT_RECEIVED


def ends_processing(status: DossierStatus, *, accepted: bool = True) -> bool:
    """Whether reaching ``status`` ends processing for the Decision 766 on-time rule.

    Done (9, 10), stopped (8) and refused (3) end processing; a withdrawal (7) ends it only for a
    dossier the agency had accepted, because a withdrawn online submission that was never
    received had no deadline (domain.md §2.3).
    """
    if status == DossierStatus.CONG_DAN_RUT:
        return accepted
    return status in END_PRIORITY


def end_of_processing(transitions: Iterable[tuple[DossierStatus, date]]) -> date | None:
    """The end-of-processing date (``NgayKetThucXuLy``) from a dossier's status history.

    ``transitions`` are (status reached, date or datetime) pairs in any order; datetimes are
    reduced to their date, as the rule compares dates. When several processing-ending
    states were reached, the one with the highest ``END_PRIORITY`` decides; if it was reached
    more than once (a dossier reopened), its latest date counts, because that is when processing
    really ended. ``None`` while processing has not ended.
    """

    def moment(event: tuple[DossierStatus, date]) -> tuple[date, time]:
        when = event[1]
        return (when.date(), when.time()) if isinstance(when, datetime) else (when, time.min)

    # A stable sort by moment keeps the given order of events of the same moment.
    events = [(DossierStatus(s), moment((s, w))[0]) for s, w in sorted(transitions, key=moment)]
    accepted = False
    best: tuple[int, date] | None = None
    for status, when in events:
        if status in _ACCEPTED:
            accepted = True
        if not ends_processing(status, accepted=accepted):
            continue
        rank = END_PRIORITY[status]
        if best is None or rank >= best[0]:
            best = (rank, when)
    return None if best is None else best[1]
