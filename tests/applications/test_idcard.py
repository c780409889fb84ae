"""GB 11643 check digits."""

import pytest

from app.applications import idcard


@pytest.mark.parametrize("number", ["11010519491231002X", "11010519491231002x",
                                    "440524188001010014", " 110105 19491231 002X "])
def test_valid_numbers(number):
    assert idcard.problem(number) is None


@pytest.mark.parametrize("number, words", [
    ("110105194912310021", "校验位不正确"), ("1101051949123100", "18位"),
    ("110105194913310028", "出生日期不正确"), ("", "请输入")])
def test_invalid_numbers_say_why(number, words):
    assert words in idcard.problem(number)
