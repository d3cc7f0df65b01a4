"""What the assistant says to staff and admins about the web console and their commands."""

LINK = (
    "Đường dẫn đăng nhập trang quản trị (dùng được 1 lần, trong 10 phút):\n{url}\n"
    "Không chuyển đường dẫn này cho người khác."
)
PRIVATE_ONLY = (
    "Vì an toàn, đường dẫn đăng nhập chỉ được gửi trong cuộc trò chuyện riêng với trợ lý. "
    "Bạn vui lòng nhắn /dangnhap trong cuộc trò chuyện riêng."
)
STAFF_HELP = (
    "Lệnh dành cho cán bộ:\n"
    "- /thongke [kỳ] [mã cơ quan]: số liệu hồ sơ, mức độ hài lòng và biểu đồ.\n"
    "- /baocao [kỳ] [mã cơ quan]: báo cáo Excel.\n"
    "- /canhbao bật|tắt: nhận cảnh báo khi có đánh giá không hài lòng.\n"
    "- /dangnhap: đường dẫn đăng nhập trang quản trị trên máy tính."
)
ADMIN_HELP = (
    "Lệnh dành cho quản trị viên:\n"
    "- /faq tìm <từ khóa>, /faq thêm, /faq lĩnh vực, /faq xuất: quản lý kho câu hỏi.\n"
    "- Gửi tệp YAML, CSV hoặc XLSX: nhập câu hỏi (xem trước rồi xác nhận).\n"
    "- /chuatraloi: câu hỏi chưa trả lời được; /huy: hủy thao tác đang làm."
)
