"""Talking to the providers: Authlib's OIDC client, and the WeChat-style OAuth 2.0 endpoints.

Everything a provider can get wrong is turned into one SsoError with a Chinese message for the
person and a short reason for the log; tokens, codes and secrets never reach either.
"""

import hashlib
import hmac
import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import current_app, session
from joserfc.errors import ExpiredTokenError, JoseError

from app.auth.services import normalize_phone
from app.core.refusals import Refusal

log = logging.getLogger(__name__)

TIMEOUT = 10  # seconds; a slow provider must not hold a worker for long
STATE_TTL = 600  # seconds a sign-in may take at the provider
METADATA_TTL = 3600  # seconds before discovery and JWKS are fetched again
WECHAT_STATE = "sso_wechat_state"

STALE = "登录请求已失效或已使用,请重新登录。"
UNVERIFIED = "无法确认统一身份认证返回的身份凭证,未能登录。请重新登录,或用手机号登录。"
EXPIRED = "统一身份认证返回的身份凭证已过期,请重新登录。"
DOWN = "{name}暂时无法访问,请稍后再试,或用手机号登录。"
GARBAGE = "{name}返回的信息有误,请稍后再试,或用手机号登录。"
CANCELLED = "您没有完成{name}授权,未能登录。可以重新登录,或用手机号登录。"
WECHAT_CODE = "微信授权已失效或已使用,请重新登录。"


class SsoError(Refusal):
    """A refused sign-in (a Refusal): `message` is for the person, `reason` for the log."""

    def __init__(self, message: str, reason: str, status: int = 400):
        super().__init__(message, status)
        self.reason = reason


@dataclass
class Identity:
    """Who the provider says is signing in, after every check passed."""

    provider: str
    subject: str
    phone: str | None = None  # only when the provider vouches for it
    name: str | None = None
    name_verified: bool = False
    union_id: str | None = None
    id_token: str | None = None


def oidc_configured() -> bool:
    """The unified identity provider's settings are all there."""
    cfg = current_app.config
    return bool(cfg.get("OIDC_ISSUER") and cfg.get("OIDC_CLIENT_ID")
                and cfg.get("OIDC_CLIENT_SECRET"))


def wechat_configured() -> bool:
    """The WeChat-style provider's settings are all there."""
    cfg = current_app.config
    return bool(cfg.get("WECHAT_APP_ID") and cfg.get("WECHAT_APP_SECRET"))


CLIENTS = "palm.oidc_clients"  # app.extensions: our clients and when each was made


@dataclass
class _Client:
    client: object
    made_at: float  # its discovery and JWKS are fetched on first use, and kept for its life


def _client_name() -> str:
    """The registered name for the current settings: changed settings make a new client, with
    its own discovery document and JWKS (the name also keys the sign-in state in the session)."""
    cfg = current_app.config
    fingerprint = (cfg["OIDC_ISSUER"].rstrip("/"), cfg["OIDC_CLIENT_ID"],
                   cfg["OIDC_CLIENT_SECRET"], cfg["OIDC_SCOPES"])
    return "oidc_" + hashlib.sha256(repr(fingerprint).encode()).hexdigest()[:16]


def oidc_client():
    """Authlib's client for the current settings, made anew once it is METADATA_TTL old:
    Authlib keeps discovery and JWKS for a client's life, and providers do change them."""
    app, name = current_app._get_current_object(), _client_name()
    known = app.extensions.setdefault(CLIENTS, {})
    found = known.get(name)
    if found is None or found.made_at < time.time() - METADATA_TTL:
        found = known[name] = _Client(_new_client(app, name), time.time())
    return found.client


