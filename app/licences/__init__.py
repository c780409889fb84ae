"""Electronic licences (电子证照): records, the wallet, 亮证, 免提交 and other issuers."""

from flask import Blueprint

bp = Blueprint("licences", __name__)
