"""Who may use the demo: a token beyond loopback, a Host allow-list, security headers.

:func:`install` puts one check before every request and the headers on every answer, so a
route added later is covered without a line of its own. The rules:

- with a token in force, every request needs it, as ``?token=`` in the URL (a page then sets
  an HttpOnly, SameSite=Strict cookie and redirects to the clean URL), as that cookie, or as
  ``Authorization: Bearer TOKEN``; ``/healthz`` answers without it, but only ``{"status": "ok"}``;
- without a token (loopback), only Host names of this machine are served, so a web page cannot
  reach the demo through DNS rebinding (a name of its own that resolves to 127.0.0.1);
- every answer carries a Content-Security-Policy and no CORS header.
"""

import dataclasses
import hashlib
import hmac
import logging
import secrets
import urllib.parse

import flask
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from .addresses import LOOPBACK_NAMES, host_name, is_ip_literal, is_loopback

log = logging.getLogger(__name__)

COOKIE = "fer_token"
HEALTH_PATH = "/healthz"
PUBLIC_PATHS = frozenset({"/static/style.css", "/static/favicon.svg"})
"""What the page asking for the token needs itself; nothing here tells anything about the demo."""
DIRECT_PREFIXES = ("/api/", "/video_feed")
"""Paths that programs fetch (curl, VLC, OpenCV): a token in their URL is used as it is, not
traded for a cookie, since such clients rarely keep cookies across a redirect."""
MIN_TOKEN_LENGTH = 8
"""Shortest token accepted: a short one is soon guessed."""

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


@dataclasses.dataclass(frozen=True)
class AccessPolicy:
    """What a request needs to be served.

    ``token``: required on every route when set. ``allowed_hosts``: the Host names served when
    no token is in force (ignored with a token: the token is what keeps others out).
    ``ip_hosts``: also serve any Host that is an IP address (safe against DNS rebinding, which
    needs a name); on for servers bound beyond loopback.
    """

    token: str | None = None
    allowed_hosts: frozenset = LOOPBACK_NAMES
    ip_hosts: bool = False

    def __post_init__(self):
        if self.token is not None and len(self.token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"the token must have at least {MIN_TOKEN_LENGTH} characters")

    def host_allowed(self, host_header):
        """Whether a request with this Host header is served."""
        if self.token is not None:
            return True
        name = host_name(host_header)
        return name in self.allowed_hosts or (self.ip_hosts and is_ip_literal(name))

    def token_matches(self, candidate):
        """Whether ``candidate`` is the token (compared in constant time)."""
        return self.token is not None and candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8", "surrogateescape"), self.token.encode("utf-8"))

    @property
    def cookie_value(self):
        """The cookie that stands for the token: derived from it, so the cookie never holds the token itself."""
        return hmac.new(self.token.encode("utf-8"), b"fer live cookie", hashlib.sha256).hexdigest()

    def cookie_matches(self, candidate):
        """Whether ``candidate`` is this policy's cookie value (constant time)."""
        return self.token is not None and candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8", "surrogateescape"), self.cookie_value.encode("ascii"))


def policy_for(bind_host, token=None, no_token=False, allow_hosts=()):
    """The policy for a server bound to ``bind_host``, and whether its token was made here.

    A token given is always required. Without one, a server bound beyond loopback gets a
    random token unless ``no_token``; on loopback, none is needed.
    """
    if token is not None and no_token:
        raise ValueError("--token and --no-token contradict each other")
    made = False
    if token is None and not no_token and not is_loopback(bind_host):
        token, made = secrets.token_urlsafe(24), True
    allowed = LOOPBACK_NAMES | {host_name(name) for name in allow_hosts}
    if not is_loopback(bind_host) and not is_ip_literal(bind_host.strip("[]")) and bind_host:
        allowed |= {host_name(bind_host)}
    policy = AccessPolicy(token=token, allowed_hosts=frozenset(allowed), ip_hosts=not is_loopback(bind_host))
    return policy, made


def install(app, policy):
    """Check every request of ``app`` against ``policy`` and put the security headers on every answer."""
    app.extensions.setdefault("fer", {})["access"] = policy
    app.before_request(lambda: check_request(policy))
    app.after_request(add_security_headers)


def check_request(policy):
    """Refuse a request the policy does not allow (403 or 401); ``None`` lets it through."""
    request = flask.request
    if not policy.host_allowed(request.host):
        name = host_name(request.host)
        raise Forbidden(f"This server does not answer to the name {name!r}: open it as localhost or "
                        f"127.0.0.1, or start it with --allow-host {name}.")
    if policy.token is None or request.path in PUBLIC_PATHS:
        return None
    supplied = request.args.get("token")
    if supplied is not None:
        if not policy.token_matches(supplied):
            log.warning("wrong token from %s for %s", request.remote_addr, request.path)
            raise unauthorized("That token is wrong: paste the one the server printed when it started.")
        if request.method == "GET" and not request.path.startswith(DIRECT_PREFIXES):
            return redirect_with_cookie(policy)
        return None
    bearer = bearer_token()
    if policy.cookie_matches(request.cookies.get(COOKIE)) or policy.token_matches(bearer):
        return None
    if request.path == HEALTH_PATH:
        return flask.jsonify(status="ok")
    if bearer is not None:
        log.warning("wrong bearer token from %s for %s", request.remote_addr, request.path)
        raise unauthorized("That bearer token is wrong: send the one the server printed when it started.")
    if request.path.startswith("/api/"):
        raise unauthorized("This API needs the demo's access token: send 'Authorization: Bearer TOKEN' "
                           "(the token the server printed when it started).")
    raise unauthorized("This demo needs its access token: open the address the server printed when it "
                       "started (it ends in ?token=...), or paste the token below.")


def bearer_token():
    """The token of an ``Authorization: Bearer TOKEN`` header, or ``None``."""
    scheme, _, credentials = flask.request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def unauthorized(description):
    """A 401 that names the Bearer scheme."""
    return Unauthorized(description, www_authenticate=WWWAuthenticate("Bearer", {"realm": "fer live"}))


def redirect_with_cookie(policy):
    """Trade the token in the URL for the cookie, and send the browser to the URL without it."""
    request = flask.request
    rest = [(key, value) for key, value in request.args.items(multi=True) if key != "token"]
    clean = request.path + ("?" + urllib.parse.urlencode(rest) if rest else "")
    response = flask.redirect(clean, code=303)
    response.set_cookie(COOKIE, policy.cookie_value, httponly=True, samesite="Strict",
                        secure=request.is_secure, path="/")
    return response


def add_security_headers(response):
    """The headers every answer carries: what the page may load, no sniffing, no framing, no referrer."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if flask.request.path != HEALTH_PATH and "token" in flask.request.args:
        response.headers["Cache-Control"] = "no-store"
    return response
