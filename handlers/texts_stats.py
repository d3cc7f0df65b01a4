"""What the assistant says to staff about statistics and alerts."""

UNKNOWN_AGENCY = "Không tìm thấy cơ quan có mã {code}."
NOT_YOURS = (
    "Bạn chỉ xem được số liệu của cơ quan mình và các đơn vị trực thuộc. "
    "Gõ /thongke (không kèm mã) để xem số liệu của cơ quan bạn."
)
CHART_CAPTION = "Biểu đồ tỷ lệ đúng hạn, mức độ hài lòng theo tháng và theo khía cạnh."
CITY = "toàn thành phố"
REPORT = "Báo cáo {period} — {where} (tệp Excel)."
ALERTS_ON = "đang bật"
ALERTS_OFF = "đang tắt"
ALERTS_USAGE = (
    "Cảnh báo đánh giá không hài lòng {state}. Gõ /canhbao bật hoặc /canhbao tắt để thay đổi."
)
ALERTS_SET_ON = "Đã bật cảnh báo: bạn sẽ nhận tin khi có đánh giá không hài lòng."
ALERTS_SET_OFF = "Đã tắt cảnh báo đánh giá không hài lòng."
