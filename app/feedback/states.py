"""The two help channels' statuses: 办不成事 reports and 我要问 questions."""

import enum


class ReportStatus(enum.StrEnum):
    RECEIVED = "received"
    REPLIED = "replied"
    RESOLVED = "resolved"


R = ReportStatus
REPORT_LABELS = {R.RECEIVED: ("已受理", "warning"), R.REPLIED: ("已答复", "info"),
                 R.RESOLVED: ("已办结", "success")}
# A reply that settles the matter at once resolves it from `received` directly.
REPORT_ALLOWED = {R.RECEIVED: {R.REPLIED, R.RESOLVED}, R.REPLIED: {R.RESOLVED},
                  R.RESOLVED: set()}


class QuestionStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


Q = QuestionStatus
QUESTION_LABELS = {Q.OPEN: ("待答复", "warning"), Q.ANSWERED: ("已答复", "success")}

REPORT_ENTITY = "unresolved_report"
QUESTION_ENTITY = "question"
