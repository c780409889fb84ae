"""What is stripped before a question is published as an FAQ (app/core/privacy.py redact_text)."""

import pytest

from app.core.privacy import redact_text


@pytest.mark.parametrize("text, gone, kept", [
    ("电话13800138000请回电", "13800138000", "请回电"),
    ("手机 138-0013-8000", "138-0013-8000", "手机"),
    ("+86 13800138000", "13800138000", ""),
    ("座机0482-8260001", "8260001", "座机"),
    ("身份证110101199003071234办理", "110101199003071234", "办理"),
    ("证号15010519900307123X", "15010519900307123X", "证号"),
    ("老证15位110101900307123", "110101900307123", "老证"),
    ("邮箱 zhang.san@example.cn", "zhang.san@example.cn", "邮箱"),
    ("我叫欧阳明华,想问", "欧阳明华", "我叫某某"),
    ("姓名:李小红", "李小红", "姓名:某某"),
    ("请联系王先生", "王先生", "某先生"),
])
def test_personal_details_are_removed(text, gone, kept):
    for public in (False, True):  # masked for staff, removed for the public
        result = redact_text(text, public=public)
        assert gone not in result
        assert kept in result


def test_known_names_are_removed_wherever_they_appear():
    result = redact_text("张三家里的事,张三的母亲问的", names=["张三", "", None])
    assert "张三" not in result and result.count("某某") == 2


def test_ordinary_text_and_numbers_stay():
    text = "承诺时限 5 个工作日,收费 0 元,2026年办理。"
    assert redact_text(text) == text
