"""Who may use the demo (fer/live/access.py): token, cookie, Host allow-list, security headers."""

import pytest

from fer.live.access import COOKIE, SECURITY_HEADERS, AccessPolicy, policy_for
from fer.live.addresses import host_name, is_loopback
from fer.live.recognizer import EmotionRecognizer
from fer.live.web import create_app

TOKEN = "open-sesame-42"
ROUTES = ["/", "/gallery/happy", "/video_feed", "/api/faces", "/static/app.js"]


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir)


@pytest.fixture
def guarded(recognizer, tmp_path):
    """A test client of an app that needs :data:`TOKEN`."""
    app = create_app(recognizer, source=str(tmp_path / "missing.mp4"), access=AccessPolicy(token=TOKEN))
    return app.test_client()


@pytest.fixture
def loopback(recognizer, tmp_path):
    """A test client of an app with the default policy: no token, this machine's Host names only."""
    return create_app(recognizer, source=str(tmp_path / "missing.mp4")).test_client()


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_needs_the_token(guarded, path):
    response = guarded.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_page_without_a_token_offers_a_form_to_paste_it(guarded):
    response = guarded.get("/gallery/sad")
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and response.mimetype == "text/html"
    assert '<form class="token-form" method="get" action="/gallery/sad">' in html
    assert 'name="token" type="password"' in html


def test_the_api_without_a_token_answers_json(guarded):
    response = guarded.post("/api/predict", data=b"x")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.get_json()["error"]


def test_a_token_in_the_url_sets_a_strict_httponly_cookie_and_leaves_the_url(guarded):
    response = guarded.get(f"/gallery/happy?token={TOKEN}&page=2")
    assert response.status_code == 303
    assert response.headers["Location"] == "/gallery/happy?page=2"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert TOKEN not in cookie, "the cookie should stand for the token, not hold it"
    assert guarded.get("/gallery/happy").status_code == 200, "the cookie should let the browser in"
    assert guarded.get("/api/faces").status_code == 200


def test_the_cookie_is_secure_over_https(guarded):
    response = guarded.get(f"/?token={TOKEN}", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_programs_use_a_bearer_header_or_the_token_in_the_stream_url(guarded):
    assert guarded.get("/api/faces", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    stream = guarded.get(f"/video_feed?token={TOKEN}")
    assert stream.status_code == 200 and stream.mimetype == "multipart/x-mixed-replace"
    stream.close()


@pytest.mark.parametrize("where", ["url", "bearer", "cookie"])
def test_a_wrong_token_gets_401(guarded, where):
    wrong = TOKEN[:-1] + "3"
    if where == "url":
        response = guarded.get(f"/?token={wrong}")
    elif where == "bearer":
        response = guarded.get("/api/faces", headers={"Authorization": f"Bearer {wrong}"})
    else:
        guarded.set_cookie(COOKIE, wrong)
        response = guarded.get("/")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_healthz_without_the_token_says_only_ok(guarded):
    assert guarded.get("/healthz").get_json() == {"status": "ok"}
    full = guarded.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    assert full["status"] == "ok" and full["model_loaded"] and "source" in full


def test_the_token_page_gets_its_stylesheet_without_the_token(guarded):
    assert guarded.get("/static/style.css").status_code == 200


@pytest.mark.parametrize("host", ["localhost:5000", "127.0.0.1:5000", "[::1]:5000", "LOCALHOST"])
def test_loopback_serves_this_machines_names(loopback, host):
    assert loopback.get("/api/faces", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/video_feed", "/api/faces", "/healthz"])
def test_loopback_refuses_other_host_names_against_dns_rebinding(loopback, path):
    response = loopback.get(path, headers={"Host": "rebind.example:5000"})
    assert response.status_code == 403
    assert "--allow-host rebind.example" in response.get_data(as_text=True)


def test_allow_host_adds_a_name(recognizer, tmp_path):
    policy, made = policy_for("127.0.0.1", allow_hosts=["demo.lan"])
    client = create_app(recognizer, source=str(tmp_path / "none.mp4"), access=policy).test_client()
    assert not made and policy.token is None
    assert client.get("/api/faces", headers={"Host": "demo.lan:8080"}).status_code == 200
    assert client.get("/api/faces", headers={"Host": "other.lan"}).status_code == 403


@pytest.mark.parametrize("path", ["/", "/api/faces", "/gallery/happy", "/no/such/page"])
def test_every_answer_carries_the_security_headers_and_no_cors(loopback, path):
    response = loopback.get(path, headers={"Origin": "https://evil.example"})
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "img-src 'self' data: blob:" in policy
    assert not [name for name in response.headers.keys() if name.lower().startswith("access-control-")]


def test_the_page_has_no_inline_script_or_style_the_policy_would_block(loopback):
    html = loopback.get("/").get_data(as_text=True)
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert " onclick=" not in html and "javascript:" not in html


def test_policy_for_makes_a_random_token_beyond_loopback():
    first, made = policy_for("0.0.0.0")
    second, _ = policy_for("0.0.0.0")
    assert made and len(first.token) >= 32 and first.token != second.token
    assert policy_for("0.0.0.0", no_token=True)[0].token is None
    assert policy_for("127.0.0.1")[0].token is None
    assert policy_for("127.0.0.1", token="given-token")[0].token == "given-token"


def test_without_a_token_beyond_loopback_ip_addresses_are_served_but_names_are_not():
    policy, _ = policy_for("0.0.0.0", no_token=True)
    assert policy.host_allowed("192.168.1.20:5000") and policy.host_allowed("[fe80::1]:5000")
    assert not policy.host_allowed("rebind.example:5000")


def test_short_or_contradictory_tokens_are_refused():
    with pytest.raises(ValueError, match="at least 8"):
        AccessPolicy(token="1234")
    with pytest.raises(ValueError, match="contradict"):
        policy_for("0.0.0.0", token="long-enough", no_token=True)


def test_tokens_compare_whole_and_exact():
    policy = AccessPolicy(token=TOKEN)
    assert policy.token_matches(TOKEN)
    assert not any(policy.token_matches(other) for other in [TOKEN[:-1], TOKEN + "x", "", None, "ö" * 14])
    assert policy.cookie_matches(policy.cookie_value) and not policy.cookie_matches(TOKEN)


@pytest.mark.parametrize("header, name", [("[::1]:5000", "::1"), ("LocalHost.:80", "localhost"),
                                          ("127.0.0.1", "127.0.0.1"), ("demo.lan:5000", "demo.lan")])
def test_host_name_strips_port_brackets_and_case(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize("host, expected", [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.2", False), ("demo.lan", False)])
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected
