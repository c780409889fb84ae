"""A family member a citizen books or applies for (为家人办): checked the same way everywhere."""

import re

RELATIONS = ("父母", "配偶", "子女", "祖父母", "兄弟姐妹", "其他亲属")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def check_relative(name: str, relation: str, phone: str) -> tuple[dict | None, dict]:
    """The relative's facts, or None when all three are empty; errors by field name."""
    name, relation = (name or "").strip(), (relation or "").strip()
    phone = re.sub(r"[\s-]", "", phone or "")
    if not (name or relation or phone):
        return None, {}
    errors = {}
    if not name:
        errors["relative_name"] = "请输入家人的姓名"
    elif len(name) > 40:
        errors["relative_name"] = "姓名不能超过40个字"
    if relation not in RELATIONS:
        errors["relative_relation"] = "请选择家人与您的关系"
    if not PHONE_RE.match(phone):
        errors["relative_phone"] = "请输入家人的11位手机号码,如 13800138000"
    data = {"relative_name": name, "relative_relation": relation, "relative_phone": phone}
    return (None if errors else data), errors
