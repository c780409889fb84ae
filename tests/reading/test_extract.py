"""From OCR boxes to a document's kind and fields (no engine: boxes as OCR returns them)."""

import math

import pytest

from app.reading.extract import Line, credit_codes, id_numbers, read, row_text, rows

ID = "15220119850312002X"
CODE = "91350100M000100Y43"


def box(text, x, y, width=None, height=30, tilt=0.0, score=0.99):
    """A text box at (x, y) on a photo turned by `tilt` degrees about the origin."""
    width = width or 28 * len(text)
    corners = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    a = math.radians(tilt)
    turned = tuple((px * math.cos(a) - py * math.sin(a), px * math.sin(a) + py * math.cos(a))
                   for px, py in corners)
    return Line(text, score, turned)


def id_card(name="张建国", number=ID, tilt=0.0):
    return [box("姓名", 50, 50, tilt=tilt), box(name, 130, 46, tilt=tilt),
            box("性别", 50, 110, tilt=tilt), box("男", 130, 106, tilt=tilt),
            box("民族", 230, 110, tilt=tilt), box("汉", 310, 106, tilt=tilt),
            box("出生", 50, 170, tilt=tilt), box("1985年3月12日", 130, 166, tilt=tilt),
            box("住址", 50, 230, tilt=tilt), box("内蒙古自治区乌兰浩特市", 130, 226, tilt=tilt),
            box("公民身份号码", 50, 440, tilt=tilt), box(number, 250, 436, width=420, tilt=tilt)]


def licence(name="兴安盟恒通商贸有限公司", code=CODE):
    return [box("统一社会信用代码", 80, 90), box(code, 80, 130, width=500),
            box("营业执照", 620, 110, height=80), box("名称", 120, 330), box(name, 330, 330),
            box("类型", 120, 420), box("有限责任公司(自然人独资)", 330, 420),
            box("法定代表人", 120, 510), box("张建国", 330, 510),
            box("注册资本", 120, 690), box("100万(元)", 330, 690), box("登记机关", 1050, 960)]


@pytest.mark.parametrize("tilt", [-8, -3, 0, 4, 8])
def test_rows_join_labels_and_values_at_any_tilt_up_to_8_degrees(tilt):
    found = [row_text(row) for row in rows(id_card(tilt=tilt))]
    assert "姓名张建国" in found
    assert f"公民身份号码{ID}" in found
    assert "性别男民族汉" in found


@pytest.mark.parametrize("tilt", [-8, 0, 8])
def test_an_id_card_gives_its_name_and_number(tilt):
    reading = read(id_card(tilt=tilt), expected="id_card")
    assert reading.kind == "id_card"
    assert reading.fields == {"name": "张建国", "id_number": ID}
    assert reading.unclear == []


def test_a_licence_gives_its_code_printed_under_the_label_and_its_name():
    reading = read(licence(), expected="business_licence")
    assert reading.kind == "business_licence"
    assert reading.fields == {"credit_code": CODE, "company_name": "兴安盟恒通商贸有限公司"}


def test_look_alike_letters_in_numbers_are_read_as_digits():
    assert id_numbers("公民身份号码 I5220II9850312OO2X") == [ID]
    assert credit_codes("9I35O1OOM0001OOY43") == [CODE]


def test_a_misread_digit_makes_the_number_unclear_not_wrong():
    misread = ID[:5] + "7" + ID[6:]
    reading = read(id_card(number=misread), expected="id_card")
    assert "id_number" not in reading.fields
    assert reading.unclear == ["id_number"]
    assert reading.fields["name"] == "张建国"


def test_the_back_of_an_id_card_is_an_id_card_with_nothing_unclear():
    back = [box("中华人民共和国", 290, 60, height=44), box("居民身份证", 300, 140, height=56),
            box("签发机关", 150, 360), box("乌兰浩特市公安局", 300, 356),
            box("有效期限", 150, 430), box("2015.05.17-2035.05.17", 300, 426)]
    reading = read(back, expected="id_card")
    assert reading.kind == "id_card"
    assert reading.fields == {} and reading.unclear == []


def test_a_licence_is_not_an_id_card():
    assert read(licence(), expected="id_card").kind == "business_licence"


def test_a_household_page_is_not_an_id_card_though_it_shares_labels():
    page = [box("常住人口登记卡", 330, 60, height=52), box("姓名", 80, 220),
            box("李秀英", 230, 218), box("户主或与户主关系", 580, 220), box("户主", 790, 218),
            box("性别", 580, 330), box("女", 790, 328), box("民族", 580, 440),
            box("汉", 790, 438), box("籍贯", 80, 550), box("出生日期", 580, 550),
            box("宗教信仰", 80, 660), box("公民身份号码", 580, 660), box(ID, 745, 662, width=300),
            box("文化程度", 80, 770), box("婚姻状况", 580, 770)]
    reading = read(page, expected="id_card")
    assert reading.kind == "household_register"
    assert read(page, expected="household_register").fields == {"name": "李秀英",
                                                                "id_number": ID}


def test_the_head_of_household_name_on_the_first_page_is_not_the_name():
    page = [box("户主姓名", 80, 200), box("王建国", 260, 200), box("户别", 80, 300),
            box("家庭户", 260, 300), box("户号", 580, 300), box("住址", 80, 400),
            box("乌兰浩特市兴安北大路", 260, 400), box("常住人口登记卡", 300, 60)]
    reading = read(page, expected="household_register")
    assert reading.kind == "household_register"
    assert "name" not in reading.fields and reading.unclear == []


def test_no_text_and_low_confidence_boxes_leave_nothing():
    reading = read([box("姓名张建国", 50, 50, score=0.2)], expected="id_card")
    assert reading.chars == 0 and reading.kind is None


def test_a_value_stops_where_its_box_ends_and_a_doubtful_one_is_marked_uncertain():
    page = [box("常住人口登记卡", 330, 60, height=52), box("姓名", 80, 220),
            box("刘欣娟", 230, 218, score=0.78), box("户生线写户主关系户主", 580, 220),
            box("籍贯", 80, 550), box("宗教信仰", 80, 660), box("公民身份号码", 580, 660),
            box(ID, 745, 662, width=300), box("文化程度", 80, 770)]
    reading = read(page, expected="household_register")
    assert reading.fields == {"name": "刘欣娟", "id_number": ID}
    assert reading.uncertain == ["name"]


def test_a_misread_label_still_counts_as_seen():
    reading = read([box("统一社会值用代码", 80, 90), box("9135010M000100Y43", 80, 130),
                    box("营业执照", 620, 110), box("名称", 120, 330),
                    box("兴安盟恒通商贸有限公司", 330, 330), box("类型", 120, 420)],
                   expected="business_licence")
    assert reading.unclear == ["credit_code"]
