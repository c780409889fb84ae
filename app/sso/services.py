"""Which account a provider identity signs in as: links, first-time linking, staff bindings."""

import logging
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, User
from app.core.access import scope
from app.core.models import audit
from app.core.refusals import Refusal
from app.core.timeutil import utcnow
from app.extensions import db
from app.sso.clients import Identity
from app.sso.models import PROVIDER_LABELS, IdentityLink

log = logging.getLogger(__name__)

PENDING = "sso_pending"  # session key: an identity waiting for its phone to be confirmed
DISABLED = "这个账号已停用,请联系大厅工作人员。"


class LinkError(Refusal):
    """A link that may not be made or removed, with a message for the person (a Refusal)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field=field)


@dataclass
class Outcome:
    """What a verified identity leads to: an account to sign in, or a phone to confirm first."""

    user: User | None = None
    needs_phone: bool = False
    linked_now: bool = False


def resolve(identity: Identity, signed_in: User | None) -> Outcome:
    """Sign in a linked identity, link a vouched phone, or ask for the phone once."""
    try:
        return _resolve(identity, signed_in)
    except IntegrityError:
        # Two sign-ins of the same new person raced (two tabs): the other one linked first.
        db.session.rollback()
        return _resolve(identity, signed_in)


def _resolve(identity: Identity, signed_in: User | None) -> Outcome:
    link = _link_for(identity.provider, identity.subject)
    if link is not None:
        if signed_in is not None and link.user_id != signed_in.id:
            raise LinkError(f"这个{link.provider_label}账号已绑定其他账号,不能重复绑定。")
        if not link.user.active:
            raise LinkError(DISABLED)
        _refresh(link, identity)
        db.session.commit()
        return Outcome(user=link.user)
    if signed_in is not None:  # binding another method from 我的
        if signed_in.is_staff:
            raise LinkError("工作人员账号的统一身份认证由大厅管理员绑定,请联系管理员。")
        _create_link(signed_in, identity)
        db.session.commit()
        return Outcome(user=signed_in, linked_now=True)
    if identity.phone:
        user = _citizen_for_phone(identity.phone)
        _create_link(user, identity)
        db.session.commit()
        return Outcome(user=user, linked_now=True)
    return Outcome(needs_phone=True)


def link_with_phone(pending: dict, phone: str) -> User:
    """After the SMS code was right: link the waiting identity to that phone's account."""
    identity = Identity(**pending["identity"])
    if _link_for(identity.provider, identity.subject) is not None:
        raise LinkError("这个账号刚刚已完成绑定,请重新登录。")
    try:
        user = _citizen_for_phone(phone)
        _create_link(user, identity)
        db.session.commit()
    except IntegrityError as err:  # the same confirmation submitted twice at once
        db.session.rollback()
        raise LinkError("这个账号刚刚已完成绑定,请重新登录。") from err
    return user


def pending_data(identity: Identity, expires_at: float) -> dict:
    """The identity as plain data for the (signed) session, until `expires_at`."""
    return {"identity": asdict(identity), "exp": expires_at}


