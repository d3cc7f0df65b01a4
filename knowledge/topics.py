"""Named public-service topics: which procedure a question is about.

Lexical matching cannot tell "đăng ký kết hôn cần giấy tờ gì" (a procedure this knowledge base
may not cover) from "đăng ký xe cần giấy tờ gì" (one it does): both share every aspect word. What
tells them apart is knowing that "kết hôn" *names a procedure*. This table names the procedures
and services Vietnamese citizens ask about most, with the ways they are commonly written
(folded: no diacritics). A question that names a topic the best entry's group never mentions is
probably about something the base does not cover; one that names the group's topic probably is
covered, however it words the rest.

The list is domain knowledge about Vietnamese public services, not about any knowledge base: it
is meant to cover far more topics than any one base holds.
"""

from __future__ import annotations

from knowledge.normalize import Analysis

TOPICS: dict[str, tuple[str, ...]] = {
    # civil status (hộ tịch)
    "khai-sinh": ("khai sinh", "giay khai sinh", "giay chung sinh", "lam giay sinh"),
    "ket-hon": ("ket hon", "dang ky ket hon", "lay vo", "lay chong", "cuoi vo"),
    "ly-hon": ("ly hon", "ly di"),
    "khai-tu": ("khai tu", "bao tu", "giay chung tu", "qua doi"),
    "hon-nhan": ("tinh trang hon nhan", "doc than"),
    "cai-chinh-ho-tich": (
        "cai chinh",
        "thay doi ho tich",
        "bo sung ho tich",
        "doi ten",
        "sua ten",
        "doi ho",
        "sua ngay sinh",
        "xac dinh lai dan toc",
    ),
    "trich-luc": ("trich luc", "ban sao giay khai sinh"),
    "nhan-cha-me-con": ("nhan cha", "nhan me", "nhan con"),
    "con-nuoi": ("con nuoi", "nhan nuoi"),
    "giam-ho": ("giam ho",),
    "chung-thuc": ("chung thuc", "sao y", "cong chung", "chung thuc chu ky"),
    "ly-lich-tu-phap": ("ly lich tu phap", "phieu ly lich"),
    "quoc-tich": ("quoc tich",),
    # residence, identity, travel
    "thuong-tru": ("thuong tru", "ho khau", "nhap khau", "chuyen khau"),
    "tam-tru": ("tam tru",),
    "tam-vang": ("tam vang",),
    "luu-tru": ("luu tru",),
    "can-cuoc": (
        "can cuoc",
        "can cuoc cong dan",
        "chung minh nhan dan",
        "chung minh thu",
        "the can cuoc",
    ),
    "dinh-danh": ("vneid", "dinh danh dien tu", "tai khoan dinh danh"),
    "ho-chieu": ("ho chieu",),
    "thi-thuc": ("thi thuc", "mien thi thuc"),
    # transport
    "giay-phep-lai-xe": ("giay phep lai xe", "doi bang", "bang lai"),
    "sat-hach": ("sat hach", "thi bang", "hoc lai xe", "thi lai xe"),
    "dang-ky-xe": ("dang ky xe", "bien so", "ca vet", "cavet", "giay dang ky xe", "sang ten xe"),
    "dang-kiem": ("dang kiem", "kiem dinh xe"),
    "phat-giao-thong": ("phat nguoi", "nop phat", "vi pham giao thong", "bien ban phat"),
    # labour and social insurance
    "that-nghiep": ("that nghiep", "bao hiem that nghiep"),
    "hoc-nghe": ("hoc nghe", "dao tao nghe"),
    "viec-lam": ("tim viec", "gioi thieu viec lam", "viec lam"),
    "thai-san": ("thai san", "sinh con", "de con", "nghi sinh", "mang thai", "sinh em be"),
    "om-dau": ("om dau", "nghi om", "con om", "benh nghe nghiep", "tai nan lao dong"),
    "huu-tri": ("luong huu", "nghi huu", "ve huu", "huu tri", "tuoi huu"),
    "bhxh-mot-lan": (
        "bao hiem xa hoi mot lan",
        "bhxh mot lan",
        "rut bao hiem",
        "rut so bao hiem",
        "huong mot lan",
    ),
    "bhxh-tu-nguyen": ("tu nguyen",),
    "so-bhxh": ("so bao hiem xa hoi", "so bhxh", "qua trinh dong", "gop so"),
    "bhyt": ("bao hiem y te", "the bhyt", "kham chua benh"),
    "tro-cap-xa-hoi": (
        "tro cap xa hoi",
        "bao tro xa hoi",
        "tro giup xa hoi",
        "nguoi cao tuoi",
        "nguoi gia",
        "khuyet tat",
        "huu tri xa hoi",
    ),
    "ho-ngheo": ("ho ngheo", "can ngheo", "thoat ngheo"),
    "nguoi-co-cong": ("nguoi co cong", "liet si", "thuong binh"),
    "lao-dong-nuoc-ngoai": ("giay phep lao dong", "nguoi nuoc ngoai lam viec"),
    # business, tax
    "doanh-nghiep": ("doanh nghiep", "cong ty", "thanh lap cong ty"),
    "ho-kinh-doanh": ("ho kinh doanh",),
    "thue": ("ma so thue", "quyet toan thue", "thue thu nhap", "khai thue", "hoan thue"),
    "ruou": ("ruou", "ban le ruou"),
    "thuoc-la": ("thuoc la",),
    "karaoke": ("karaoke", "vu truong"),
    "an-toan-thuc-pham": ("an toan thuc pham", "ve sinh an toan thuc pham"),
    "xang-dau": ("xang dau", "cay xang"),
    # land and building
    "dat-dai": (
        "so do",
        "so hong",
        "quyen su dung dat",
        "dat dai",
        "thua dat",
        "giay chung nhan quyen",
        "cap so",
        "lam so",
    ),
    "bien-dong-dat": (
        "chuyen nhuong",
        "tang cho",
        "thua ke",
        "tach thua",
        "hop thua",
        "sang ten so",
    ),
    "xay-dung": ("giay phep xay dung", "xay nha", "xay dung", "sua chua nha", "cai tao nha"),
    # feedback, complaints
    "phan-anh": ("phan anh", "kien nghi", "gop y"),
    "khieu-nai": ("khieu nai",),
    "to-cao": ("to cao", "to giac"),
    # the assistant's own services
    "tra-cuu-ho-so": ("tra cuu ho so", "ma ho so", "tinh trang ho so"),
    "danh-gia": ("danh gia", "muc do hai long"),
    # other frequent services
    "tuyen-sinh": ("tuyen sinh", "nhap hoc", "chuyen truong"),
    "nghia-vu-quan-su": ("nghia vu quan su", "di linh", "nhap ngu"),
    "dien-nuoc": ("tien dien", "tien nuoc", "cap nuoc", "cap dien"),
}

_PHRASES: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): topic for topic, phrases in TOPICS.items() for phrase in phrases
}
_LONGEST = max(len(p) for p in _PHRASES)


def topics_of(a: Analysis) -> frozenset[str]:
    """The topics an analysed text names (longest phrase first at each position)."""
    toks = a.folded
    found: set[str] = set()
    i = 0
    while i < len(toks):
        for n in range(min(_LONGEST, len(toks) - i), 0, -1):
            topic = _PHRASES.get(tuple(toks[i : i + n]))
            if topic is not None:
                found.add(topic)
                i += n
                break
        else:
            i += 1
    return frozenset(found)
