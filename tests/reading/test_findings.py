"""Findings against what the applicant typed, offers to fill, and the verdict a photo suggests."""

import pytest

from app.reading import findings, kinds

ID = "15220119850312002X"
OTHER = "11010519491231002X"
ID_CARD = kinds.get("id_card")
LICENCE = kinds.get("business_licence")
TYPED = {"applicant_name": "张建国", "id_number": ID}


def messages(result):
    return {pid: [f.message for f in found] for pid, found in result.items()}


def test_kinds_are_data_with_their_fields():
    assert kinds.choices() == {"id_card": "居民身份证", "business_licence": "营业执照",
                               "household_register": "户口簿"}
    assert [f.key for f in ID_CARD.fields] == ["name", "id_number"]
    assert [f.key for f in LICENCE.fields] == ["credit_code", "company_name"]
    assert kinds.get("passport") is None and kinds.get(None) is None


def test_a_matching_photo_has_no_findings():
    result = findings.evaluate(ID_CARD, {1: ([], {"name": "张建国", "id_number": ID})}, TYPED)
    assert result == {1: []}
    assert findings.suggestion(result[1]) == ("ok", None)


def test_a_different_id_number_is_found_and_suggests_fix_for_mismatch():
    result = findings.evaluate(ID_CARD, {1: ([], {"name": "张建国", "id_number": OTHER})}, TYPED)
    assert messages(result) == {1: ["照片中的身份证号与填写的不一致"]}
    assert findings.suggestion(result[1]) == ("fix", "mismatch")


def test_case_and_spaces_never_make_a_mismatch():
    typed = {"applicant_name": " 张建国 ", "id_number": ID.lower()}
    result = findings.evaluate(ID_CARD, {1: ([], {"name": "张建国", "id_number": ID})}, typed)
    assert result == {1: []}


def test_one_matching_photo_of_several_people_is_enough_for_an_id_card_material():
    photos = {1: ([], {"name": "李秀英", "id_number": OTHER}),
              2: ([], {"name": "张建国", "id_number": ID})}
    assert findings.evaluate(ID_CARD, photos, TYPED) == {1: [], 2: []}
    alone = findings.evaluate(ID_CARD, {1: photos[1]}, TYPED)
    assert messages(alone) == {1: ["照片中的身份证号与填写的不一致"]}


def test_every_licence_photo_must_agree_with_the_typed_code():
    typed = {"answer:credit_code": "91350100M000100Y43", "answer:company_name": "恒通商贸有限公司"}
    photos = {1: ([], {"credit_code": "91350100M000100Y43", "company_name": "恒通商贸有限公司"}),
              2: ([], {"credit_code": "914403001922038216"})}
    assert messages(findings.evaluate(LICENCE, photos, typed)) == {
        1: [], 2: ["照片中的统一社会信用代码与填写的不一致"]}


def test_company_names_compare_without_bracket_widths():
    typed = {"answer:company_name": "恒通(兴安)商贸有限公司"}
    photos = {1: ([], {"company_name": "恒通(兴安)商贸有限公司"})}
    assert findings.evaluate(LICENCE, photos, typed) == {1: []}


def test_nothing_typed_means_nothing_to_compare_but_an_offer():
    typed = {"applicant_name": "", "id_number": ""}
    photos = {1: ([], {"name": "张建国", "id_number": ID})}
    assert findings.evaluate(ID_CARD, photos, typed) == {1: []}
    offers = findings.offers(ID_CARD, photos, typed)
    assert [(o.target, o.value) for o in offers] == [("applicant_name", "张建国"),
                                                     ("id_number", ID)]
    assert findings.offers(ID_CARD, photos, TYPED) == []


def test_an_item_without_the_field_gets_no_offer_and_no_comparison():
    photos = {1: ([], {"credit_code": "914403001922038216"})}
    assert findings.offers(LICENCE, photos, {}) == []
    assert findings.evaluate(LICENCE, photos, {}) == {1: []}


def test_the_label_of_an_item_field_is_a_compare_target_too():
    photos = {1: ([], {"credit_code": "914403001922038216"})}
    typed = {"answer:统一社会信用代码": "91350100M000100Y43"}
    assert messages(findings.evaluate(LICENCE, photos, typed)) == {
        1: ["照片中的统一社会信用代码与填写的不一致"]}


@pytest.mark.parametrize("issues,message,reason", [
    (["unreadable"], "未能识别出文字,照片可能不清晰", "blurry"),
    (["wrong_kind"], "这张照片看起来不是营业执照", "wrong"),
    (["unclear:credit_code"], "照片中的统一社会信用代码看不清,照片可能不清晰", "blurry"),
])
def test_a_photos_own_problems(issues, message, reason):
    result = findings.evaluate(LICENCE, {7: (issues, {})}, {})
    assert messages(result) == {7: [message]}
    assert findings.suggestion(result[7]) == ("fix", reason)


def test_the_name_is_compared_only_where_no_number_decides():
    typed = {"applicant_name": "张建国", "id_number": ID}
    read_number = {1: ([], {"name": "张建图", "id_number": ID})}
    assert findings.evaluate(ID_CARD, read_number, typed) == {1: []}
    no_number = {1: (["unclear:id_number"], {"name": "李秀英"})}
    assert messages(findings.evaluate(ID_CARD, no_number, typed)) == {
        1: ["照片中的身份证号看不清,照片可能不清晰", "照片中的姓名与填写的不一致"]}


def test_a_doubtful_reading_is_never_claimed_to_differ():
    photos = {1: (["unclear:id_number", "uncertain:name"], {"name": "李秀销"})}
    assert messages(findings.evaluate(ID_CARD, photos, TYPED)) == {
        1: ["照片中的身份证号看不清,照片可能不清晰"]}
