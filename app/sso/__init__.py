"""Sign-in through the unified identity provider (统一身份认证, OIDC) and WeChat-style OAuth."""

from flask import Blueprint

bp = Blueprint("sso", __name__, url_prefix="/sso")
