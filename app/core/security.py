"""Security headers on every response, and no cache keeps a signed-in person's pages."""

from flask import g

from app.uploads.storage import redirect_origin

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "manifest-src 'self'",
    "worker-src 'self'",
])


def init_app(app) -> None:
    """Strict CSP, no sniffing, no framing, a referrer Flask-WTF can check over HTTPS."""
    sets: dict[tuple, tuple] = {}  # the header list for each (photo origin, HTTPS) in use

    def security_headers(photos: str | None, https: bool) -> tuple:
        key = (photos, https)
        if key not in sets:
            csp = CSP.replace("img-src 'self'", f"img-src 'self' {photos}") if photos else CSP
            values = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
                      ("Referrer-Policy", "strict-origin-when-cross-origin"),
                      ("X-Frame-Options", "DENY"),
                      ("Permissions-Policy", "geolocation=(), microphone=()")]
            if https:
                values.append(("Strict-Transport-Security", "max-age=31536000"))
            sets[key] = tuple((name, name.lower(), value) for name, value in values)
        return sets[key]

    @app.after_request
    def _headers(response):
        # One pass over the response's headers: a view that set one of these keeps its own.
        # (Headers.setdefault looks each name up and raises KeyError inside when it is missing.)
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        photos = redirect_origin(app.config)  # S3_SERVE=redirect: photos come from the bucket
        for name, lower, value in security_headers(photos,
                                                   bool(app.config.get("SESSION_COOKIE_SECURE"))):
            if lower not in present:
                headers.add(name, value)
        return response

    @app.after_request
    def _personal_pages_are_not_stored(response):
        """A response for a signed-in person (the user loader ran) is kept by no cache: not
        nginx's, not the phone's. A view that chose a private lifetime itself (a photo's
        short-lived redirect) keeps it: only the phone's own cache may use that."""
        if g.get("signed_in") and not response.cache_control.private:
            cache_control = response.cache_control
            cache_control.public = False
            cache_control.max_age = cache_control.s_maxage = None
            cache_control.private = True
            cache_control.no_store = True
        return response
