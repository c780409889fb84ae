"""The console provider, for development: prints each message instead of sending it."""

import logging

from app.sms.providers.base import SENT, SendResult, SmsItem, mask_phone

log = logging.getLogger(__name__)


class ConsoleProvider:
    """Prints each message for developers, who need the code; the phone is masked."""

    name = "console"

    def send_batch(self, items: list[SmsItem]) -> list[SendResult]:
        """One stdout line per message; always sent.

        With LOG_FORMAT=json stdout is the structured log stream (journald, docker), so the text,
        which may hold a code, stays out of it: a log line names the message and the developer
        reads the text at /dev/outbox.
        """
        structured = _structured_logs()
        results = []
        for item in items:
            if structured:
                log.info("console sms %s to %s: text at /dev/outbox", item.template,
                         mask_phone(item.phone))
            else:
                print(f"[短信] {mask_phone(item.phone)} ← {item.text}", flush=True)
            results.append(SendResult(SENT, f"console-{item.out_id}"))
        return results


def _structured_logs() -> bool:
    from flask import current_app, has_app_context

    return has_app_context() and current_app.config.get("LOG_FORMAT") == "json"
