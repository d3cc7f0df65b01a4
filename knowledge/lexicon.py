"""Vietnamese lexical resources for retrieval: abbreviations, colloquial forms, synonyms, fillers.

Keys are *folded* (no diacritics, lower case, "đ" -> "d"), because citizens type the same
abbreviation with or without marks ("đk", "dk"). Values are proper Vietnamese with diacritics, so
that an expanded query can still match the knowledge base's accented text exactly.

These lists describe how people in southern Vietnam write to public-service chat channels; they
are not tuned to any one knowledge base.
"""

from __future__ import annotations

# Whole-token rewrites: abbreviations, teen-code and southern colloquial spellings.
ABBREVIATIONS: dict[str, str] = {
    # procedures, documents and agencies
    "tctn": "trợ cấp thất nghiệp",
    "bhtn": "bảo hiểm thất nghiệp",
    "bhxh": "bảo hiểm xã hội",
    "bhyt": "bảo hiểm y tế",
    "cccd": "căn cước công dân",
    "cmnd": "chứng minh nhân dân",
    "cmt": "chứng minh nhân dân",
    "gks": "giấy khai sinh",
    "gcs": "giấy chứng sinh",
    "gplx": "giấy phép lái xe",
    "gpxd": "giấy phép xây dựng",
    "gpkd": "giấy phép kinh doanh",
    "gp": "giấy phép",
    "gcn": "giấy chứng nhận",
    "gcnqsdd": "giấy chứng nhận quyền sử dụng đất",
    "qsdd": "quyền sử dụng đất",
    "hkd": "hộ kinh doanh",
    "dkkd": "đăng ký kinh doanh",
    "dkdn": "đăng ký doanh nghiệp",
    "dn": "doanh nghiệp",
    "cty": "công ty",
    "ubnd": "ủy ban nhân dân",
    "hdnd": "hội đồng nhân dân",
    "tthc": "thủ tục hành chính",
    "dvc": "dịch vụ công",
    "dvcqg": "dịch vụ công quốc gia",
    "dvctt": "dịch vụ công trực tuyến",
    "pakn": "phản ánh kiến nghị",
    "lltp": "lý lịch tư pháp",
    "hs": "hồ sơ",
    "gt": "giấy tờ",
    "dk": "đăng ký",
    "dki": "đăng ký",
    "dky": "đăng ký",
    "xn": "xác nhận",
    "sdt": "số điện thoại",
    "dt": "điện thoại",
    "tp": "thành phố",
    "tphcm": "thành phố hồ chí minh",
    "sg": "sài gòn",
    "ca": "công an",
    "cand": "công an",
    "ttpvhcc": "trung tâm phục vụ hành chính công",
    "hcc": "hành chính công",
    "vssid": "vssid bảo hiểm xã hội số",
    "passport": "hộ chiếu",
    "pasport": "hộ chiếu",
    "visa": "thị thực",
    "oto": "ô tô",
    "xe hoi": "ô tô",
    "online": "trực tuyến",
    "onl": "trực tuyến",
    "cv": "công việc",
    "nld": "người lao động",
    "ld": "lao động",
    "hdld": "hợp đồng lao động",
    "tnv": "thôi việc",
    # question words and verbs
    "j": "gì",
    "ji": "gì",
    "gi": "gì",
    "ntn": "như thế nào",
    "ntnao": "như thế nào",
    "bn": "bao nhiêu",
    "bnhieu": "bao nhiêu",
    "nhiu": "nhiêu",
    "bh": "bao giờ",
    "lm": "làm",
    "dc": "được",
    "duoc": "được",
    "ko": "không",
    "k": "không",
    "kh": "không",
    "khg": "không",
    "khog": "không",
    "hok": "không",
    "hong": "không",
    "hem": "không",
    "hum": "không",
    "r": "rồi",
    "roi": "rồi",
    "trc": "trước",
    "trk": "trước",
    "vs": "với",
    "v": "vậy",
    "z": "vậy",
    "dzay": "vậy",
    "zay": "vậy",
    "dza": "vậy",
    "giùm": "giúp",
    "gium": "giúp",
    "dum": "giúp",
    "mún": "muốn",
    "mun": "muốn",
    "wa": "qua",
    "ng": "người",
    "ngta": "người ta",
    "tui": "tôi",
    "t": "tôi",
    "mik": "mình",
    "mk": "mình",
    "vk": "vợ",
    "ck": "chồng",
    "sn": "sinh",
    "ms": "mới",
    "th": "tháng",
    "thg": "tháng",
    "tr": "triệu",
    "sanh": "sinh",
    "lãnh": "nhận",
    "lanh": "nhận",
    "mắc": "đắt",
    "xài": "sử dụng",
    "xai": "sử dụng",
    "nhiêu": "bao nhiêu",
    "bấm": "làm",
    "hông": "không",
    "hổng": "không",
    "kô": "không",
    "má": "mẹ",
    "ổng": "ông",
    "bả": "bà",
    "con nít": "trẻ em",
    "đứa nhỏ": "trẻ em",
    "bé": "trẻ em",
    "đẻ": "sinh",
    "sếp": "người sử dụng lao động",
    "cavet": "giấy đăng ký xe",
}

