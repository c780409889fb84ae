"""Every template fits its declared segments with realistic, long values."""

import string

import pytest

from app.sms.templates import SEGMENT, TEMPLATES, render

# Realistic values at the long end of what the product sends, by parameter name. A template whose
# parameter is not here declares its own in `example=`.
REALISTIC = {
    "code": "385201",
    "name": "欧阳明华",
    "hall": "乌兰浩特市政务服务中心",
    "item": "不动产登记(抵押权首次登记)",
    "window": "A12号窗口",
    "date": "11月30日",
    "time": "14:30-15:00",
    "when": "11月30日 14:30",
    "due": "12月15日",
    "deadline": "12月15日",
    "days": "15",
    "no": "WLHT20261123000123",
    "number": "WLHT20261123000123",
    "ticket": "A012",
    "step": "联系群众",
    "reason": "身份证照片不清晰",
    "link": "https://zwfw.example.cn/t/Ab3dEf6hIj9kLm",  # DESIGN: whole URL ≤ 40 characters
    "url": "https://zwfw.example.cn/t/Ab3dEf6hIj9kLm",
    "rate": "https://zwfw.example.cn/t/Ab3dEf6hIj9kLm",  # the rating link inside an outcome SMS
}


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_the_realistic_link_is_as_long_as_a_real_one():
    assert len(REALISTIC["link"]) == 40


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_template_fits_its_segments(key):
    template = TEMPLATES[key]
    known = {**REALISTIC, **template.example}
    missing = [f for f in _fields(template.text) if f not in known]
    assert not missing, f"template {key}: give a realistic value for {missing} in example="
    params = {f: known[f] for f in _fields(template.text)}
    text = render(key, params)
    assert "{" not in text and "}" not in text
    assert len(text) <= SEGMENT * template.segments, (
        f"template {key} renders {len(text)} characters; shorten it or declare "
        f"segments={-(-len(text) // SEGMENT)}: {text}")


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_template_is_signed_and_codes_are_urgent(key):
    template = TEMPLATES[key]
    assert template.text.startswith("【掌上办】")
    assert template.urgent == ("code" in _fields(template.text)), (
        "codes bypass quiet hours, nothing else does")


def test_rendering_an_unknown_template_is_a_key_error():
    with pytest.raises(KeyError):
        render("no_such_template", {})
