"""The licence types the app knows: the catalog, the CSV import and adapters name these codes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LicenceType:
    code: str
    name: str
    holder: str  # person or company
    prefix: str  # the start of the numbers this app gives


TYPES = {t.code: t for t in [
    LicenceType("business_licence", "营业执照", "company", "YZ"),
    LicenceType("food_business", "食品经营许可证", "company", "JY"),
    LicenceType("hygiene_permit", "公共场所卫生许可证", "company", "WS"),
    LicenceType("marriage_cert", "结婚证", "person", "JH"),
    LicenceType("residence_permit", "居住证", "person", "JZ"),
    LicenceType("property_cert", "不动产权证书", "person", "BD"),
    LicenceType("birth_cert", "出生医学证明", "person", "CS"),
]}


def name_of(code: str | None) -> str:
    found = TYPES.get(code or "")
    return found.name if found else (code or "")


YEARS = (1, 50)  # a validity the catalog may set; none at all means long-term (长期)
HOLDER_AUDIENCE = {"company": ("company", "法人"), "person": ("individual", "个人")}


def choices() -> str:
    return "、".join(f"{t.name}({t.code})" for t in TYPES.values())


def licence_problems(licence_type: str | None, years=None, audience: str | None = None,
                     ) -> dict[str, str]:
    """What is wrong with a catalog row's 电子证照 settings, per field, in Chinese.

    One check for the admin form and the catalog file. An item gives all three (the type it
    issues on 办结, its validity in years, its audience); a material gives the type that stands
    in for it. `years` that did not parse as a whole number is the caller's to report.
    """
    problems: dict[str, str] = {}
    kind = TYPES.get(licence_type or "")
    if licence_type and kind is None:
        problems["licence_type"] = f"没有“{licence_type}”这种电子证照,可选:{choices()}"
    if isinstance(years, int) and not isinstance(years, bool):
        if not licence_type:
            problems["licence_years"] = "没有选择办结后核发的证照,有效期请留空"
        elif not YEARS[0] <= years <= YEARS[1]:
            problems["licence_years"] = (f"证照有效期应在 {YEARS[0]} 到 {YEARS[1]} 年之间,"
                                         "长期有效请留空")
    if kind is not None and audience is not None:
        wanted, word = HOLDER_AUDIENCE[kind.holder]
        if audience != wanted:
            problems["licence_type"] = (f"{kind.name}发给{word},只有服务对象为“{word}”的事项"
                                        "才能核发")
    return problems