def _citizen_for_phone(phone: str) -> User:
    """The citizen with this phone, created when new; a staff account is never linked this way."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone, role=Role.CITIZEN)
        db.session.add(user)
        db.session.flush()
    elif user.is_staff:
        db.session.rollback()
        raise LinkError("这个手机号属于工作人员账号,请联系大厅管理员绑定统一身份认证。")
    elif not user.active:
        db.session.rollback()
        raise LinkError(DISABLED)
    return user


def _link_for(provider: str, subject: str) -> IdentityLink | None:
    return db.session.scalar(select(IdentityLink).where(
        IdentityLink.provider == provider, IdentityLink.subject == subject))


def _create_link(user: User, identity: Identity, bound_by: User | None = None) -> IdentityLink:
    if db.session.scalar(select(IdentityLink).where(
            IdentityLink.user_id == user.id, IdentityLink.provider == identity.provider)):
        db.session.rollback()
        label = PROVIDER_LABELS[identity.provider]
        raise LinkError(f"您的账号已绑定另一个{label}账号,请先在“我的”里解除绑定。")
    link = IdentityLink(user=user, provider=identity.provider, subject=identity.subject,
                        bound_by_id=bound_by.id if bound_by else None)
    db.session.add(link)
    _refresh(link, identity, signing_in=bound_by is None)
    db.session.flush()
    audit("identity_link", link.id, "linked", actor_id=(bound_by or user).id,
          note=f"{link.provider_label}绑定到账号 {user.id}")
    log.info("sso %s linked to user %s", identity.provider, user.id)
    return link


def _refresh(link: IdentityLink, identity: Identity, signing_in: bool = True) -> None:
    """Keep what the provider says now; a verified real name names a citizen."""
    link.display_name = identity.name or link.display_name
    link.union_id = identity.union_id or link.union_id
    if identity.name_verified:
        link.real_name_verified = True
        if link.user.role == Role.CITIZEN:
            link.user.name = identity.name
    if signing_in:
        link.last_used_at = link.user.last_login_at = utcnow()


@dataclass
class Method:
    """One way to sign in, as the 我的 page lists it."""

    key: str
    label: str
    detail: str
    link: IdentityLink | None = None


def methods(user: User) -> list[Method]:
    """Every way this account can sign in: phone, password, each provider link."""
    rows = []
    if user.phone:
        rows.append(Method("phone", "手机号验证码", user.masked_phone))
    if user.password_hash:
        rows.append(Method("password", "账号密码", user.username or ""))
    for link in db.session.scalars(select(IdentityLink).where(
            IdentityLink.user_id == user.id).order_by(IdentityLink.id)):
        detail = link.display_name or "已绑定"
        if link.real_name_verified:
            detail += "(已实名)"
        rows.append(Method(link.provider, link.provider_label, detail, link))
    return rows


def unlink(user: User, link_id: int) -> str | None:
    """Remove one of the person's own links when another way in remains; None if not theirs."""
    link = db.session.scalar(select(IdentityLink).where(
        IdentityLink.id == link_id, IdentityLink.user_id == user.id).with_for_update())
    if link is None:
        db.session.rollback()
        return None
    if len(methods(user)) <= 1:
        db.session.rollback()
        raise LinkError("这是您唯一的登录方式,不能解除绑定。")
    audit("identity_link", link.id, "unlinked", actor_id=user.id, from_status="linked",
          note=f"{link.provider_label}解除绑定")
    label, provider = link.provider_label, link.provider
    db.session.delete(link)
    db.session.commit()
    log.info("sso %s unlinked from user %s", provider, user.id)
    return label


def staff_in_scope(admin: User):
    """The staff an admin may bind: their hall's, or everyone's for a city-wide admin."""
    return select(User).where(User.role.in_([Role.CLERK, Role.ADMIN]), User.active.is_(True),
                              scope(admin).limit(User.hall_id)).order_by(User.role, User.username)


def staff_bindings(admin: User) -> list[tuple[User, IdentityLink | None]]:
    """Each staff member in scope with their provider binding, if any."""
    staff = db.session.scalars(staff_in_scope(admin)).all()
    links = {link.user_id: link for link in db.session.scalars(select(IdentityLink).where(
        IdentityLink.provider == "oidc", IdentityLink.user_id.in_([u.id for u in staff])))}
    return [(user, links.get(user.id)) for user in staff]


def bind_staff(admin: User, user_id: int | None, subject: str) -> IdentityLink:
    """Bind a staff account to a provider subject; the role stays whatever it was."""
    user = db.session.scalar(staff_in_scope(admin).where(User.id == user_id)) if user_id else None
    if user is None:
        raise LinkError("请选择工作人员", "user_id")
    subject = subject.strip()
    if not subject:
        raise LinkError("请输入统一身份认证的用户标识", "subject")
    if len(subject) > 255:
        raise LinkError("用户标识不能超过 255 个字符", "subject")
    if _link_for("oidc", subject) is not None:
        raise LinkError("这个用户标识已绑定其他账号", "subject")
    link = _create_link(user, Identity(provider="oidc", subject=subject), bound_by=admin)
    db.session.commit()
    return link


def unbind_staff(admin: User, link_id: int) -> bool:
    """Remove a staff member's binding; False when there is no such staff binding, refused
    (403) when the staff member is outside this admin's hall."""
    link = db.session.get(IdentityLink, link_id)
    person = db.session.get(User, link.user_id) if link is not None else None
    if person is None or not person.is_staff:
        db.session.rollback()
        return False
    scope(admin).change(person.hall_id)
    audit("identity_link", link.id, "unlinked", actor_id=admin.id, from_status="linked",
          note=f"管理员解除工作人员 {link.user_id} 的统一身份认证绑定")
    db.session.delete(link)
    db.session.commit()
    return True
