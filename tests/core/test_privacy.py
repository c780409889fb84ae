"""Phone and ID numbers are masked on screen and absent from logs."""

import logging

from app.core.privacy import RedactingFilter, mask_id, mask_phone, redact


def test_masks():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_id("11010119900307123X") == "110101********123X"


def test_redact_free_text():
    text = "phone 13800138000 id 11010119900307123X code sent"
    assert redact(text) == "phone 138****8000 id 110101********123X code sent"


def test_log_lines_are_redacted(caplog):
    logger = logging.getLogger("app.test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("sent to %s", "13800138000")
    assert "13800138000" not in caplog.text and "138****8000" in caplog.text


def test_sign_in_leaves_no_phone_in_logs(client, auth, caplog):
    with caplog.at_level(logging.DEBUG):
        auth.login_citizen("13812345678")
        client.get("/me")
    assert "13812345678" not in caplog.text