# Phrase rewrites applied to folded token sequences before single tokens (longest first).
PHRASES: dict[str, str] = {
    "bang lai": "giấy phép lái xe",
    "bang lai xe": "giấy phép lái xe",
    "so do": "giấy chứng nhận quyền sử dụng đất",
    "so hong": "giấy chứng nhận quyền sử dụng đất",
    "ho khau": "thường trú",
    "nhap khau": "đăng ký thường trú",
    "chung minh thu": "căn cước",
    "chung minh nhan dan": "căn cước",
    "can cuoc cong dan": "căn cước",
    "the can cuoc": "căn cước",
    "giay phep lai xe": "giấy phép lái xe",
    "xe hoi": "ô tô",
    "xe tay ga": "xe máy",
    "bien so": "biển số đăng ký xe",
    "sang ten": "sang tên chuyển quyền",
    "that nghiep": "thất nghiệp",
    "bao hiem that nghiep": "bảo hiểm thất nghiệp trợ cấp thất nghiệp",
    "ly hon": "ly hôn",
    "doc than": "xác nhận tình trạng hôn nhân độc thân",
    "giay doc than": "giấy xác nhận tình trạng hôn nhân",
    "cong ty": "doanh nghiệp công ty",
    "mo cong ty": "thành lập doanh nghiệp",
    "qua mang": "trực tuyến",
    "tren mang": "trực tuyến",
    "tai nha": "trực tuyến",
    "dien thoai": "điện thoại",
    "nghi huu": "lương hưu",
    "ve huu": "lương hưu",
    "de con": "sinh con",
    "co bau": "mang thai",
    "di dau": "ở đâu",
    "cho nao": "ở đâu",
    "cho mo": "ở đâu",
    "o mo": "ở đâu",
    "tai dau": "ở đâu",
    "noi nao": "ở đâu",
    "bao lau": "thời gian bao lâu",
    "may ngay": "thời gian mấy ngày",
    "may hom": "thời gian mấy ngày",
    "bao nhieu ngay": "thời gian mấy ngày",
    "bao nhieu tien": "lệ phí bao nhiêu tiền",
    "het bao nhieu": "lệ phí hết bao nhiêu",
    "ton bao nhieu": "lệ phí tốn bao nhiêu",
    "mat bao nhieu tien": "lệ phí bao nhiêu tiền",
    "tram ngan": "tiền lệ phí",
    "mat tien": "lệ phí",
    "ton tien": "lệ phí",
    "giay to": "giấy tờ hồ sơ",
    "mang theo": "giấy tờ hồ sơ",
    "can gi": "cần giấy tờ hồ sơ gì",
    "ca vet": "giấy đăng ký xe",
    "ca vat": "giấy đăng ký xe",
    "bam bien": "đăng ký biển số",
    "bam so": "đăng ký biển số",
    "so hong": "giấy chứng nhận quyền sử dụng đất",
    "tre hen": "quá hạn",
    "lam lai": "cấp lại",
}

