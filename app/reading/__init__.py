"""智能预审 (smart pre-review): reading document photos and telling people what they show.

The phone checks a photo's light, sharpness and size before it is sent (static/js); after
compression the worker reads documents (kinds.yaml) with RapidOCR, and findings reach the
citizen's upload card and the clerk's review page (templates/reading/).
"""

from flask import Blueprint

bp = Blueprint("reading", __name__)
