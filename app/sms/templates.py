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
    # ratings (好差评): the invitation, the answer to a bad rating, and the staff's clocks
    Template("rating_invite", "【掌上办】感谢您到{hall}办事,欢迎评价本次服务:{link}", segments=2),
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
    # progress (进度): every change that matters to the citizen, each with its short link
    Template("progress_submitted", "【掌上办】您的办件已提交,预审结果将短信告知。查看进度:{link}"),
    Template("progress_supplement", "【掌上办】您的办件需补正材料,请按页面所列一次补齐:{link}"),
    Template("progress_accepted", "【掌上办】您的办件已受理,正在办理。查看进度:{link}"),
    Template("progress_accepted_missing",
             "【掌上办】您的办件已容缺受理,请于{deadline}前补交材料:{link}"),
    Template("progress_completed", "【掌上办】您的办件已办结,请选择窗口领取或快递送达:{link}"),
    Template("progress_rejected", "【掌上办】您的办件未予受理,原因和下一步请看:{link}"),
    Template("progress_called_soon", "【掌上办】{ticket}号前还有{ahead}人,请到窗口附近等候:{link}",
             example={"ahead": "12"}),
    # help (帮办代办): one message per step, and the code that confirms an on-behalf action
    Template("help_submitted", "【掌上办】您的帮办申请已收到,工作人员将尽快联系您:{link}"),
    Template("help_reviewed", "【掌上办】帮办申请已初审,帮办员{name}将为您办理:{link}"),
    Template("help_feedback", "【掌上办】帮办员已反馈办理安排,请查看:{link}"),
    Template("help_accepted", "【掌上办】您的帮办事项已受理,查看详情:{link}"),
    Template("help_declined", "【掌上办】您的帮办申请未能受理,原因见:{link}"),
    Template("help_confirm_code",
             "【掌上办】验证码{code},10分钟内有效,用于确认工作人员代您{what},请勿告诉他人。",
             urgent=True, example={"what": "申请预审"}),
    # applications (拍照预审): one message per move, each with a short link
    *[Template(key, f"【掌上办】办件{{ref}}{words}:{{link}}", example={"ref": "YS26112312345"})
      for key, words in [("app_submitted", "已提交预审,进度"),
                         ("app_reviewing", "已开始审核,进度"),
                         ("app_supplement", "需补正材料,请补齐"),
                         ("app_accepted", "预审通过,请看详情"),
                         ("app_accepted_missing", "已容缺受理,请确认"),
                         ("app_rejected", "不予受理,原因见"),
                         ("app_processing", "已开始办理,进度"),
                         ("app_completed", "已办结,详情见"),
                         ("app_lapsed", "容缺逾期,详情见")]],
    # licences (电子证照): a licence issued or revoked
    Template("licence_issued",
             "【掌上办】您的{name}电子证照已生成,可在掌上办“我的证照”查看和亮证。",
             example={"name": "公共场所卫生许可证"}),
    Template("licence_revoked", "【掌上办】您的{name}电子证照已被注销,详情请在“我的证照”查看。",
             example={"name": "公共场所卫生许可证"}),
    # feedback: 办不成事 reports (to the citizen, and to the hall admin) and 我要问 answers
    Template("feedback_report_received", "【掌上办】办不成事反映已收到,{due}前答复您:{link}"),
    Template("feedback_report_replied", "【掌上办】您反映的办不成事已有答复,请查看:{link}"),
    Template("feedback_report_resolved", "【掌上办】您反映的办不成事已办结,结果请看:{link}"),
    Template("feedback_report_new", "【掌上办】新的办不成事反映{number}:{item},请今天内答复。"),
    Template("feedback_question_answered", "【掌上办】您在掌上办的提问已有答复,请查看:{link}"),
]}


def render(key: str, params: dict) -> str:
    """The text of a template with its parameters; KeyError for an unknown template."""
    return TEMPLATES[key].text.format(**params)
