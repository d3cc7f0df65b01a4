"""Every sentence the assistant says to admins maintaining the knowledge base.

Short Vietnamese for a phone screen. Placeholders in braces are filled by ``handlers.admin``.
``PROBLEMS`` turns the validator's problems (``knowledge.kbfile``, in English) into Vietnamese.
"""

from __future__ import annotations

import re

HELP = (
    "Quản trị cơ sở tri thức:\n"
    "- /faq tìm <từ khóa>: tìm mục hỏi đáp\n"
    "- /faq thêm: thêm mục mới\n"
    "- /faq lĩnh vực: bật/tắt cả một lĩnh vực\n"
    "- /faq xuất [yaml|csv|xlsx]: tải cơ sở tri thức\n"
    "- Gửi tệp .yaml, .csv, .xlsx: kiểm tra, xem trước rồi nhập\n"
    "- /chuatraloi: câu hỏi chưa trả lời được\n"
    "- /huy: hủy thao tác đang làm"
)
ASK_KEYWORDS = "Bạn gõ từ khóa cần tìm, ví dụ: /faq tìm khai sinh"
RESULTS = "Kết quả cho «{query}» ({count} mục). Chọn một mục để xem:"
NO_RESULTS = "Không tìm thấy mục nào cho «{query}». Bạn thử từ khóa khác."
NOT_FOUND = "Không có mục «{id}»."
DISABLED_MARK = "⛔ "

# An entry as an admin reads it.
ENTRY_ON = "đang bật"
ENTRY_OFF = "⛔ đang tắt"
ENTRY_HEAD = "📄 {id} ({status})"
FIELD_LABELS = {
    "id": "Mã",
    "category": "Lĩnh vực",
    "procedure": "Thủ tục",
    "question": "Câu hỏi",
    "alternatives": "Cách hỏi khác",
    "keywords": "Từ khóa",
    "answer": "Trả lời",
    "legal_basis": "Căn cứ",
    "source_url": "Nguồn",
    "enabled": "Trạng thái",
}
ON, OFF = "bật", "tắt"
NONE = "(trống)"
LAST_CHANGE = "Sửa lần cuối: {at}, {action}."
EDIT_ANSWER = "✏️ Sửa câu trả lời"
ADD_ALTERNATIVE = "➕ Thêm cách hỏi"
DISABLE = "⛔ Tắt mục"
ENABLE = "✅ Bật lại mục"
HISTORY = "🕘 Lịch sử"
ROLLBACK = "↩️ Hoàn tác lần sửa cuối"

# Guided steps.
CANCEL = "✖️ Hủy"
CONFIRM = "✅ Xác nhận"
ASK_ANSWER = "Bạn gõ câu trả lời mới cho «{question}» (gửi trong một tin nhắn)."
ASK_ALTERNATIVE = "Bạn gõ một cách hỏi khác cho «{question}», đúng như người dân hay hỏi."
EMPTY_INPUT = "Nội dung đang trống. Bạn gõ lại, hoặc bấm Hủy."
TOO_LONG = "Dài {length} ký tự, vượt quá {limit}. Bạn rút gọn rồi gửi lại."
ALREADY_PHRASING = "Cách hỏi này đã có trong mục. Bạn gõ cách hỏi khác, hoặc bấm Hủy."
UNCHANGED = "Nội dung giống hệt hiện tại, không có gì để sửa. Bạn gõ lại, hoặc bấm Hủy."
ASK_CATEGORY = "Thêm mục mới (bước 1/4). Chọn lĩnh vực, hoặc gõ tên lĩnh vực mới:"
ASK_QUESTION = "Bước 2/4. Bạn gõ câu hỏi chính của mục (câu người dân hay hỏi)."
ASK_QUESTION_PREFILLED = "Bước 2/4. Câu hỏi gợi ý:\n«{question}»\nBấm Giữ nguyên, hoặc gõ câu khác."
KEEP = "👍 Giữ nguyên"
ASK_NEW_ANSWER = "Bước 3/4. Bạn gõ câu trả lời."
ASK_LEGAL = "Bước 4/4. Bạn gõ căn cứ pháp lý (ví dụ: Luật Hộ tịch 2014), hoặc bấm Bỏ qua."
SKIP = "⏭ Bỏ qua"
REMIND_CONFIRM = "Bạn đang có một thay đổi chờ xác nhận. Bấm Xác nhận hoặc Hủy."

