"""A small OpenID Connect provider on 127.0.0.1 for tests: real RSA keys, real JWKS, real HTTP.

It auto-approves `provider.user` at the authorization endpoint and checks what a strict
provider checks: client authentication, redirect_uri, single-use codes and PKCE (S256).
Knobs on the instance produce each bad answer a relying party must refuse.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import unquote, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "palm-test-client"
CLIENT_SECRET = "palm-test-secret-7f3a"
DEFAULT_USER = {"sub": "idp-user-1001", "phone_number": "13800138000",
                "phone_number_verified": True, "name": "张三", "name_verified": True}


class QuietHandler(WSGIRequestHandler):
    """No access log: its lines would carry codes and secrets into the tests' captured logs."""

    def log_request(self, *args, **kwargs):
        pass


class FakeOIDCProvider:
    """Discovery, JWKS, authorize, token, userinfo and end_session, on a thread."""

    def __init__(self, port: int = 0):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.stranger_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.server = make_server("127.0.0.1", port, self._wsgi, threaded=True,
                                  request_handler=QuietHandler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.reset()

    def reset(self) -> None:
        """Back to a well-behaved provider with the default user."""
        self.user = dict(DEFAULT_USER)
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.ended: list[dict] = []
        # knobs
        self.id_token_claims: dict = {}  # merged into the ID token (e.g. a wrong nonce)
        self.sign_with_stranger_key = False  # a signature the JWKS cannot verify
        self.claims_in_userinfo_only = False  # phone and name only at the userinfo endpoint
        self.discovery_body: str | None = None  # garbage instead of the discovery document
        self.token_body: str | None = None  # garbage instead of the token response
        self.omit_id_token = False
        self.end_session = True  # advertise end_session_endpoint

    def start(self) -> "FakeOIDCProvider":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    # --- helpers for tests -------------------------------------------------------------

    def rotate_key(self) -> None:
        """Sign with a new key under a new kid, as providers do from time to time."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"k{secrets.token_hex(4)}",
                                                         "use": "sig"})

    def sign(self, claims: dict, key: RSAKey | None = None) -> str:
        """A compact RS256 JWT signed with the provider's key (or another)."""
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    # --- the WSGI app ------------------------------------------------------------------

    @Request.application
    def _wsgi(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        routes = {"/.well-known/openid-configuration": self._discovery, "/jwks": self._jwks,
                  "/authorize": self._authorize, "/token": self._token,
                  "/userinfo": self._userinfo, "/end_session": self._end_session}
        handler = routes.get(request.path)
        if handler is None:
            return _json({"error": "not_found"}, 404)
        return handler(request)

    def _discovery(self, _request):
        if self.discovery_body is not None:
            return Response(self.discovery_body, content_type="text/html")
        doc = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": ["openid", "profile", "phone"],
        }
        if self.end_session:
            doc["end_session_endpoint"] = f"{self.issuer}/end_session"
        return _json(doc)

    def _jwks(self, _request):
        return _json(KeySet([self.key]).as_dict(private=False))

    def _authorize(self, request):
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") not in self.clients or not redirect_uri.startswith("http"):
            return Response("unknown client or redirect_uri", 400)
        problem = None
        if args.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif "openid" not in args.get("scope", "").split():
            problem = "invalid_scope"
        elif args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            problem = "invalid_request"
        if problem:
            return _redirect(redirect_uri, {"error": problem, "state": args.get("state", "")})
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"client_id": args["client_id"], "redirect_uri": redirect_uri,
                            "nonce": args.get("nonce"), "challenge": args["code_challenge"],
                            "scope": args.get("scope"), "user": dict(self.user),
                            "expires": time.time() + 300, "used": False}
        return _redirect(redirect_uri, {"code": code, "state": args.get("state", "")})

    def _client_auth(self, request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            raw = base64.b64decode(header[6:]).decode()
            client_id, _, secret = raw.partition(":")
        else:
            client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        client_id, secret = unquote(client_id or ""), unquote(secret or "")
        if self.clients.get(client_id) and secrets.compare_digest(self.clients[client_id],
                                                                   secret):
            return client_id
        return None

    def _token(self, request):
        client_id = self._client_auth(request)
        if client_id is None:
            return _json({"error": "invalid_client"}, 401)
        form = request.form
        grant = self.codes.get(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None:
            return _json({"error": "invalid_grant"}, 400)
        if grant["used"] or grant["expires"] < time.time():
            return _json({"error": "invalid_grant", "error_description": "code used"}, 400)
        grant["used"] = True  # single use, even when the rest of the request is wrong
        if grant["client_id"] != client_id or grant["redirect_uri"] != form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if not verifier or digest.rstrip(b"=").decode() != grant["challenge"]:
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        if self.token_body is not None:
            return Response(self.token_body, content_type="application/json")
        access = secrets.token_urlsafe(24)
        self.access_tokens[access] = grant["user"]
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                "scope": grant["scope"]}
        if not self.omit_id_token:
            body["id_token"] = self._id_token(grant, client_id)
        return _json(body)

    def _id_token(self, grant: dict, client_id: str) -> str:
        now = int(time.time())
        user = grant["user"]
        claims = {"iss": self.issuer, "sub": user["sub"], "aud": client_id, "iat": now,
                  "exp": now + 600, "auth_time": now, "nonce": grant["nonce"]}
        if not self.claims_in_userinfo_only:
            claims.update({k: v for k, v in user.items() if k != "sub"})
        claims.update(self.id_token_claims)
        return self.sign(claims, self.stranger_key if self.sign_with_stranger_key else None)

    def _userinfo(self, request):
        header = request.headers.get("Authorization", "")
        user = self.access_tokens.get(header.removeprefix("Bearer "))
        if user is None:
            return _json({"error": "invalid_token"}, 401)
        return _json(user)

    def _end_session(self, request):
        args = request.args.to_dict()
        self.ended.append(args)
        target = args.get("post_logout_redirect_uri")
        if not target:
            return Response("您已退出统一身份认证", content_type="text/plain; charset=utf-8")
        params = {"state": args["state"]} if args.get("state") else {}
        return _redirect(target, params)


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status,
                    content_type="application/json")


def _redirect(url: str, params: dict) -> Response:
    sep = "&" if "?" in url else "?"
    return Response(status=302, headers={"Location": url + (sep + urlencode(params)
                                                             if params else "")})


if __name__ == "__main__":  # for trying sign-in by hand: python tests/fakes/oidc_provider.py 5019
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5019
    provider = FakeOIDCProvider(port)
    print(f"OIDC_ISSUER={provider.issuer} OIDC_CLIENT_ID={CLIENT_ID} "
          f"OIDC_CLIENT_SECRET={CLIENT_SECRET}", flush=True)
    provider.server.serve_forever()
