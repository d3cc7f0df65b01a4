"""Every sentence the assistant says to citizens, in one place so that it can be reviewed.

Short, polite Vietnamese for a phone screen. ``{hotline}`` is filled from the settings.
"""

GREETING = (
    "Xin chào! Tôi là trợ lý ảo Một cửa của thành phố Cần Thơ.\n"
    "Tôi giúp bạn tìm hiểu thủ tục hành chính (giấy tờ, nơi nộp, thời hạn, lệ phí), "
    "tra cứu hồ sơ và ghi nhận đánh giá của bạn.\n"
    "Bạn cứ gõ câu hỏi, có dấu hay không dấu đều được."
)
MENU_PROMPT = "Bạn muốn làm gì?"
HELP = (
    "Cách dùng trợ lý:\n"
    '- Gõ câu hỏi, ví dụ: "làm giấy khai sinh cần giấy tờ gì".\n'
    "- Bấm các nút gợi ý, hoặc gõ số thứ tự của lựa chọn.\n"
    "- /tracuu: tra cứu hồ sơ bằng mã hồ sơ; /huythongbao: tắt thông báo hồ sơ.\n"
    "- /danhgia: đánh giá mức độ hài lòng.\n"
    "- /phananh: gửi phản ánh, kiến nghị để cơ quan trả lời.\n"
    "- /menu: danh mục chức năng; /start: bắt đầu lại.\n"
    "Cần hỗ trợ thêm, bạn gọi tổng đài {hotline}."
)
ASK_PROMPT = 'Mời bạn gõ câu hỏi về thủ tục cần làm, ví dụ: "đăng ký tạm trú ở đâu".'
CHOOSE_FIELD = "Mời bạn chọn lĩnh vực:"
CHOOSE_PROCEDURE = "Lĩnh vực «{category}». Mời bạn chọn thủ tục:"
CHOOSE_TOPIC = "Thủ tục «{procedure}». Bạn muốn biết điều gì?"
LEGAL_BASIS = "Căn cứ: {basis}"
WAS_IT_HELPFUL = "Câu trả lời có hữu ích không?"
HELPFUL_YES = "👍 Có"
HELPFUL_NO = "👎 Chưa"
THANKS_HELPFUL = "Cảm ơn bạn đã phản hồi!"
THANKS_NOT_HELPFUL = (
    "Cảm ơn bạn. Tôi sẽ ghi nhận để hoàn thiện câu trả lời. "
    "Bạn có thể hỏi lại theo cách khác hoặc gọi tổng đài {hotline}."
)
ALREADY_RATED = "Bạn đã góp ý cho câu trả lời này rồi. Cảm ơn bạn!"
DID_YOU_MEAN = "Có phải bạn muốn hỏi:"
NONE_OF_THESE = "Không phải các câu trên"
RELATED = "Câu hỏi liên quan:"
FALLBACK = (
    "Xin lỗi, tôi chưa tìm được câu trả lời phù hợp.\n"
    'Bạn thử hỏi ngắn gọn hơn (ví dụ: "lệ phí đăng ký thường trú"), xem thủ tục theo lĩnh vực, '
    "hoặc gọi tổng đài {hotline}."
)
OUT_OF_SCOPE = (
    "Câu hỏi này nằm ngoài những gì tôi có thông tin.\n"
    "Tôi trả lời về thủ tục hành chính: {fields}.\n"
    "Bạn có thể tìm thêm trên Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) "
    "hoặc gọi tổng đài {hotline}."
)
MISSING_ASPECT = (
    "Về thủ tục «{procedure}», tôi chưa có thông tin về {aspect}. "
    "Tôi có các nội dung sau, hoặc bạn gọi tổng đài {hotline}:"
)
EMPTY_TEXT = "Bạn hãy gõ câu hỏi, hoặc bấm /menu để xem các chức năng."
TOO_LONG = "Tin nhắn dài quá ({length} ký tự). Bạn vui lòng hỏi ngắn gọn, dưới {limit} ký tự."
UNKNOWN_COMMAND = "Xin lỗi, tôi chưa hiểu lệnh này. Bạn gõ /menu để xem các chức năng."
STALE_CHOICE = "Lựa chọn này đã cũ hoặc không còn hiệu lực. Mời bạn chọn lại:"
UNSUPPORTED = (
    "Hiện tôi chỉ đọc được tin nhắn chữ và các nút bấm. Bạn vui lòng gõ câu hỏi bằng chữ nhé."
)
FILE_NOT_ACCEPTED = (
    "Tôi chưa nhận tệp qua khung trò chuyện. "
    "Hồ sơ thủ tục bạn nộp trên Cổng Dịch vụ công quốc gia hoặc ứng dụng VNeID."
)
APOLOGY = (
    "Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được. Bạn vui lòng thử lại sau ít phút."
)

MENU_ASK = "❓ Hỏi về thủ tục"
MENU_BROWSE = "📚 Thủ tục theo lĩnh vực"
MENU_DOSSIER = "🔎 Tra cứu hồ sơ"
MENU_RATE = "⭐ Đánh giá, phản ánh"
MENU_HELP = "ℹ️ Hướng dẫn"
BACK_TO_MENU = "↩️ Menu chính"
BACK_TO_FIELDS = "↩️ Các lĩnh vực"
OTHER_PROCEDURE = "Thông tin chung"
