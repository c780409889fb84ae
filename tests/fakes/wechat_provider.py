"""A WeChat-style OAuth 2.0 web authorization fake on 127.0.0.1 for tests.

Same shapes as the real thing: `appid` instead of client_id, snsapi_base / snsapi_userinfo,
a single-use code valid 5 minutes, openid/unionid in the token answer, errcode bodies served
as text/plain with HTTP 200.
"""

import json
import secrets
import threading
import time
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from fakes.oidc_provider import QuietHandler

APP_ID = "wx0123456789abcdef"
APP_SECRET = "wechat-test-secret-9c1e"
DEFAULT_USER = {"openid": "oPalm-openid-0001", "unionid": "uPalm-unionid-0001",
                "nickname": "小李", "headimgurl": ""}
CODE_TTL = 300


class FakeWeChatProvider:
    """/connect/oauth2/authorize, /sns/oauth2/access_token and /sns/userinfo on a thread."""

    def __init__(self, port: int = 0):
        self.server = make_server("127.0.0.1", port, self._wsgi, threaded=True,
                                  request_handler=QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.authorize_url = f"{self.base}/connect/oauth2/authorize"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.reset()

    def reset(self) -> None:
        """Back to a well-behaved provider with the default user."""
        self.user = dict(DEFAULT_USER)
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.deny = False  # the person taps 拒绝: back without a code
        self.token_body: str | None = None  # garbage instead of the token answer

    def start(self) -> "FakeWeChatProvider":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def age_codes(self, seconds: int) -> None:
        """Pretend every issued code is `seconds` older."""
        for grant in self.codes.values():
            grant["issued"] -= seconds

    @Request.application
    def _wsgi(self, request: Request) -> Response:
        routes = {"/connect/oauth2/authorize": self._authorize,
                  "/sns/oauth2/access_token": self._access_token, "/sns/userinfo": self._userinfo}
        handler = routes.get(request.path)
        if handler is None:
            return _answer({"errcode": 404, "errmsg": "not found"})
        return handler(request)

    def _authorize(self, request):
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if (args.get("appid") != APP_ID or args.get("response_type") != "code"
                or args.get("scope") not in ("snsapi_base", "snsapi_userinfo")
                or not redirect_uri.startswith("http")):
            return Response("参数错误", 400, content_type="text/plain; charset=utf-8")
        if self.deny:
            return _redirect(redirect_uri, {"state": args.get("state", "")})
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"user": dict(self.user), "scope": args["scope"],
                            "issued": time.time(), "used": False}
        return _redirect(redirect_uri, {"code": code, "state": args.get("state", "")})

    def _access_token(self, request):
        args = request.args
        if args.get("appid") != APP_ID or args.get("secret") != APP_SECRET:
            return _answer({"errcode": 40125, "errmsg": "invalid appsecret"})
        if args.get("grant_type") != "authorization_code":
            return _answer({"errcode": 40002, "errmsg": "invalid grant_type"})
        grant = self.codes.get(args.get("code", ""))
        if grant is None or grant["issued"] + CODE_TTL < time.time():
            return _answer({"errcode": 40029, "errmsg": "invalid code"})
        if grant["used"]:
            return _answer({"errcode": 40163, "errmsg": "code been used"})
        grant["used"] = True
        if self.token_body is not None:
            return Response(self.token_body, content_type="text/plain")
        access = secrets.token_urlsafe(24)
        self.access_tokens[access] = grant
        body = {"access_token": access, "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(24), "openid": grant["user"]["openid"],
                "scope": grant["scope"]}
        if grant["scope"] == "snsapi_userinfo":
            body["unionid"] = grant["user"]["unionid"]
        return _answer(body)

    def _userinfo(self, request):
        grant = self.access_tokens.get(request.args.get("access_token", ""))
        if grant is None or grant["user"]["openid"] != request.args.get("openid"):
            return _answer({"errcode": 40001, "errmsg": "invalid credential"})
        if grant["scope"] != "snsapi_userinfo":
            return _answer({"errcode": 48001, "errmsg": "api unauthorized"})
        return _answer(grant["user"])


def _answer(data: dict) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), content_type="text/plain")


def _redirect(url: str, params: dict) -> Response:
    sep = "&" if "?" in url else "?"
    return Response(status=302, headers={"Location": url + sep + urlencode(params)})


if __name__ == "__main__":  # for trying sign-in by hand: python tests/fakes/wechat_provider.py 5029
    import sys

    provider = FakeWeChatProvider(int(sys.argv[1]) if len(sys.argv) > 1 else 5029)
    print(f"WECHAT_APP_ID={APP_ID} WECHAT_APP_SECRET={APP_SECRET} "
          f"WECHAT_AUTHORIZE_URL={provider.authorize_url} WECHAT_API_BASE={provider.base}",
          flush=True)
    provider.server.serve_forever()
