"""Security headers (flask-talisman) and the refusal of cross-site writes.

The pages load every script and style from /static (no inline code), so the CSP can forbid
inline script. Framing is refused (`frame-ancestors 'none'`), MIME sniffing is off
(`nosniff`). HTTPS is left to the proxy in front (`force_https=False`): the app itself also
runs on plain loopback HTTP.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask_talisman import Talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],  # batch thumbnails are blob/data URLs
    "connect-src": "'self'",  # the Socket.IO websocket and XHR, same origin
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
talisman = Talisman()


def is_cross_site(method: str, fetch_site: str | None, origin: str | None,
                  host_url: str) -> bool:
    """True for a state-changing request that a browser sent from another site."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if fetch_site is not None:
        return fetch_site == "cross-site"
    if not origin:
        return False  # not sent by a browser's cross-origin machinery (curl, requests, CLI)
    return origin == "null" or origin.rstrip("/") != host_url.rstrip("/")


def init_security(app: Flask) -> None:
    """Install the headers and the cross-site write refusal."""
    talisman.init_app(app, content_security_policy=CSP, force_https=False,
                      frame_options="DENY", referrer_policy="no-referrer",
                      session_cookie_secure=False, strict_transport_security=True)

    @app.before_request
    def refuse_cross_site_writes():  # type: ignore[no-untyped-def]
        if is_cross_site(request.method, request.headers.get("Sec-Fetch-Site"),
                         request.headers.get("Origin"), request.host_url):
            return jsonify(error="cross-site requests are refused: use this site's page "
                                 "or a client that is not a browser"), 403
        return None
