"""What the assistant says about reflections (phản ánh, kiến nghị), to citizens and to staff."""

# ---------------------------------------------------------------- citizens
OFFER = "Bạn có muốn gửi phản ánh để cơ quan trả lời không?"
OFFER_YES = "📝 Gửi phản ánh"
OFFER_NO = "Để sau"
OFFER_YES_MENU = "📝 Gửi phản ánh, kiến nghị"
OFFER_DECLINED = "Cảm ơn bạn. Khi cần, bạn gõ /phananh để gửi phản ánh."
WHAT_ABOUT = "Bạn muốn phản ánh về việc gì?"
ABOUT_DOSSIER = "Hồ sơ {code}"
ABOUT_PLACE = "🏢 Nơi làm thủ tục"
ABOUT_ASSISTANT = "🤖 Câu trả lời của trợ lý"
LOOKUP_FOR_DOSSIER = "Để phản ánh về một hồ sơ, bạn tra cứu hồ sơ trước (gõ /tracuu)."
ASK_PLACE = 'Bạn làm thủ tục ở đâu? Gõ tên cơ quan, ví dụ: "phường Ninh Kiều".'
PICK_PLACE = "Có phải một trong các nơi sau?"
NO_PLACE = "Tôi chưa tìm thấy cơ quan này. Bạn gõ lại tên phường, xã hoặc sở, ngành."
ASK_TEXT = (
    "Phản ánh gửi đến: {agency}.\n"
    "Bạn mô tả ngắn gọn sự việc: việc gì, ở đâu, khi nào (tối đa 1.000 ký tự). "
    "Bạn không cần ghi số CCCD hay số điện thoại."
)
TEXT_TOO_SHORT = "Bạn vui lòng mô tả rõ hơn một chút (ít nhất 10 ký tự)."
TEXT_TOO_LONG = "Nội dung dài {length} ký tự, vượt quá 1.000 ký tự. Bạn vui lòng rút gọn."
ASK_PHOTO = (
    "Bạn có thể gửi kèm 1 ảnh chụp (JPG, PNG hoặc WebP, tối đa {limit}), "
    "hoặc bấm «Gửi luôn» để gửi không kèm ảnh."
)
SEND_NOW = "📨 Gửi luôn"
CANCEL = "Hủy"
CANCELLED = "Đã hủy, phản ánh chưa được gửi."
PHOTO_REFUSED = {
    "size": "Ảnh quá lớn (tối đa {limit}). Bạn gửi ảnh nhỏ hơn, hoặc bấm «Gửi luôn».",
    "format": "Tôi chỉ nhận ảnh JPG, PNG hoặc WebP. Bạn gửi lại ảnh, hoặc bấm «Gửi luôn».",
    "unreadable": "Tôi không đọc được ảnh này. Bạn gửi ảnh khác, hoặc bấm «Gửi luôn».",
}
PHOTO_AS_FILE = (
    "Bạn gửi ảnh dưới dạng tệp (bấm 📎, chọn Tệp rồi chọn ảnh) để ảnh được giữ nguyên, "
    "hoặc bấm «Gửi luôn»."
)
TEXT_ONLY = "Bạn vui lòng mô tả sự việc bằng chữ."
PHOTO_NOT_NOW = "Tôi chỉ nhận ảnh khi bạn đang gửi phản ánh. Gõ /phananh để bắt đầu."
WAITING_PHOTO = "Bạn gửi ảnh, hoặc bấm «Gửi luôn» để gửi phản ánh."
RECEIVED = (
    "✅ Đã nhận phản ánh số {ref}.\n"
    "Cơ quan giải quyết: {agency}.\n"
    "Hạn trả lời: {due} ({days} ngày làm việc).\n"
    "Câu trả lời sẽ được gửi vào khung trò chuyện này."
)
DAILY_LIMIT = (
    "Hôm nay bạn đã gửi {limit} phản ánh, là số tối đa trong một ngày. "
    "Bạn vui lòng gửi tiếp vào ngày mai, hoặc gọi tổng đài {hotline}."
)
NO_AGENCY = "Hiện chưa có cơ quan tiếp nhận phản ánh. Bạn vui lòng gọi tổng đài {hotline}."
ANSWER = "📩 Trả lời phản ánh {ref} của {agency}:\n\n{answer}"
ASK_VERDICT = "Vấn đề bạn phản ánh đã được giải quyết chưa?"
VERDICT_YES = "✅ Đã giải quyết"
VERDICT_NO = "❌ Chưa giải quyết"
VERDICT_THANKS = "Cảm ơn bạn đã cho biết kết quả!"
VERDICT_THANKS_NO = (
    "Cảm ơn bạn. Ý kiến «chưa giải quyết» đã được ghi nhận và cơ quan sẽ thấy trong thống kê. "
    "Bạn có thể gửi phản ánh mới (/phananh) hoặc gọi tổng đài {hotline}."
)
VERDICT_ALREADY = "Bạn đã cho biết kết quả của phản ánh này rồi. Cảm ơn bạn!"
NOT_IN_SCOPE = (
    "Phản ánh {ref}: {agency} cho biết nội dung này không thuộc thẩm quyền giải quyết "
    "của cơ quan.\nLý do: {reason}"
)
FORWARDED = "Phản ánh {ref} đã được chuyển đến {agency} để giải quyết. Hạn trả lời vẫn là {due}."