def _new_client(app, name: str):
    """A client in a registry of its own (Authlib has no unregister), so the old one, with its
    discovery document and JWKS, is dropped whole."""
    cfg = app.config
    registry = OAuth()
    registry.init_app(app)
    return registry.register(
        name, client_id=cfg["OIDC_CLIENT_ID"], client_secret=cfg["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{cfg['OIDC_ISSUER'].rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": cfg["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": TIMEOUT})


def forget_metadata() -> None:
    """Fetch the discovery document and JWKS again on the next use."""
    current_app.extensions.get(CLIENTS, {}).pop(_client_name(), None)


def _metadata(client) -> dict:
    """The discovery document, which must name our issuer exactly (OIDC Discovery 4.3)."""
    metadata = client.load_server_metadata()
    if not isinstance(metadata, dict) or "authorization_endpoint" not in metadata:
        forget_metadata()
        raise ValueError("discovery document without authorization_endpoint")
    if str(metadata.get("issuer")).rstrip("/") != current_app.config["OIDC_ISSUER"].rstrip("/"):
        forget_metadata()
        raise SsoError(UNVERIFIED, "discovery issuer does not match OIDC_ISSUER")
    return metadata


@contextmanager
def _provider_errors(name: str):
    """Turn network, protocol and token failures into SsoError; anything else is a bug."""
    try:
        yield
    except SsoError:
        raise
    except Exception as err:  # noqa: BLE001 - _map_error re-raises what it does not know
        mapped = _map_error(name, err)
        if mapped is None:
            raise
        raise mapped from err


def _map_error(name: str, err: BaseException) -> SsoError | None:
    reason = type(err).__name__
    if isinstance(err, MismatchingStateError):
        return SsoError(STALE, "state missing, wrong or already used")
    if isinstance(err, OAuthError):
        # The provider's own error code (e.g. invalid_grant) is safe to log; its text may not be.
        code = getattr(err, "error", "oauth_error")
        if code == "access_denied":
            return SsoError(CANCELLED.format(name=name), "provider said access_denied")
        return SsoError(GARBAGE.format(name=name), f"provider error {code}", 502)
    if isinstance(err, ExpiredTokenError):
        return SsoError(EXPIRED, "id_token expired")
    if isinstance(err, JoseError):
        return SsoError(UNVERIFIED, f"id_token refused: {reason} {getattr(err, 'error', '')}")
    if isinstance(err, (requests.ConnectionError, requests.Timeout)):
        return SsoError(DOWN.format(name=name), f"provider unreachable: {reason}", 502)
    if isinstance(err, requests.HTTPError):
        status = err.response.status_code if err.response is not None else "?"
        return SsoError(GARBAGE.format(name=name), f"provider answered HTTP {status}", 502)
    if isinstance(err, (requests.RequestException, ValueError, KeyError, TypeError,
                        AuthlibBaseError, RuntimeError)):
        return SsoError(GARBAGE.format(name=name), f"provider answer unusable: {reason}", 502)
    return None


def oidc_authorization_url(redirect_uri: str) -> str:
    """Where to send the browser; state, nonce and the PKCE verifier wait in the session."""
    client = oidc_client()
    with _provider_errors("统一身份认证"):
        _metadata(client)
        rv = client.create_authorization_url(redirect_uri)
    # One sign-in in flight per browser keeps the session cookie small; an older tab's
    # attempt is refused as stale.
    for key in [k for k in session if k.startswith("_state_oidc_")]:
        session.pop(key)
    client.save_authorize_data(redirect_uri=redirect_uri, state=rv["state"],
                               code_verifier=rv["code_verifier"], nonce=rv["nonce"])
    return rv["url"]


def oidc_identity() -> Identity:
    """Exchange the code, verify the ID token, and read the claims we use."""
    cfg = current_app.config
    client = oidc_client()
    with _provider_errors("统一身份认证"):
        metadata = _metadata(client)
        # aud must name us: Authlib alone would accept another client's token that carries our azp.
        options = {"iss": {"essential": True, "values": [metadata["issuer"]]},
                   "aud": {"essential": True, "values": [cfg["OIDC_CLIENT_ID"]]}}
        token = client.authorize_access_token(claims_options=options)
        claims = token.get("userinfo")
        if not claims:
            raise SsoError(UNVERIFIED, "token response without a verified id_token")
        claims = dict(claims)
        wanted = (cfg["OIDC_PHONE_CLAIM"], cfg["OIDC_NAME_CLAIM"])
        if metadata.get("userinfo_endpoint") and not all(k in claims for k in wanted):
            extra = dict(client.userinfo(token=token))
            if extra.get("sub") != claims["sub"]:
                raise SsoError(UNVERIFIED, "userinfo sub differs from id_token sub")
            claims = {**extra, **claims}
    return _identity_from_claims(claims, token["id_token"])


def _identity_from_claims(claims: dict, id_token: str) -> Identity:
    cfg = current_app.config
    phone_claim, name_claim = cfg["OIDC_PHONE_CLAIM"], cfg["OIDC_NAME_CLAIM"]
    raw_phone = claims.get(phone_claim)
    # A phone is vouched for unless the provider says outright that it has not verified it.
    vouched = claims.get(f"{phone_claim}_verified", True) is True
    name = claims.get(name_claim)
    name = name.strip()[:40] if isinstance(name, str) and name.strip() else None
    return Identity(
        provider="oidc", subject=str(claims["sub"]),
        phone=normalize_phone(raw_phone) if isinstance(raw_phone, str) and vouched else None,
        name=name, name_verified=bool(name and claims.get(cfg["OIDC_VERIFIED_NAME_CLAIM"]) is True),
        id_token=id_token)


def oidc_logout_url(id_token: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL, or None when it has none or cannot be reached."""
    if not oidc_configured():
        return None
    client = oidc_client()
    try:
        metadata = _metadata(client)
        if not metadata.get("end_session_endpoint"):
            return None
        return client.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                        id_token_hint=id_token,
                                        client_id=current_app.config["OIDC_CLIENT_ID"])["url"]
    except (SsoError, requests.RequestException, ValueError, RuntimeError) as err:
        log.warning("sso oidc end-session skipped: %s", type(err).__name__)
        return None


def wechat_authorization_url(redirect_uri: str) -> str:
    """WeChat's web authorization URL: appid, scope, state and the #wechat_redirect fragment."""
    cfg = current_app.config
    state = generate_token(24)
    session[WECHAT_STATE] = {"state": state, "redirect_uri": redirect_uri,
                             "exp": time.time() + STATE_TTL}
    params = {"appid": cfg["WECHAT_APP_ID"], "redirect_uri": redirect_uri,
              "response_type": "code", "scope": cfg["WECHAT_SCOPE"], "state": state}
    return f"{cfg['WECHAT_AUTHORIZE_URL']}?{urlencode(params)}#wechat_redirect"


def wechat_identity(args) -> Identity:
    """Check state, swap the single-use code for an openid, and read the profile if allowed."""
    saved = session.pop(WECHAT_STATE, None)
    state = args.get("state") or ""
    if (not saved or saved["exp"] < time.time()
            or not hmac.compare_digest(saved["state"].encode(), state.encode())):
        raise SsoError(STALE, "wechat state missing, wrong or already used")
    code = args.get("code")
    if not code:
        raise SsoError(CANCELLED.format(name="微信"), "wechat redirect without a code")
    cfg = current_app.config
    with _provider_errors("微信"):
        token = _wechat_get("/sns/oauth2/access_token", {
            "appid": cfg["WECHAT_APP_ID"], "secret": cfg["WECHAT_APP_SECRET"], "code": code,
            "grant_type": "authorization_code"})
        openid = token.get("openid")
        if not isinstance(openid, str) or not openid:
            raise ValueError("access_token answer without openid")
        profile = {}
        if "snsapi_userinfo" in str(token.get("scope", "")):
            profile = _wechat_get("/sns/userinfo", {"access_token": token["access_token"],
                                                    "openid": openid, "lang": "zh_CN"})
            if profile.get("openid") != openid:
                raise ValueError("userinfo for another openid")
    nickname = profile.get("nickname")
    return Identity(provider="wechat", subject=openid,
                    union_id=profile.get("unionid") or token.get("unionid"),
                    name=nickname.strip()[:40] if isinstance(nickname, str) and nickname.strip()
                    else None)


def _wechat_get(path: str, params: dict) -> dict:
    """One GET to the WeChat-style API; errcode answers become SsoError."""
    url = current_app.config["WECHAT_API_BASE"].rstrip("/") + path
    response = requests.get(url, params=params, timeout=TIMEOUT)
    response.raise_for_status()
    data = json.loads(response.content.decode("utf-8"))  # WeChat says text/plain
    if not isinstance(data, dict):
        raise ValueError("answer is not a JSON object")
    errcode = data.get("errcode")
    if errcode:
        if errcode in (40029, 40163, 41008):  # invalid, already used, missing code
            raise SsoError(WECHAT_CODE, f"wechat refused the code: errcode {errcode}")
        raise SsoError(GARBAGE.format(name="微信"), f"wechat errcode {errcode}", 502)
    return data
