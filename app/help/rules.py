"""What every 帮办代办 module shares: the entity's name, the refusal, and that only the named
helper acts on a request."""

from flask import url_for
from flask_login import current_user

from app.auth.models import User
from app.core.refusals import Refusal
from app.help.models import HelpRequest

ENTITY = "help_request"
NOT_FOUND = "没有找到这条帮办申请"


class HelpError(Refusal):
    """A refused 帮办代办 action (a Refusal); 返回 leads to the person's own list."""

    default_status = 409
    titles = {403: "不能这样操作", 422: "不在服务范围"}
    heading = "帮办代办"
    rule = "help"

    def way_back(self) -> str | None:
        if self.back_url:
            return self.back_url
        staff = current_user.is_authenticated and current_user.is_staff
        return url_for("help.staff_requests") if staff else url_for("help.mine")


def require_helper(row: HelpRequest, user: User) -> None:
    """Only the named helper acts on a request; everyone else gets 403 with the reason."""
    if row.helper_id is None:
        raise HelpError("这条帮办申请还没有指派帮办员,请先接单", 403)
    if row.helper_id != user.id:
        raise HelpError(f"这条帮办申请已指派给{row.helper.display_name},"
                        "只有指派的帮办员可以办理", 403)