# ---------------------------------------------------------------- staff
NEW = (
    "📝 Phản ánh mới {ref}\nCơ quan: {agency}\nVề: {about}\nHạn trả lời: {due}\nGõ /phananh để xem."
)
LIST_EMPTY = "Không có phản ánh nào đang chờ trả lời."
LIST_HEAD = "Phản ánh đang chờ trả lời ({count}). ⏰ là đã quá hạn:"
LIST_ITEM = "{flag}{ref} · hạn {due}"
DETAIL = (
    "Phản ánh {ref}{flag}\n"
    "Người gửi: {who}\n"
    "Cơ quan giải quyết: {agency}\n"
    "Về: {about}\n"
    "Nhận ngày {received}, hạn trả lời {due}\n"
    "Nội dung: {text}"
)
DETAIL_PHOTOS = "Ảnh kèm theo: {count}"
OVERDUE_FLAG = " ⏰ QUÁ HẠN"
ABOUT_DOSSIER_STAFF = "hồ sơ {code}"
ABOUT_PLACE_STAFF = "nơi làm thủ tục"
ABOUT_ASSISTANT_STAFF = "câu trả lời của trợ lý ảo"
DO_ANSWER = "✍️ Trả lời"
DO_FORWARD = "↪️ Chuyển cơ quan khác"
DO_NOT_IN_SCOPE = "🚫 Không thuộc thẩm quyền"
ASK_ANSWER = "Gõ câu trả lời gửi người dân (tối đa 2.000 ký tự), hoặc bấm Hủy."
ASK_TARGET = "Gõ mã hoặc tên cơ quan nhận phản ánh, hoặc bấm Hủy."
PICK_TARGET = "Chuyển đến cơ quan nào?"
NO_TARGET = "Không tìm thấy cơ quan phù hợp. Gõ lại mã hoặc tên cơ quan."
TARGET_NOT_ALLOWED = (
    "Phản ánh về hồ sơ chỉ chuyển được cho cơ quan của hồ sơ đó hoặc cơ quan cấp trên."
)
ASK_FORWARD_REASON = "Chuyển đến {agency}. Gõ lý do chuyển, hoặc bấm Hủy."
ASK_SCOPE_REASON = "Gõ lý do không thuộc thẩm quyền (người dân sẽ nhận được), hoặc bấm Hủy."
REASON_TOO_SHORT = "Bạn ghi lý do rõ hơn (ít nhất 5 ký tự)."
ANSWER_TOO_LONG = "Câu trả lời dài {length} ký tự, tối đa 2.000. Bạn rút gọn giúp."
ANSWERED = "Đã gửi câu trả lời phản ánh {ref} cho người dân."
ANSWER_HELD = (
    "Đã lưu câu trả lời phản ánh {ref}. Người dân dùng Zalo và đã quá 7 ngày không nhắn "
    "nên Zalo chưa cho gửi: câu trả lời sẽ được gửi ngay khi người dân nhắn lại."
)
FORWARD_DONE = "Đã chuyển phản ánh {ref} đến {agency}."
CLOSED_DONE = "Đã đóng phản ánh {ref} (không thuộc thẩm quyền) và báo cho người dân."
NOT_OPEN = "Phản ánh {ref} đã được xử lý rồi."
GONE = "Không tìm thấy phản ánh này, hoặc bạn không có quyền xem."
STAFF_CANCELLED = "Đã thôi, phản ánh chưa thay đổi."
ESCALATED = (
    "⏰ Phản ánh {ref} quá hạn trả lời\n"
    "Cơ quan giải quyết: {agency}\n"
    "Hạn trả lời: {due}\n"
    "Gõ /phananh để xem và đôn đốc."
)
