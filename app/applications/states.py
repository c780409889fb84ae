"""The application state machine (DESIGN.md "Application"): allowed moves and their words."""

import enum


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVIEWING = "reviewing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    ACCEPTED_WITH_MISSING = "accepted_with_missing"
    ACCEPTED = "accepted"
    PROCESSING = "processing"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"


S = Status
# reviewing -> submitted is the clerk letting go of a claim (back to the hall's queue).
ALLOWED = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.REVIEWING, S.WITHDRAWN},
    S.REVIEWING: {S.SUPPLEMENT_REQUESTED, S.ACCEPTED_WITH_MISSING, S.ACCEPTED, S.REJECTED,
                  S.SUBMITTED},
    S.SUPPLEMENT_REQUESTED: {S.SUBMITTED},
    S.ACCEPTED_WITH_MISSING: {S.ACCEPTED, S.LAPSED},
    S.ACCEPTED: {S.PROCESSING},
    S.PROCESSING: {S.COMPLETED},
    S.COMPLETED: set(),
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.LAPSED: set(),
}
# Pre-review is over in these; retention counts from the moment one is reached.
CLOSED = {S.ACCEPTED, S.COMPLETED, S.REJECTED, S.WITHDRAWN, S.LAPSED}
# Pre-review closes at the first of these; the time it did is kept.
STAMPS = dict.fromkeys(CLOSED, "closed_at")
EDITABLE = {S.DRAFT, S.SUPPLEMENT_REQUESTED}

LABELS = {S.DRAFT: ("草稿", "neutral"), S.SUBMITTED: ("待预审", "info"),
          S.REVIEWING: ("预审中", "info"), S.SUPPLEMENT_REQUESTED: ("需补正", "warning"),
          S.ACCEPTED_WITH_MISSING: ("容缺受理", "warning"), S.ACCEPTED: ("预审通过", "success"),
          S.PROCESSING: ("办理中", "info"), S.COMPLETED: ("已办结", "success"),
          S.REJECTED: ("不予受理", "error"), S.WITHDRAWN: ("已撤回", "neutral"),
          S.LAPSED: ("容缺逾期", "error")}

# The citizen's timeline: one sentence per move.
PUBLIC_NOTES = {S.SUBMITTED: "已提交预审,等待窗口工作人员审核",
                S.REVIEWING: "窗口工作人员已开始审核您的材料",
                S.SUPPLEMENT_REQUESTED: "材料需要补正,请按提示一次补齐后重新提交",
                S.ACCEPTED_WITH_MISSING: "已容缺受理,请在期限内补齐所缺材料",
                S.ACCEPTED: "预审通过,请携带原件到大厅办理",
                S.PROCESSING: "已开始办理", S.COMPLETED: "已办结",
                S.REJECTED: "不予受理", S.WITHDRAWN: "申请已撤回",
                S.LAPSED: "容缺材料未在期限内补齐,容缺受理失效"}

# SMS per move; the link purpose decides which page it opens. Submitting and withdrawing are the
# citizen's own acts on the page, 开始审核 and 开始办理 the hall's own steps: none sends anything.
SMS = {S.SUPPLEMENT_REQUESTED: ("app_supplement", "supplement"),
       S.ACCEPTED_WITH_MISSING: ("app_accepted_missing", "progress"),
       S.ACCEPTED: ("app_accepted", "progress"),
       S.COMPLETED: ("app_completed", "progress"), S.REJECTED: ("app_rejected", "progress"),
       S.LAPSED: ("app_lapsed", "progress")}
# 补齐 after 容缺受理: the person already heard by SMS that the matter was accepted, and handed in
# the missing material themselves, so a second 预审通过 would tell them nothing new.
QUIET = {(S.ACCEPTED_WITH_MISSING, S.ACCEPTED)}

VERDICT_OK, VERDICT_FIX, VERDICT_MISSING = "ok", "fix", "missing"
VERDICT_LABELS = {VERDICT_OK: ("合格", "success"), VERDICT_FIX: ("需补正", "warning"),
                  VERDICT_MISSING: ("容缺", "warning")}
FIX_REASONS = {"blurry": "照片模糊,看不清文字", "incomplete": "材料不完整或缺页",
               "wrong": "材料与要求不符", "expired": "证件已过有效期",
               "unsigned": "缺少签字或盖章", "mismatch": "信息与申请人不一致",
               "other": "其他"}
DECISIONS = {"accept": "预审通过", "accept_missing": "容缺受理", "supplement": "退回补正",
             "reject": "不予受理"}
REJECT_REASONS = {"not_ours": "不属于本大厅受理范围", "not_eligible": "申请人不符合办理条件",
                  "duplicate": "重复申请", "other": "其他"}
