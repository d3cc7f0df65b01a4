"""What the assistant says during a dossier lookup and in status notifications."""

ASK_CODE = (
    "Mời bạn nhập mã hồ sơ, in trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.\n"
    "Ví dụ: 000.00.12.H13-260115-0042"
)
BAD_CODE = (
    "Mã hồ sơ chưa đúng dạng. Mã có dạng 000.00.12.H13-260115-0042 "
    "(mã cơ quan - ngày nộp - số thứ tự). Mời bạn nhập lại."
)
ASK_VERIFICATION = (
    "Để bảo vệ thông tin cá nhân, mời bạn nhập số CCCD/căn cước của chủ hồ sơ "
    "hoặc số điện thoại đã đăng ký khi nộp hồ sơ {code}."
)
BAD_IDENTIFIER = "Bạn vui lòng nhập số CCCD (12 số) hoặc số điện thoại (10 số) của chủ hồ sơ."
NOT_MATCHED = (
    "Không tìm thấy hồ sơ khớp với mã và thông tin bạn nhập. "
    "Bạn kiểm tra lại mã hồ sơ và số CCCD hoặc số điện thoại rồi nhập lại."
)
LOCKED = (
    "Bạn đã nhập sai quá số lần cho phép. Để bảo vệ hồ sơ, việc tra cứu tạm dừng "
    "đến {until}. Bạn vui lòng thử lại sau."
)
CANCEL = "✖️ Hủy tra cứu"
HEADER = "📄 Hồ sơ {code}"
PROCEDURE = "Thủ tục: {name}"
AGENCY = "Nơi tiếp nhận: {name}"
OWNER = "Chủ hồ sơ: {name}"
STATUS = "Trạng thái: {label}"
RECEIVED = "Ngày tiếp nhận: {day}"
DUE = "Ngày hẹn trả: {day}"
RESCHEDULED = " (hẹn lại: {day})"
TIMELINESS = "Tiến độ: {label}"
SUPPLEMENT = "Cần bổ sung: {reason}"
REFUSAL = "Lý do: {reason}"
COLLECT = (
    "Bạn mang Giấy tiếp nhận hồ sơ và hẹn trả kết quả cùng giấy tờ tùy thân đến {agency} "
    "để nhận kết quả, hoặc nhận qua bưu điện nếu đã đăng ký."
)
SUBSCRIBE = "🔔 Báo tôi khi có thay đổi"
UNSUBSCRIBE = "🔕 Tắt thông báo"
ANOTHER = "🔎 Tra cứu hồ sơ khác"
MENU = "↩️ Menu chính"
SUBSCRIBED = (
    "Đã bật thông báo. Tôi sẽ nhắn bạn khi hồ sơ thay đổi trạng thái. Gõ /huythongbao để tắt."
)
UNSUBSCRIBED = "Đã tắt thông báo cho hồ sơ này."
UNSUBSCRIBED_ALL = "Đã tắt mọi thông báo hồ sơ cho cuộc trò chuyện này."
NOT_SUBSCRIBED = "Bạn chưa bật thông báo cho hồ sơ nào."
NOTIFY = "🔔 Hồ sơ {code} ({procedure}) đã chuyển sang trạng thái: {label}."
PRIVATE_ONLY = (
    "🔒 Để bảo vệ thông tin cá nhân, việc tra cứu hồ sơ chỉ thực hiện trong tin nhắn riêng. "
    "Bạn vui lòng bấm vào tên trợ lý, chọn nhắn tin riêng rồi gõ /tracuu."
)