# Previews and results.
PREVIEW_ANSWER = "Xem trước: sửa câu trả lời của «{id}».\n\nTRƯỚC:\n{before}\n\nSAU:\n{after}"
PREVIEW_ALTERNATIVE = (
    "Xem trước: thêm cách hỏi cho «{id}».\nCâu hỏi: {question}\nTRƯỚC: {before}\nSAU: {after}"
)
PREVIEW_DISABLE = (
    "Xem trước: TẮT mục «{id}» ({question}).\n"
    "Trạng thái: đang bật → tắt. Người dân sẽ không nhận câu trả lời này nữa."
)
PREVIEW_ENABLE = "Xem trước: BẬT lại mục «{id}» ({question}).\nTrạng thái: đang tắt → bật."
PREVIEW_CATEGORY_OFF = (
    "Xem trước: TẮT cả lĩnh vực «{category}»: {count} mục đang bật → tắt. "
    "Người dân sẽ không nhận các câu trả lời này nữa."
)
PREVIEW_CATEGORY_ON = "Xem trước: BẬT lại cả lĩnh vực «{category}»: {count} mục đang tắt → bật."
PREVIEW_NEW = "Xem trước mục mới:\n{fields}"
PREVIEW_ROLLBACK = "Xem trước: hoàn tác «{action}» lúc {at} của mục «{id}».\n{diff}"
ROLLBACK_DELETES = "Mục này được tạo bởi thay đổi đó: hoàn tác sẽ XÓA mục."
DIFF_LINE = "• {label}: {before} → {after}"
NO_HISTORY = "Mục «{id}» chưa có thay đổi nào để hoàn tác."
HISTORY_HEAD = "Lịch sử của «{id}» (mới nhất trước):"
HISTORY_LINE = "• {at}: {action}, bởi {actor}"
HISTORY_EMPTY = "Mục «{id}» chưa có thay đổi nào từ khi nạp."

DONE_LIVE = " Thay đổi có hiệu lực trong vài giây."
DONE_ANSWER = "Đã sửa câu trả lời của «{id}»." + DONE_LIVE
DONE_ALTERNATIVE = "Đã thêm cách hỏi cho «{id}»." + DONE_LIVE
DONE_DISABLE = "Đã tắt mục «{id}»." + DONE_LIVE
DONE_ENABLE = "Đã bật lại mục «{id}»." + DONE_LIVE
DONE_CATEGORY_OFF = "Đã tắt {count} mục của lĩnh vực «{category}»." + DONE_LIVE
DONE_CATEGORY_ON = "Đã bật lại {count} mục của lĩnh vực «{category}»." + DONE_LIVE
DONE_NEW = "Đã thêm mục «{id}»." + DONE_LIVE
DONE_ROLLBACK = "Đã hoàn tác thay đổi cuối của «{id}»." + DONE_LIVE
CANCELLED = "Đã hủy. Không có gì thay đổi."
NOTHING_TO_CANCEL = "Không có thao tác nào đang chờ."

# Refusals of stale confirmations.
STALE_CONFIRM = (
    "Nút xác nhận này thuộc một tin nhắn cũ hoặc thao tác đã xong/đã hủy. Không có gì thay đổi."
)
FLOW_EXPIRED = "Thao tác quản trị trước đã quá 1 giờ nên đã hết hạn. Không có gì thay đổi."
CHANGED_SINCE_PREVIEW = (
    "Mục «{id}» đã bị thay đổi sau khi bạn xem trước, nên tôi không áp dụng. "
    "Bạn mở lại mục để xem bản mới nhất."
)
CHANGED_CATEGORY = (
    "Lĩnh vực «{category}» đã thay đổi sau khi bạn xem trước, nên tôi không áp dụng. "
    "Bạn xem lại bằng /faq lĩnh vực."
)
CHANGED_IMPORT = (
    "Cơ sở tri thức đã thay đổi sau khi bạn xem trước tệp, nên tôi không áp dụng. "
    "Bạn gửi lại tệp để xem trước lần nữa."
)
IMPORT_EXPIRED = "Bản xem trước tệp đã hết hạn (quá 1 giờ) hoặc đã được áp dụng. Bạn gửi lại tệp."

