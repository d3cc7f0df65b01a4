"""What the assistant says when it asks for and records ratings."""

INVITE = (
    "Hồ sơ {code} đã có kết quả. Mời bạn đánh giá mức độ hài lòng với việc giải quyết hồ sơ "
    "(chỉ một chạm):"
)
LEVEL3 = {3: "😊 Rất hài lòng", 2: "🙂 Hài lòng", 1: "🙁 Không hài lòng"}
LEVEL5 = {
    5: "5 · Rất hài lòng",
    4: "4 · Hài lòng",
    3: "3 · Bình thường",
    2: "2 · Không hài lòng",
    1: "1 · Rất không hài lòng",
}
SKIP = "Bỏ qua"
THANKS_RATING = "Cảm ơn bạn đã đánh giá!"
ASK_SURVEY = (
    "Bạn có muốn trả lời thêm 5 câu hỏi ngắn (khoảng 1 phút) để cơ quan phục vụ tốt hơn không?"
)
SURVEY_YES = "Đồng ý"
SURVEY_NO = "Không, cảm ơn"
SURVEY_QUESTIONS = {
    "tiep_can": "Câu {n}/5. Bạn hài lòng thế nào về việc tiếp cận dịch vụ (nơi tiếp nhận, chỗ "
    "ngồi chờ, trang thiết bị, cổng trực tuyến)?",
    "tthc": "Câu {n}/5. Bạn hài lòng thế nào về thủ tục hành chính (niêm yết công khai, giấy tờ, "
    "phí, thời hạn đúng quy định)?",
    "cong_chuc": "Câu {n}/5. Bạn hài lòng thế nào về công chức trực tiếp giải quyết (thái độ, "
    "hướng dẫn tận tình, dễ hiểu)?",
    "ket_qua": "Câu {n}/5. Bạn hài lòng thế nào về kết quả giải quyết (đúng quy định, đầy đủ, "
    "chính xác)?",
    "pakn": "Câu {n}/5. Bạn hài lòng thế nào về việc tiếp nhận, xử lý góp ý, phản ánh, kiến nghị?",
}
ASPECT_NAMES = {
    "tiep_can": "Tiếp cận dịch vụ",
    "tthc": "Thủ tục hành chính",
    "cong_chuc": "Công chức giải quyết",
    "ket_qua": "Kết quả giải quyết",
    "pakn": "Xử lý góp ý, phản ánh",
    "tong_the": "Đánh giá chung",
}
ASK_COMMENT = "Bạn có góp ý gì thêm không? Bạn gõ góp ý (tối đa 1.000 ký tự), hoặc bấm Bỏ qua."
COMMENT_TOO_LONG = (
    "Góp ý dài {length} ký tự, vượt quá 1.000 ký tự. Bạn vui lòng rút gọn rồi gửi lại."
)
THANKS_SURVEY = (
    "Cảm ơn bạn đã dành thời gian góp ý! Ý kiến của bạn được gửi đến cơ quan giải quyết."
)
ALREADY_RATED = "Bạn đã đánh giá hồ sơ này rồi. Cảm ơn bạn!"
WHAT_TO_RATE = "Bạn muốn đánh giá gì?"
RATE_DOSSIER = "Hồ sơ {code}"
RATE_PLACE = "🏢 Nơi làm thủ tục (không có hồ sơ)"
LOOKUP_FIRST = (
    "Để đánh giá một hồ sơ, bạn tra cứu hồ sơ trước (gõ /tracuu). "
    "Bạn cũng có thể đánh giá nơi làm thủ tục:"
)
ASK_PLACE = 'Bạn làm thủ tục ở đâu? Gõ tên cơ quan, ví dụ: "phường Ninh Kiều".'
PICK_PLACE = "Có phải một trong các nơi sau?"
NO_PLACE = "Tôi chưa tìm thấy cơ quan này. Bạn gõ lại tên phường, xã hoặc sở, ngành."
RATE_PLACE_PROMPT = "Bạn hài lòng thế nào với việc phục vụ của {agency}?"
RATE_DOSSIER_PROMPT = "Bạn hài lòng thế nào với việc giải quyết hồ sơ {code}?"
ASK_TRIP = "Thông tin này có giúp bạn đỡ phải đi lại hỏi trực tiếp không?"
TRIP_YES = "Có, đỡ phải đi"
TRIP_NO = "Không"
THANKS_TRIP = "Cảm ơn bạn!"
ALERT = (
    "⚠️ Đánh giá không hài lòng\n"
    "Cơ quan: {agency}\n"
    "Thủ tục: {procedure}\n"
    "Hồ sơ: {code}\n"
    "Nội dung: {detail}"
)
ALERT_RATING = "Không hài lòng (đánh giá chung)"
ALERT_ASPECT = "{aspect}: {value}/5"
ALREADY_RATED_PLACE = (
    "Hôm nay bạn đã đánh giá nơi này rồi. Cảm ơn bạn! Mỗi người đánh giá một nơi "
    "tối đa một lần mỗi ngày."
)