# Tokens that carry no topic: politeness, pronouns, particles, very generic verbs. Accented;
# an unaccented token is dropped only when its folded form is not also a content word.
FILLERS: frozenset[str] = frozenset(
    """
    à ạ a ad admin ah ak anh bạn bác cảm ơn chào chị cho cô chú cứ dạ đây em giúp hen hỏi hả hà
    hé hí hic huhu kìa là lại luôn mấy mình mn mọi này nào nè nha nhé nhỉ nhờ ơi ông rồi sẽ thì
    thiệt tôi tui vậy vào với xin ui uh um và cái những thế được nữa đi không cần phải làm của
    các để mà muốn biết có chưa ấy đó kia người ta nhà nước bị
    """.split()
)

# Folded forms of fillers that are also content words when typed without marks
# ("lai": lại / lái, "may": mấy / máy, "the": thế / thẻ ...): never dropped when unaccented.
AMBIGUOUS_FOLDED: frozenset[str] = frozenset(
    "lai may ma ba con the ban de cho so ve co chua nha nuoc bi hoi bac ta".split()
)

# Question aspects shared by every procedure (the topic slugs of the knowledge-base brief).
# Cues are accented; a cue word matches an accented query word exactly and an unaccented one by
# its folded form. An entry's aspects come from its question and alternatives only, so a query
# asking "where" prefers the entry that answers "where" among the entries of one procedure.
ASPECTS: dict[str, tuple[str, ...]] = {
    "documents": (
        "hồ sơ", "giấy tờ", "chuẩn bị", "mang theo", "chứng từ", "thành phần", "gồm những",
        "cần những gì", "cần gì", "đem theo",
    ),
    "place": (
        "ở đâu", "nơi", "chỗ nào", "cơ quan nào", "cấp nào", "đến đâu", "tại đâu", "nộp ở",
        "làm ở", "ở chỗ", "chỗ khác", "tỉnh khác", "phòng nào",
    ),
    "fee": ("lệ phí", "phí", "tốn", "đắt", "chi phí", "mất tiền", "đóng tiền", "hết bao nhiêu"),
    "amount": ("mức hưởng", "mức hỗ trợ", "được bao nhiêu", "nhận bao nhiêu", "bao nhiêu tiền",
               "mức", "phần trăm", "tính như thế nào", "cách tính"),
    "time": (
        "bao lâu", "mấy ngày", "thời gian", "thời hạn", "khi nào", "bao giờ", "ngày làm việc",
        "mấy hôm", "bao nhiêu ngày", "mấy tháng", "mấy năm", "trễ", "quá hạn", "hết hạn",
    ),
    "condition": (
        "điều kiện", "đối tượng", "ai được", "trường hợp nào", "những ai", "trường hợp",
        "có được hưởng", "có được không",
    ),
    "online": ("trực tuyến", "qua mạng", "vneid", "dịch vụ công", "trên mạng", "bưu điện"),
    "how": ("như thế nào", "làm sao", "các bước", "trình tự", "cách nào", "thủ tục"),
}

# Words that say what is asked rather than about which procedure: they never make a query "on
# topic" for an entry. Folded; ambiguous folded forms (AMBIGUOUS_FOLDED) are never generic.
GENERIC: frozenset[str] = frozenset(
    """
    tuc giay nop lam xin cap bao nhieu gi nhu nao o dau duoc khong can thi sao ngay thang gian han
    phi tien khi cua trong va hay hoac moi cu gom nhung theo dem noi nay kia gio hien minh toi em
    anh chi voi phai nen neu tai den ra len lau muc huong sau truoc luc het tren duoi mot lan
    nhieu it cac ai dieu kien luat cach tra
    """.split()
)
