"""docs/design.md states the rules with the code's numbers: each sentence below is built from the
default it names, so a changed default (or a number typed wrong, as "30 + 10 s" for the job bound
was) fails here instead of misleading a newcomer."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGN = " ".join((ROOT / "docs" / "design.md").read_text(encoding="utf-8").split())


@pytest.fixture
def defaults(monkeypatch):
    """The settings as a machine with none of them set gets them."""
    from app.config import from_env

    for name in list(os.environ):
        if name.isupper() and name not in ("PATH", "HOME", "INSTANCE_PATH"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SECRET_KEY", "design-doc-test")
    config = from_env()
    config["UPLOAD_MAX_MB"] = config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
    return config


def _per(limits: str) -> str:
    """"1/minute;5/hour" as the page words it: "1 a minute, 5 an hour"."""
    pairs = [limit.split("/") for limit in limits.split(";")]
    return ", ".join(f"{n} {'an' if unit == 'hour' else 'a'} {unit}" for n, unit in pairs)


def _sentences(c: dict) -> list[str]:
    from app.help.behalf import CODE_TTL
    from app.sms.templates import SEGMENT
    from app.uploads.imaging import LONG_EDGE, THUMB_EDGE

    quiet_from, quiet_to = (int(h) for h in c["QUIET_HOURS"].split("-"))
    retries = [f"{s} s" for s in c["JOB_RETRY_INTERVALS"]]
    return [
        f"(`/t/<token>`, {c['LINK_TTL_DAYS']} days;",
        f"that one record in that browser for {c['LOOKUP_GRANT_MINUTES']} minutes",
        f"up to {c['BOOKING_DAYS_AHEAD']} working days ahead, until "
        f"{c['BOOKING_MIN_LEAD_MINUTES']} minutes before the slot starts",
        f"cancelling or changing closes {c['BOOKING_CANCEL_LEAD_MINUTES']} minutes before",
        f"{c['BOOKING_NO_SHOW_LIMIT']} no-shows, or {c['BOOKING_CANCEL_LIMIT']} cancellations, "
        f"within {c['BOOKING_COUNT_DAYS']} days bar online booking for "
        f"{c['BOOKING_BAR_DAYS']} days",
        f"people aged {c['BOOKING_PRIORITY_AGE']} and over",
        f"counts {c['BOOKING_SERVICE_MINUTES']} minutes a person",
        f"the day before at {c['BOOKING_REMINDER_HOUR']}:00",
        f"at most {c['UPLOAD_MAX_MB']} MB and {c['UPLOAD_MAX_PIXELS'] // 1_000_000} megapixels, "
        f"at most {c['APPLICATION_MAX_PHOTOS']} per application",
        f"a {LONG_EDGE} px copy and a {THUMB_EDGE} px thumbnail",
        f"later applications for {c['MATERIAL_REUSE_DAYS']} days",
        f"Retention: {c['PHOTO_RETENTION_DAYS']} days after pre-review ended",
        f"within {c['RATING_WINDOW_WORKDAYS']} working days",
        f"contact within {c['RATING_CONTACT_WORKDAYS']} working day",
        f"a simple fix within {c['RATING_FIX_SIMPLE_WORKDAYS']} working day of the contact, "
        f"a complex one within {c['RATING_FIX_COMPLEX_WORKDAYS']};",
        f"follow-up within {c['RATING_VERIFY_WORKDAYS']} working days of the fix",
        f"Reminders go at {c['RATING_REMIND_HOUR']:02d}:00",
        f"valid {c['SMS_CODE_TTL_SECONDS'] // 60} minutes",
        f"{c['SMS_CODE_MAX_TRIES']} wrong tries kill a code",
        f"confirmation code lives {CODE_TTL.seconds // 60} minutes",
        f"per phone {_per(c['SMS_LIMITS_PER_PHONE'])}; per address {_per(c['SMS_LIMITS_PER_IP'])};",
        f"staff passwords {_per(c['LOGIN_LIMITS_PER_IP'])} per address",
        f"lock for {c['STAFF_LOCKOUT_MINUTES']} minutes after {c['STAFF_LOCKOUT_FAILURES']} wrong",
        f"Quiet hours {quiet_from:02d}:00–{quiet_to:02d}:00",
        f"retried after {', '.join(retries[:-1])} and {retries[-1]}",
        f"One segment is {SEGMENT} Chinese characters",
        f"resolved within {c['FEEDBACK_RESOLVE_WORKDAYS']} working days",
        f"({c['JOB_STUCK_SECONDS']} + {c['OUTBOX_SWEEP_SECONDS']} s)",
    ]


def test_the_design_states_the_codes_defaults(defaults):
    wrong = [s for s in _sentences(defaults) if s not in DESIGN]
    assert wrong == [], f"docs/design.md does not say (or no longer says) these: {wrong}"


def test_the_design_tells_the_demos_opening_hours_as_the_demo_data_has_them():
    from app.booking import demo

    (start, end), (start2, end2) = demo.MORNING, demo.AFTERNOON
    morning, afternoon = f"{start:%-H:%M}–{end:%-H:%M}", f"{start2:%-H:%M}–{end2:%-H:%M}"
    assert f"Monday to Friday {morning} and {afternoon}" in DESIGN
    assert f"also on Saturday mornings {morning}" in DESIGN
