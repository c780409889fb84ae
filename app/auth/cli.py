"""`flask staff ...`: switch a staff account off or on, or set its password (each ends sign-ins)."""

import click
from sqlalchemy import select

from app.auth import bp
from app.auth.models import User
from app.auth.services import set_active
from app.auth.sessions import end_all
from app.core.models import audit
from app.extensions import db


def _staff(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_staff:
        raise click.ClickException(f"没有用户名为 {username} 的工作人员")
    return user


@bp.cli.command("disable")
@click.argument("username")
def disable(username: str):
    """Switch the account off: it cannot sign in, and every sign-in of it ends for good."""
    set_active(_staff(username), False)
    click.echo(f"已停用 {username},其所有登录已退出。")


@bp.cli.command("enable")
@click.argument("username")
def enable(username: str):
    """Switch the account on again (earlier sign-ins stay ended)."""
    set_active(_staff(username), True)
    click.echo(f"已启用 {username}。")


@bp.cli.command("password")
@click.argument("username")
@click.password_option(prompt="新密码")
def password(username: str, password: str):
    """Set a new password (a forgotten one); every sign-in of the account ends."""
    if len(password) < 10:
        raise click.ClickException("新密码至少 10 个字符")
    user = _staff(username)
    user.set_password(password)
    user.failed_logins, user.locked_until = 0, None
    end_all(user, "password")
    audit("user", user.id, "password", note="管理员在命令行重设密码,所有登录已退出")
    db.session.commit()
    click.echo(f"已重设 {username} 的密码,其所有登录已退出。")
