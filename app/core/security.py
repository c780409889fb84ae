"""Security headers on every response."""

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
    from app.uploads.storage import redirect_origin

    @app.after_request
    def _headers(response):
        headers = response.headers
        photos = redirect_origin(app.config)  # S3_SERVE=redirect: photos come from the bucket
        headers.setdefault("Content-Security-Policy", CSP.replace(
            "img-src 'self'", f"img-src 'self' {photos}") if photos else CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
