"""What the assistant says about the legal register and the review list (admins and citizens)."""

UPDATED = "Cập nhật: {date}"
OFFICIAL_LINK = "Xem văn bản, thủ tục chính thức: {url}"
UNDER_REVIEW = (
    "⚠️ Lưu ý: quy định liên quan vừa thay đổi, nội dung này đang được rà soát lại. "
    "Bạn nên đối chiếu với cơ quan giải quyết trước khi nộp hồ sơ."
)

ALERT_REPLACED = (
    "📚 Văn bản {number} ({title}) đã được thay thế bởi {by} từ {since}.\n"
    "{count} câu trả lời cần rà soát: {entries}\nXem danh sách: /canxem"
)
ALERT_EXPIRED = (
    "📚 Văn bản {number} ({title}) hết hiệu lực từ {since}.\n"
    "{count} câu trả lời cần rà soát: {entries}\nXem danh sách: /canxem"
)
ALERT_OVERDUE = (
    "📚 {count} câu trả lời đã quá hạn rà soát ({since}): {entries}\nXem danh sách: /canxem"
)

REVIEW_EMPTY = "Không có câu trả lời nào cần rà soát. 👍"
REVIEW_HEADER = "Câu trả lời cần rà soát ({count}):"
REVIEW_REPLACED = "- {entry}: văn bản {number} đã được thay thế bởi {by} (từ {since})"
REVIEW_EXPIRED = "- {entry}: văn bản {number} hết hiệu lực từ {since}"
REVIEW_OVERDUE = "- {entry}: quá hạn rà soát ({since})"
REVIEW_MORE = "… và {count} mục khác (xem đầy đủ: motcua kb stale)."
REVIEW_HOW = "Sửa xong một mục, gõ /canxem xong MÃ_MỤC để ghi nhận đã rà soát."

REGISTER_HELP = (
    "Sổ văn bản pháp luật:\n"
    "/vanban SỐ: xem một văn bản (ví dụ /vanban 74/2025/QH15)\n"
    "/vanban thaythe SỐ_CŨ SỐ_MỚI [dd/mm/yyyy] [canhbao]: đánh dấu văn bản bị thay thế\n"
    "/vanban hethan SỐ dd/mm/yyyy [canhbao]: đặt ngày hết hiệu lực\n"
    "/vanban canhbao SỐ bat|tat: lưu ý cho người dân khi câu trả lời đang rà soát\n"
    "/canxem: danh sách câu trả lời cần rà soát\n"
    "/canxem xong MÃ_MỤC [dd/mm/yyyy]: đã rà soát xong một mục (hạn rà soát lần sau)"
)
ENTRY_UNKNOWN = "Không có mục «{id}» trong cơ sở tri thức."
REVIEWED = "Đã ghi nhận rà soát mục {id} hôm nay. Hạn rà soát lần sau: {date}."
REGISTER_UNKNOWN = "Không có văn bản {number} trong sổ văn bản."
REGISTER_BAD_DATE = "Ngày «{value}» không hợp lệ. Bạn viết theo dạng dd/mm/yyyy."
REGISTER_SHOW = (
    "{number}: {title}\nCơ quan ban hành: {issuer}\nHiệu lực từ: {effective}{expired}{replaced}"
    "{link}\nLưu ý khi rà soát: {caveat}"
)
REGISTER_DONE = "Đã cập nhật văn bản {number}. {count} câu trả lời được đưa vào danh sách rà soát."
YES, NO = "bật", "tắt"
