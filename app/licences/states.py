"""The licence's states: what a staff member may do to one, and the words for each."""

import enum


class Status(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # never stored: a valid licence past its expiry date reads so
    REVOKED = "revoked"
    REPLACED = "replaced"


S = Status
ALLOWED = {S.VALID: {S.REVOKED, S.REPLACED}, S.REVOKED: set(), S.REPLACED: set()}
# The holder (and the company's members) hear of a revoked licence; a replaced one's news is the
# new licence's own SMS.
SMS = {S.REVOKED: "licence_revoked"}
LABELS = {S.VALID: ("有效", "success"), S.EXPIRED: ("已过期", "neutral"),
          S.REVOKED: ("已注销", "error"), S.REPLACED: ("已换发", "neutral")}
# Why a licence cannot stand in for a material, in the words the citizen reads.
REFUSALS = {S.EXPIRED: "这本证照已过有效期,不能用于免提交,请拍照上传",
            S.REVOKED: "这本证照已被注销,不能用于免提交,请拍照上传",
            S.REPLACED: "这本证照已换发新证,请使用新证照"}

# 用证记录: what kind of use each record is.
USES = {"show": "亮证", "verify": "窗口核验", "material": "免提交材料", "review": "预审查看",
        "staff_view": "工作人员查看"}
