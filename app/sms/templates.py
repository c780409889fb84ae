"""Every text the product sends, in one place. One segment is 70 characters."""

from dataclasses import dataclass, field

SEGMENT = 70


@dataclass(frozen=True)
class Template:
    key: str
    text: str
    urgent: bool = False  # urgent messages ignore quiet hours
    segments: int = 1  # the most this template may take, checked by a test
    # Realistic (longest likely) values for the length test, for parameters that
    # tests/sms/test_templates.py does not already know by name.
    example: dict = field(default_factory=dict)


TEMPLATES = {t.key: t for t in [
    Template("login_code", "【掌上办】验证码{code},5分钟内有效,仅用于登录掌上办,请勿告诉他人。",
             urgent=True),
    Template("lookup_code", "【掌上办】验证码{code},5分钟内有效,用于查询办件进度,请勿告诉他人。",
             urgent=True),
    Template("link_code",
             "【掌上办】验证码{code},5分钟内有效,用于绑定统一身份认证或微信登录,请勿告诉他人。",
             urgent=True),
    # ratings (好差评): the invitation, worded for how the person was served (only a visit
    # thanks them for coming to the hall), the answer to a bad rating, and the staff's clocks.
    # Where a matter ends with its own SMS (办结, 不予受理, 帮办受理) the rating link rides in
    # that one instead ({rate}), so the person gets one message, not two.
    Template("rating_invite", "【掌上办】感谢您到{hall}办事,欢迎评价本次服务:{link}", segments=2),
    Template("rating_invite_online", "【掌上办】感谢您使用网上预审,欢迎评价本次服务:{link}"),
    Template("rating_invite_phone", "【掌上办】感谢您使用电话帮办,欢迎评价本次服务:{link}"),
    Template("rating_invite_home", "【掌上办】感谢您使用上门帮办,欢迎评价本次服务:{link}"),
    Template("rating_reply", "【掌上办】您的评价已有答复,请查看:{link} 感谢您的监督"),
    Template("rating_case_due", "【掌上办】差评整改提醒:{no}需在{due}前{step},请及时处理。"),
    Template("rating_case_overdue", "【掌上办】差评整改{no}已逾期({step},期限{due}),请尽快处理。"),
    # booking (预约): the confirmation and the day-before reminder
    Template("booking_confirmed",
             "【掌上办】预约成功:{when}到{hall}办理{item},预约号{number}。查看或取消:{link}",
             segments=2),
    Template("booking_reminder",
             "【掌上办】提醒:您预约了明天{time}到{hall}办理{item},预约号{number},请带齐材料按时到场。",
             segments=2),
    # the hall cancelled a booking (a closed day, fewer places): not the citizen's doing
    Template("booking_hall_cancelled",
             "【掌上办】因{reason},您{when}在{hall}的预约已由大厅取消,不计爽约。请重新预约:{link}",
             segments=2, example={"reason": "大厅设备检修闭厅", "when": "12月15日09:30"}),
    # progress (进度): every change that matters to the citizen, each with its short link
    Template("progress_supplement", "【掌上办】您的办件需补正材料,请按页面所列一次补齐:{link}"),
    Template("progress_accepted", "【掌上办】您的办件已受理,正在办理。查看进度:{link}"),
    Template("progress_accepted_missing",
             "【掌上办】您的办件已容缺受理,请于{deadline}前补交材料:{link}"),
    Template("progress_completed", "【掌上办】您的办件已办结,请选择窗口领取或快递送达:{link}"),
    Template("progress_delivery_sent",
             "【掌上办】您的办件结果已由{courier}寄出,单号{tracking},查看:{link}",
             segments=2, example={"courier": "邮政快递包裹", "tracking": "SF1234567890123"}),
    Template("progress_rejected", "【掌上办】您的办件未予受理,原因和下一步请看:{link}"),
    Template("progress_called_soon",
             "【掌上办】{ticket}号前面还有 {ahead} 人,请到 {window} 窗口附近等候:{link}",
             segments=2, example={"ahead": "3", "window": "C01"}),
    # help (帮办代办): the helper's reply, the outcome (受理 with the rating link inside, or not),
    # and the code that confirms an on-behalf action. Asking and 初审 send nothing: the person
    # just asked on screen, and 初审 is the hall's own step.
    Template("help_feedback", "【掌上办】帮办员已反馈办理安排,请查看:{link}"),
    Template("help_accepted",
             "【掌上办】您的帮办事项已受理,详情:{link} 欢迎评价{service}服务:{rate}",
             segments=2, example={"service": "电话帮办"}),
    Template("help_declined", "【掌上办】您的帮办申请未能受理,原因见:{link}"),
    Template("help_confirm_code",
             "【掌上办】验证码{code},10分钟内有效,用于确认工作人员代您{what},请勿告诉他人。",
             urgent=True, example={"what": "申请预审"}),
    # applications (网上预审): a message only for what the hall decided, each with a short link.
    # Submitting is the person's own act on screen, 开始审核 and 开始办理 are the hall's own steps:
    # those send nothing. The outcome (办结, 不予受理) carries the rating link ({rate}).
    *[Template(key, f"【掌上办】办件{{ref}}{words}:{{link}}", example={"ref": "YS26112312345"})
      for key, words in [("app_supplement", "需补正材料,请补齐"),
                         ("app_accepted", "预审通过,请看详情"),
                         ("app_accepted_missing", "已容缺受理,请确认"),
                         ("app_lapsed", "容缺逾期,详情见")]],
    # licences (电子证照): a licence issued or revoked
    Template("licence_issued",
             "【掌上办】您的{name}电子证照已生成,可在掌上办“我的证照”查看和亮证。",
             example={"name": "公共场所卫生许可证"}),
    Template("licence_revoked", "【掌上办】您的{name}电子证照已被注销,详情请在“我的证照”查看。",
             example={"name": "公共场所卫生许可证"}),
    # 容缺: the reminders before the deadline for the missing materials
    Template("app_missing_soon",
             "【掌上办】办件{ref}的容缺材料请于{due}前补齐,还剩{left}个工作日:{link}",
             segments=2, example={"ref": "YS26112312345", "due": "12月15日", "left": "3"}),
    Template("app_missing_last_day",
             "【掌上办】今天是办件{ref}补齐容缺材料的最后一天,逾期容缺受理失效:{link}",
             segments=2, example={"ref": "YS26112312345"}),
    *[Template(key, f"【掌上办】办件{{ref}}{words}:{{link}} 欢迎评价网上预审服务:{{rate}}",
               segments=2, example={"ref": "YS26112312345"})
      for key, words in [("app_rejected", "不予受理,原因见"), ("app_completed", "已办结,详情见")]],
    # feedback: 办不成事 reports (to the citizen, and to the hall admin) and 我要问 answers
    Template("feedback_report_replied", "【掌上办】您反映的办不成事已有答复,请查看:{link}"),
    Template("feedback_report_resolved", "【掌上办】您反映的办不成事已办结,结果请看:{link}"),
    Template("feedback_report_new", "【掌上办】新的办不成事反映{number}:{item},请今天内答复。"),
    Template("feedback_question_answered", "【掌上办】您在掌上办的提问已有答复,请查看:{link}"),
]}


def render(key: str, params: dict) -> str:
    """The text of a template with its parameters; KeyError for an unknown template."""
    return TEMPLATES[key].text.format(**params)
