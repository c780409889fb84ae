"""The rating scale, the indicators, the reasons, and the rectification state machine."""

import enum

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
GOOD_FROM = 3  # three and up is good, two and down is bad (GB/T 39735)

CHANNELS = {"onsite": "现场服务", "online": "网上办理"}
# The first tap rates the service overall; these are asked after it, each optional.
INDICATORS = {
    "online": {"efficiency": "办事效率", "guide": "办事指南准确", "convenience": "办理便利",
               "usability": "平台好用"},
    "onsite": {"efficiency": "办事效率", "competence": "业务能力", "attitude": "服务态度"},
}
ENTITIES = {"booking": "预约办理", "application": "网上办件", "help_request": "帮办代办"}

REASONS = {
    "slow": "等候或办理时间太长",
    "attitude": "服务态度不好",
    "unclear": "办事指南或告知不清楚",
    "repeat": "多次跑动、重复提交材料",
    "wrong": "办理结果有误或没办成",
    "system": "网站或手机应用不好用",
    "other": "其他原因",
}
APPEAL_REASONS = {"mistaken": "误评(评价对象或内容有误)", "malicious": "恶意差评"}
CONTACT_METHODS = {"phone": "电话", "sms": "短信", "visit": "当面"}
PLANS = {"simple": "当场可整改", "complex": "需要一段时间整改(15 个工作日内)"}


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CONTACTED = "contacted"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    EXPLAINED = "explained"
    UNDER_APPEAL = "under_appeal"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


S = CaseStatus
LABELS = {S.OPEN: "待联系", S.CONTACTED: "整改中", S.RECTIFIED: "待回访", S.VERIFIED: "已回访",
          S.EXPLAINED: "已解释说明", S.UNDER_APPEAL: "申诉中", S.UPHELD: "申诉未通过",
          S.DISMISSED: "差评已撤销"}
TONES = {S.OPEN: "error", S.CONTACTED: "warning", S.RECTIFIED: "info", S.VERIFIED: "success",
         S.EXPLAINED: "neutral", S.UNDER_APPEAL: "warning", S.UPHELD: "info",
         S.DISMISSED: "neutral"}

# Where each status may go. `upheld` resumes the case where the appeal interrupted it, so its
# moves are those of the status it came from (kept on the case as `appeal_from`).
ALLOWED = {
    S.OPEN: {S.CONTACTED, S.EXPLAINED, S.UNDER_APPEAL},
    S.CONTACTED: {S.RECTIFIED, S.EXPLAINED, S.UNDER_APPEAL},
    S.RECTIFIED: {S.VERIFIED, S.UNDER_APPEAL},
    S.VERIFIED: {S.UNDER_APPEAL},
    S.EXPLAINED: {S.UNDER_APPEAL},
    S.UNDER_APPEAL: {S.UPHELD, S.DISMISSED},
    S.UPHELD: set(),
    S.DISMISSED: set(),
}
# The time each move stamps on the case (the first reply is kept).
STAMPS = {S.CONTACTED: "replied_at", S.EXPLAINED: "replied_at", S.RECTIFIED: "rectified_at",
          S.VERIFIED: "verified_at"}
# The citizen hears of the fix or the explanation by SMS, with the link to rate again.
SMS = {S.RECTIFIED: "rating_reply", S.EXPLAINED: "rating_reply"}
# Statuses whose clock runs; the rest are closed or paused (an appeal pauses the clock).
CLOCKED = {S.OPEN, S.CONTACTED, S.RECTIFIED, S.UPHELD}
CLOSED = {S.VERIFIED, S.EXPLAINED, S.DISMISSED}
REPLIED = {S.CONTACTED, S.RECTIFIED, S.VERIFIED, S.EXPLAINED}

STEP_LABELS = {S.OPEN: "联系群众", S.CONTACTED: "完成整改", S.RECTIFIED: "回访核实"}