# Categories (the kill switch).
CATEGORIES = "Các lĩnh vực (số mục đang bật/tổng số). Chọn để bật hoặc tắt cả lĩnh vực:"
CATEGORY_LINE = "{category} ({enabled}/{total})"
CATEGORY_VIEW = "Lĩnh vực «{category}»: {enabled}/{total} mục đang bật."
CATEGORY_OFF = "⛔ Tắt cả lĩnh vực"
CATEGORY_ON = "✅ Bật lại cả lĩnh vực"
NO_ENTRIES = "Cơ sở tri thức đang trống."

# Files.
FILE_REFUSED = "Tệp «{name}» có {count} lỗi nên không nhập được; không có gì thay đổi:\n{problems}"
FILE_MORE_PROBLEMS = "… và {count} lỗi khác (xem tệp đính kèm)."
FILE_UNREADABLE = (
    "Tệp «{name}» không đọc được (cấu trúc lồng nhau quá sâu hoặc hỏng). Không có gì thay đổi."
)
FILE_TOO_BIG_UNPACKED = (
    "Tệp «{name}» khi giải nén lớn hơn {limit} MB, có thể là tệp độc hại. Không có gì thay đổi."
)
FILE_NO_CHANGE = (
    "Tệp «{name}»: {count} mục hợp lệ, giống hệt cơ sở tri thức hiện tại. Không có gì để nhập."
)
IMPORT_PREVIEW_HEAD = "Tệp «{name}»: {count} mục hợp lệ. Nếu áp dụng:"
IMPORT_PREVIEW_REPLACE_HEAD = "Tệp «{name}»: {count} mục hợp lệ. Nếu THAY TOÀN BỘ cơ sở tri thức:"
IMPORT_ADDED = "➕ Thêm {count} mục:"
IMPORT_CHANGED = "✏️ Sửa {count} mục:"
IMPORT_REMOVED = "🗑 Xóa {count} mục:"
IMPORT_UNCHANGED = "Giữ nguyên {count} mục giống hệt."
IMPORT_KEPT = "{count} mục đang có nhưng không nằm trong tệp: giữ nguyên."
IMPORT_MORE = "  … và {count} mục khác"
IMPORT_CHANGED_FIELDS = "{id} ({fields})"
IMPORT_APPLY = "✅ Áp dụng"
IMPORT_REPLACE = "🔁 Thay toàn bộ (xóa {count} mục)"
IMPORT_DONE = "Đã nhập tệp «{name}»: thêm {added}, sửa {changed}, xóa {removed} mục." + DONE_LIVE
IMPORT_FAILED = "Nhập tệp không thành công nên không có gì thay đổi. Bạn thử gửi lại tệp."
IMPORT_UNDO = "↩️ Hoàn tác lần nhập này"
PREVIEW_UNDO_IMPORT = (
    "Xem trước: hoàn tác lần nhập tệp «{name}»: {count} mục trở lại như trước khi nhập."
)
UNDO_IMPORT_BLOCKED = (
    "Không hoàn tác được lần nhập này vì {count} mục đã được sửa sau đó ({ids}). "
    "Bạn hoàn tác từng mục trong lịch sử của mục."
)
DONE_UNDO_IMPORT = "Đã hoàn tác lần nhập: {count} mục trở lại như trước." + DONE_LIVE
EXPORTED = "Cơ sở tri thức: {count} mục ({fmt}), kể cả mục đang tắt."
UNKNOWN_FORMAT = (
    "Định dạng «{fmt}» không hỗ trợ. Dùng: /faq xuất yaml, /faq xuất csv, /faq xuất xlsx."
)

# The unanswered-questions inbox.
INBOX_EMPTY = "Không có câu hỏi nào chưa trả lời được. 🎉"
INBOX_HEAD = "Câu hỏi chưa trả lời được: {groups} nhóm, {questions} lượt hỏi (nhiều nhất trước):"
INBOX_LINE = "{n}. «{text}» · {count} lượt, gần nhất {at}"
INBOX_BUTTON = "{n}. {text} ({count})"
GROUP_VIEW = (
    "Nhóm «{text}»: {count} lượt ({fallback} không trả lời được, {unhelpful} bị đánh giá "
    "chưa hữu ích), gần nhất {at}.\nCác cách hỏi:\n{variants}"
)
GROUP_NEAREST = "Thêm thành cách hỏi của mục gần nhất, tạo mục mới, hoặc bỏ qua:"
GROUP_AS_ALTERNATIVE = "➕ Vào: {question}"
GROUP_NEW_ENTRY = "🆕 Tạo mục mới"
GROUP_IGNORE = "🙈 Bỏ qua nhóm"
GROUP_IGNORED = "Đã bỏ qua nhóm «{text}» ({count} lượt)."
GROUP_GONE = "Nhóm này không còn trong hộp thư (đã xử lý, hoặc đã có câu hỏi mới). Gõ /chuatraloi."

