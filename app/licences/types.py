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
