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
# The citizen hears of the reply and of the resolution; the report itself gets no SMS (they just
# sent it, and the page they land on says when the hall answers).
REPORT_SMS = {R.REPLIED: "feedback_report_replied", R.RESOLVED: "feedback_report_resolved"}


class QuestionStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


Q = QuestionStatus
QUESTION_LABELS = {Q.OPEN: ("待答复", "warning"), Q.ANSWERED: ("已答复", "success")}
# Correcting an answer is a move from answered to answered: audited, and told by SMS only once.
QUESTION_ALLOWED = {Q.OPEN: {Q.ANSWERED}, Q.ANSWERED: {Q.ANSWERED}}
QUESTION_SMS = {Q.ANSWERED: "feedback_question_answered"}
QUESTION_QUIET = {(Q.ANSWERED, Q.ANSWERED)}

REPORT_ENTITY = "unresolved_report"
QUESTION_ENTITY = "question"
