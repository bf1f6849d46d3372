"""The page in a real browser: Debian's chromium, driven by Playwright, against a real server."""

import pathlib
import re

import cv2
import pytest

from clips import compose_scene, load_faces, write_clip
from servers import running
from fer.labels import EMOTIONS
from fer.live import tls
from fer.live.access import AccessPolicy
from fer.live.recognizer import EmotionRecognizer
from fer.live.web import create_app

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="no /usr/bin/chromium: install it with `apt-get install -y chromium`")


def write_y4m(path, frames, fps=10):
    """Frames as a YUV4MPEG2 file, which chromium can play as a fake webcam."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in frames:
            handle.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


@pytest.fixture(scope="module")
def faces():
    return [face for _, face in load_faces()[:2]]


TOKEN = "browser-test-token"


def serve_clip(model_dir, folder, faces, tls_files=None, access=None):
    """A server streaming a clip of two real faces (waitress, or cheroot over HTTPS); yields its URL."""
    clip = folder / "two_faces.avi"
    write_clip(clip, faces, frames=40, fps=10.0)
    app = create_app(EmotionRecognizer(model_dir), source=str(clip), access=access)
    with running(app, threads=16, tls_files=tls_files) as server:
        yield f"{'https' if tls_files else 'http'}://127.0.0.1:{server.effective_port}"


@pytest.fixture(scope="module")
def base_url(tiny_model_dir, tmp_path_factory, faces):
    """The demo over plain HTTP on loopback, as ``main.py`` serves it by default."""
    yield from serve_clip(tiny_model_dir, tmp_path_factory.mktemp("browser"), faces)


@pytest.fixture(scope="module")
def secure_url(tiny_model_dir, tmp_path_factory, faces):
    """The demo over HTTPS with a self-signed certificate, needing :data:`TOKEN`, as a phone would open it."""
    folder = tmp_path_factory.mktemp("secure")
    files = tls.self_signed(["127.0.0.1", "localhost"], folder / "tls")
    yield from serve_clip(tiny_model_dir, folder, faces, tls_files=files, access=AccessPolicy(token=TOKEN))


@pytest.fixture(scope="module")
def browser(tmp_path_factory, faces):
    """Chromium with a fake webcam that films the same two faces."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    webcam = tmp_path_factory.mktemp("webcam") / "faces.y4m"
    write_y4m(webcam, [compose_scene(faces, index)[0] for index in range(20)])
    fake_webcam = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-video-capture={webcam}", "--ignore-certificate-errors"]
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + fake_webcam)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["camera"], origin=base_url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def test_the_page_shows_the_live_stream_and_the_emotion_of_each_face(page, base_url, tmp_path):
    page.goto(base_url + "/")
    assert page.title().startswith("Live")
    # each frame is a new blob URL, and the picture has no width while it decodes: wait for a decoded one
    page.wait_for_function("() => document.getElementById('stream').naturalWidth === 640")
    page.wait_for_function("() => document.querySelectorAll('#faces li.face').length === 2")
    assert page.inner_text("#stream-state").lower() == "live"
    # textContent, not innerText: the words must not depend on whether the stylesheet has laid the list out yet
    names = [name.strip().lower() for name in page.locator("#faces li.face .name").all_text_contents()]
    assert len(names) == 2 and all(name in EMOTIONS for name in names), names
    shares = page.locator("#faces li.face .pct").all_text_contents()
    assert all(re.fullmatch(r"\d{1,3}%", share.strip()) for share in shares), shares
    frames = page.evaluate("[document.getElementById('stream').dataset.frame, "
                           "document.getElementById('faces').dataset.frame]")
    assert frames[0] == frames[1] and int(frames[0]) > 0, "the list should describe the frame on screen"
    page.wait_for_function(f"() => Number(document.getElementById('stream').dataset.frame) > {frames[0]}")
    viewers = page.request.get(base_url + "/healthz").json()["source"]["viewers"]
    assert viewers == 1, "the page should open one stream, for the picture and the list alike"
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_clicking_an_emotion_shows_its_gallery(page, base_url):
    page.goto(base_url + "/")
    page.click("a.emotion-card.emotion-happy")
    page.wait_for_url("**/gallery/happy")
    images = page.locator(".gallery img")
    assert images.count() >= 20
    page.wait_for_function("() => Array.from(document.querySelectorAll('.gallery img'))"
                           ".every(image => image.complete && image.naturalWidth === 48)")
    assert page.locator(".gallery .prediction").count() == images.count()
    page.click("a.chip.emotion-sad")
    page.wait_for_url("**/gallery/sad")
    assert page.locator("h1").inner_text().strip().lower() == "sad"


def test_webcam_mode_sends_frames_and_draws_the_faces_found(page, base_url):
    uploads = []
    page.on("request", lambda request: uploads.append(request) if request.url.endswith("/api/predict") else None)
    page.goto(base_url + "/")
    page.click("#webcam-toggle")
    page.wait_for_function("() => document.getElementById('webcam').videoWidth > 0")
    page.wait_for_function("() => /(angry|disgust|fear|happy|sad|surprise|neutral) \\d+%/"
                           ".test(document.getElementById('webcam-status').textContent)")
    painted = page.evaluate("""() => {
        const canvas = document.getElementById('webcam-overlay');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
        return painted;
    }""")
    assert painted > 1000, "no boxes drawn over the webcam video"
    assert uploads and all(request.method == "POST" for request in uploads)
    assert page.locator("#webcam-status").inner_text().count("%") == 2
    page.click("#webcam-toggle")
    assert page.inner_text("#webcam-status") == "Camera off."


def test_over_https_with_a_token_the_stream_and_the_webcam_work_under_the_policy(browser, secure_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, ignore_https_errors=True)
    context.grant_permissions(["camera"], origin=secure_url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    try:
        page.goto(secure_url + "/")
        assert page.locator("#token").count() == 1, "without the token the page should ask for it"
        page.fill("#token", TOKEN)
        page.click(".token-form button")
        page.wait_for_url(secure_url + "/")
        assert page.evaluate("window.isSecureContext")
        page.wait_for_function("() => document.getElementById('stream').naturalWidth > 0")
        page.wait_for_function("() => document.querySelectorAll('#faces li.face').length === 2")
        page.click("#webcam-toggle")
        page.wait_for_function("() => /(angry|disgust|fear|happy|sad|surprise|neutral) \\d+%/"
                               ".test(document.getElementById('webcam-status').textContent)")
        page.click("#webcam-toggle")
        cookies = context.cookies()
        assert [cookie["name"] for cookie in cookies] == ["fer_token"]
        assert cookies[0]["httpOnly"] and cookies[0]["secure"] and cookies[0]["sameSite"] == "Strict"
    finally:
        context.close()
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"
