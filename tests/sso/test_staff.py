"""Staff sign in through the provider only once an admin bound them; never gaining a role."""

import pytest
from html_kit import errors, field_value, one
from sqlalchemy import select

import factories
from app.auth.models import Role, User
from app.core.models import AuditLog
from app.extensions import db
from app.sso.models import IdentityLink

STAFF_SUB = "idp-staff-clerk-7"


@pytest.fixture
def hall_staff():
    hall = factories.hall()
    admin = factories.staff("admin1", "admin-pass-1", role=Role.ADMIN, hall_row=hall)
    clerk = factories.staff("clerk1", "clerk-pass-1", hall_row=hall)
    return admin, clerk


def _bind(client, auth, clerk, subject=STAFF_SUB):
    auth.login_staff("admin1", "admin-pass-1")
    response = client.post("/sso/admin/bindings", data={"user_id": clerk.id, "subject": subject})
    client.post("/logout")
    return response


@pytest.mark.parametrize("who", ["anonymous", "citizen", "clerk"])
def test_bindings_page_is_for_admins_only(client, auth, hall_staff, who):
    if who == "citizen":
        auth.login_citizen()
    elif who == "clerk":
        auth.login_staff("clerk1", "clerk-pass-1")
    response = client.get("/sso/admin/bindings")
    assert response.status_code == (302 if who == "anonymous" else 403)
    assert client.post("/sso/admin/bindings", data={"user_id": "1", "subject": "x"}
                       ).status_code == (302 if who == "anonymous" else 403)
    assert db.session.scalar(select(IdentityLink)) is None


def test_admin_binds_a_clerk_who_then_signs_in_as_clerk(client, auth, oidc, dance, hall_staff):
    admin, clerk = hall_staff
    response = _bind(client, auth, clerk)
    assert response.status_code == 303
    link = db.session.scalar(select(IdentityLink))
    assert (link.user_id, link.subject, link.bound_by_id) == (clerk.id, STAFF_SUB, admin.id)
    assert db.session.scalar(select(AuditLog).where(AuditLog.entity == "identity_link")
                             ).actor_id == admin.id
    oidc.user = {"sub": STAFF_SUB, "name": "王窗口", "name_verified": True}
    response = dance.run("/sso/oidc/login?next=/staff")
    assert response.status_code == 303 and response.headers["Location"] == "/staff"
    assert client.get("/staff").status_code == 200
    clerk = db.session.get(User, clerk.id)
    assert clerk.role == Role.CLERK and clerk.name == "测试工作人员"  # staff names stay


def test_unbound_subject_never_becomes_staff(client, oidc, dance, hall_staff):
    oidc.user = {"sub": STAFF_SUB, "phone_number": "13800138000", "name": "王窗口"}
    assert dance.run().status_code == 303
    user = db.session.scalar(select(IdentityLink)).user
    assert user.role == Role.CITIZEN and user.username is None
    assert client.get("/staff").status_code == 403


def test_vouched_phone_of_a_staff_account_is_not_linked(client, oidc, dance, hall_staff, sso_log):
    _admin, clerk = hall_staff
    clerk.phone = "13800138000"
    db.session.commit()
    response = dance.run()
    assert response.status_code == 400
    assert "工作人员账号" in response.get_data(as_text=True)
    assert not dance.signed_in() and db.session.scalar(select(IdentityLink)) is None


def test_staff_cannot_bind_themselves(client, auth, oidc, dance, hall_staff):
    oidc.user = {"sub": STAFF_SUB, "phone_number": "13900139000"}
    auth.login_staff("clerk1", "clerk-pass-1")
    assert "绑定统一身份认证" not in client.get("/me").get_data(as_text=True)
    response = dance.run()
    assert response.status_code == 400 and "由大厅管理员绑定" in errors(response)
    assert db.session.scalar(select(IdentityLink)) is None


def test_binding_errors_keep_what_was_typed(client, auth, hall_staff):
    _admin, clerk = hall_staff
    auth.login_staff("admin1", "admin-pass-1")
    empty = client.post("/sso/admin/bindings", data={"user_id": clerk.id, "subject": "  "})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 400 and "请输入统一身份认证的用户标识" in errors(empty)
    assert field_value(page, "user_id") == str(clerk.id)
    assert one(page, 'select[name="user_id"] option[selected]')["value"] == str(clerk.id)
    nobody = client.post("/sso/admin/bindings", data={"user_id": "", "subject": "abc"})
    assert nobody.status_code == 400 and "请选择工作人员" in errors(nobody)
    assert field_value(nobody, "subject") == "abc"
    client.post("/sso/admin/bindings", data={"user_id": clerk.id, "subject": "abc"})
    other = factories.staff("clerk2", "clerk-pass-2", hall_row=clerk.hall)
    taken = client.post("/sso/admin/bindings", data={"user_id": other.id, "subject": "abc"})
    assert taken.status_code == 400 and "已绑定其他账号" in errors(taken)


def test_admin_cannot_touch_another_halls_staff(client, auth, hall_staff):
    stranger = factories.staff("clerk9", "clerk-pass-9", hall_row=factories.hall())
    db.session.add(IdentityLink(user_id=stranger.id, provider="oidc", subject="theirs"))
    db.session.commit()
    auth.login_staff("admin1", "admin-pass-1")
    page = client.get("/sso/admin/bindings").get_data(as_text=True)
    assert "clerk9" not in page and "clerk1" in page
    response = client.post("/sso/admin/bindings", data={"user_id": stranger.id, "subject": "x"})
    assert response.status_code == 400
    link = db.session.scalar(select(IdentityLink))
    assert client.post(f"/sso/admin/bindings/{link.id}/remove").status_code == 403
    assert db.session.scalar(select(IdentityLink)) is not None


def test_admin_removes_a_binding(client, auth, hall_staff):
    _admin, clerk = hall_staff
    _bind(client, auth, clerk)
    auth.login_staff("admin1", "admin-pass-1")
    link = db.session.scalar(select(IdentityLink))
    assert STAFF_SUB in client.get("/sso/admin/bindings").get_data(as_text=True)
    assert client.post(f"/sso/admin/bindings/{link.id}/remove").status_code == 303
    assert db.session.scalar(select(IdentityLink)) is None
