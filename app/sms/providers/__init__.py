"""SMS providers: a console one for development (console.py) and Aliyun's Dysmsapi (aliyun.py),
each taking and answering the types in base.py; make_provider() builds the configured one."""

import json

from app.sms.providers.aliyun import AliyunProvider
from app.sms.providers.console import ConsoleProvider

# Every setting make_provider reads: a provider built from other values is stale.
SETTINGS = ("SMS_BACKEND", "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET",
            "ALIYUN_SMS_SIGN_NAME", "ALIYUN_SMS_TEMPLATES", "ALIYUN_SMS_ENDPOINT", "SMS_TIMEOUT")


def make_provider(config):
    """The provider SMS_BACKEND names, built from the app's settings."""
    backend = config.get("SMS_BACKEND") or "console"
    if backend == "console":
        return ConsoleProvider()
    if backend != "aliyun":
        raise ValueError(f"SMS_BACKEND must be 'console' or 'aliyun', not {backend!r}")
    keys = ["ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME",
            "ALIYUN_SMS_TEMPLATES"]
    missing = [key for key in keys if not config.get(key)]
    if missing:
        raise ValueError(f"SMS_BACKEND=aliyun needs {', '.join(missing)}")
    return AliyunProvider(
        config["ALIYUN_ACCESS_KEY_ID"], config["ALIYUN_ACCESS_KEY_SECRET"],
        config["ALIYUN_SMS_SIGN_NAME"], _template_codes(config["ALIYUN_SMS_TEMPLATES"]),
        endpoint=config.get("ALIYUN_SMS_ENDPOINT") or "https://dysmsapi.aliyuncs.com/",
        timeout=float(config.get("SMS_TIMEOUT") or 5.0))


def _template_codes(value) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ALIYUN_SMS_TEMPLATES is not JSON: {exc.msg}") from exc
    if not isinstance(value, dict) or not value or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()):
        raise ValueError('ALIYUN_SMS_TEMPLATES must map template keys to Aliyun template codes, '
                         'e.g. {"login_code": "SMS_123456789"}')
    return value