ACTIONS = {
    "answer": "sửa câu trả lời",
    "alternative": "thêm cách hỏi",
    "disable": "tắt mục",
    "enable": "bật mục",
    "disable_category": "tắt cả lĩnh vực",
    "enable_category": "bật cả lĩnh vực",
    "create": "tạo mục",
    "import": "nhập tệp",
    "rollback": "hoàn tác",
}

WHERE = ((r"^line (\d+)$", r"dòng \1"), (r"^row (\d+)$", r"hàng \1"), (r"^entry (\d+)$", r"mục \1"))
PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"^required field is empty$", "bắt buộc nhưng đang trống"),
    (r"^unknown field$", "trường không được hỗ trợ"),
    (r"^unknown column$", "cột không được hỗ trợ"),
    (r"^required column is missing$", "thiếu cột bắt buộc"),
    (r"^duplicate id '(.*)' \(first at (.*)\)$", r"trùng mã «\1» (đã có ở \2)"),
    (
        r"^'(.*)' must be a slug of a-z, 0-9, '-' and '/', at most (\d+) characters$",
        r"mã «\1» chỉ được gồm a-z, 0-9, '-' và '/', tối đa \2 ký tự",
    ),
    (r"^longer than (\d+) characters$", r"dài quá \1 ký tự"),
    (r"^must be an http\(s\) address$", "phải là địa chỉ http(s)"),
    (r"^each entry must be a mapping of fields$", "mỗi mục phải là các cặp «trường: giá trị»"),
    (
        r"^not UTF-8 text.*$",
        "tệp không phải văn bản UTF-8: bạn lưu lại với mã hóa UTF-8 (Excel: «CSV UTF-8»)",
    ),
    (
        r"^invalid YAML: YAML aliases.*$",
        "YAML không được dùng tham chiếu (&tên, *tên)",
    ),
    (r"^invalid YAML: (.*)$", r"YAML không hợp lệ: \1"),
    (r"^expected a mapping with a list 'entries'$", "cần có danh sách «entries:» các mục"),
    (r"^only version 1 is supported$", "chỉ hỗ trợ «version: 1»"),
    (r"^the file is empty$", "tệp rỗng"),
    (r"^nested too deeply to be a knowledge file$", "cấu trúc lồng nhau quá sâu, không đọc được"),
    (r"^invalid CSV: (.*)$", r"CSV không hợp lệ: \1"),
    (r"^not a valid XLSX workbook.*$", "không phải tệp Excel (.xlsx) hợp lệ"),
    (r"^larger than (\d+) MB$", r"lớn hơn \1 MB"),
    (r"^more than (\d+) entries$", r"nhiều hơn \1 mục"),
    (
        r"^unknown file type '(.*)': use \.yaml, \.csv or \.xlsx$",
        r"loại tệp «\1» không hỗ trợ: dùng .yaml, .csv hoặc .xlsx",
    ),
    (r"^cannot read the file.*$", "không đọc được tệp"),
)
PROBLEM_LINE = "• {where}{field}: {message}"
PROBLEM_FIELD = ", trường {field}"
FILE_WHERE = "tệp"


def translate_where(where: str) -> str:
    """ "line 12" -> "dòng 12"; "file" -> "tệp"; anything else unchanged."""
    if where == "file":
        return FILE_WHERE
    for pattern, template in WHERE:
        if re.match(pattern, where):
            return re.sub(pattern, template, where)
    return where


def translate_problem(message: str) -> str:
    """The validator's English message in Vietnamese (unchanged if it is not known)."""
    for pattern, template in PROBLEMS:
        if re.match(pattern, message):
            translated = re.sub(pattern, template, message)
            return re.sub(
                r"\b(line|row|entry) (\d+)\b", lambda m: translate_where(m[0]), translated
            )
    return message
