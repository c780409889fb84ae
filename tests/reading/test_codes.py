"""The check characters of ID numbers (GB 11643) and 统一社会信用代码 (GB 32100-2015)."""

import pytest
from conftest import shanghai

from app.reading.codes import credit_check_char, valid_credit_code, valid_id_number

# Real companies' codes as printed on their licences (public registration records).
REAL_CODES = ["91350100M000100Y43", "914403001922038216", "9144030071526726XG",
              "91110000802100433B"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_pass(code):
    assert valid_credit_code(code)
    assert credit_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", REAL_CODES)
def test_any_single_changed_character_fails_the_check(code):
    for at in range(17):
        for other in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if other != code[at]:
                changed = code[:at] + other + code[at + 1:]
                assert changed[17] != credit_check_char(changed[:17]), changed


@pytest.mark.parametrize("code", [
    "91350100M000100Y4",  # 17 characters
    "91350100M000100Y433",  # 19
    "91350100M0001O0Y43",  # O is not in the character set (it reads as 0)
    "9135010AM000100Y43",  # the region code is digits
    "X1350100M000100Y43",  # no such registering authority
    "97350100M000100Y43",  # 工商 (9) has no organisation type 7
    "",
])
def test_malformed_credit_codes_fail(code):
    assert not valid_credit_code(code)


def test_lower_case_credit_code_is_read_as_upper():
    assert valid_credit_code("9144030071526726xg")


@pytest.mark.parametrize("number,valid", [
    ("11010519491231002X", True),
    ("11010519491231002x", True),
    ("110105194912310021", False),  # wrong check digit
    ("11010519491331002X", False),  # month 13
    ("01010519491231002X", False),  # no region starts with 0
    ("11010518991231002X", False),  # born before 1900
    ("1101051949123100X2", False),
    ("11010519491231002", False),
])
def test_id_numbers(number, valid):
    assert valid_id_number(number) is valid


def test_id_number_born_in_the_future_fails():
    first = "11010529991231002"
    from app.applications.idcard import check_digit

    assert not valid_id_number(first + check_digit(first))


def test_an_id_number_born_today_in_the_hall_is_valid_before_the_server_date_turns(
        time_machine):
    # 01:00 on 2 December in Shanghai is still 1 December on a UTC server.
    time_machine.move_to(shanghai("2026-12-02 01:00"), tick=False)
    from app.applications.idcard import check_digit

    born_today = "11010520261202002"
    assert valid_id_number(born_today + check_digit(born_today))
    tomorrow = "11010520261203002"
    assert not valid_id_number(tomorrow + check_digit(tomorrow))
