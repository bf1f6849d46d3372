"""The demo behind a real waitress server on a loopback port, watched by real HTTP clients."""

import contextlib
import http.client
import http.cookiejar
import json
import pathlib
import queue
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from clips import load_faces, write_clip
from servers import running
from fer.live import tls
from fer.live.access import policy_for
from fer.live.recognizer import EmotionRecognizer
from fer.live.sources import open_source
from fer.live.video import VideoAnalysis
from fer.live.web import create_app

ROOT = pathlib.Path(__file__).resolve().parent.parent
VIEWERS = 8
FRAMES_EACH = 8
TIMEOUT = 20  # seconds any one socket operation may take before the test fails


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Four seconds of two real faces drifting, at 10 frames a second."""
    path = tmp_path_factory.mktemp("clips") / "two_faces.avi"
    write_clip(path, [face for _, face in load_faces()[:2]], frames=40, fps=10.0)
    return path


@contextlib.contextmanager
def serving(app, threads=32, host="127.0.0.1", tls_files=None):
    """Serve ``app`` on a free port of ``host`` (waitress, or cheroot with ``tls_files``);
    yields the loopback ``(host, port)`` to connect to."""
    with running(app, host, threads, tls_files) as server:
        yield "127.0.0.1", server.effective_port


def read_part(response):
    """One part of a multipart/x-mixed-replace stream: ``(headers, body)``."""
    line = response.readline()
    while line == b"\r\n":
        line = response.readline()
    assert line == b"--frame\r\n", line[:80]
    headers = {}
    while (line := response.readline()) != b"\r\n":
        name, value = line.decode("ascii").split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = response.read(int(headers["content-length"]))
    assert response.readline() == b"\r\n"
    return headers, body


@contextlib.contextmanager
def video_feed(address, timeout=TIMEOUT, path="/video_feed", context=None):
    """An open ``/video_feed`` response (over HTTPS with an SSL ``context``); closed (the viewer
    leaves) at the end of the block."""
    if context is None:
        connection = http.client.HTTPConnection(*address, timeout=timeout)
    else:
        connection = http.client.HTTPSConnection(*address, timeout=timeout, context=context)
    connection.request("GET", path)
    response = connection.getresponse()
    try:
        assert response.status == 200
        assert response.getheader("Content-Type") == "multipart/x-mixed-replace; boundary=frame"
        yield response
    finally:
        response.close()
        connection.close()


def get_json(address, path):
    with urllib.request.urlopen(f"http://{address[0]}:{address[1]}{path}", timeout=TIMEOUT) as response:
        return json.load(response)


def decode(jpeg):
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def test_eight_viewers_share_one_analysis_per_frame(recognizer, clip):
    analysed = []

    def counted_video(recognizer):
        video = VideoAnalysis(recognizer)
        analyze = video.analyze
        video.analyze = lambda frame: analysed.append(1) or analyze(frame)
        return video

    app = create_app(recognizer, source=str(clip), stream_options={"idle_timeout": 1.0, "analysis": counted_video})
    broadcaster = app.extensions["fer"]["broadcaster"]
    received, failures = {}, []
    start = threading.Barrier(VIEWERS + 1)

    def viewer(index, frames_wanted):
        try:
            start.wait(TIMEOUT)
            with video_feed(address) as response:
                received[index] = [read_part(response) for _ in range(frames_wanted)]
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(f"viewer {index}: {error!r}")

    with serving(app) as address:
        threads = [threading.Thread(target=viewer, args=(index, FRAMES_EACH)) for index in range(VIEWERS)]
        threads.append(threading.Thread(target=viewer, args=("quitter", 1)))  # leaves after one frame
        for thread in threads:
            thread.start()
        faces_now = None
        while any(thread.is_alive() for thread in threads):
            status = get_json(address, "/api/faces")
            faces_now = status if status["faces"] else faces_now
            time.sleep(0.2)
        for thread in threads:
            thread.join(TIMEOUT)
        analyses_when_done = len(analysed)
        counters_when_done = broadcaster.counters()

    assert not failures, failures
    numbers_seen = set()
    for index in range(VIEWERS):
        numbers = [int(headers["x-frame-number"]) for headers, _ in received[index]]
        assert len(numbers) == FRAMES_EACH
        assert numbers == sorted(set(numbers)), f"viewer {index} got a frame twice: {numbers}"
        assert all(decode(jpeg).shape == (480, 640, 3) for _, jpeg in received[index])
        numbers_seen.update(numbers)
    frames_delivered = VIEWERS * FRAMES_EACH + 1
    # One analysis per distinct frame, not per viewer: the count follows the frame numbers the
    # viewers saw (plus the few made while the last ones hung up), far below the frames delivered.
    assert counters_when_done["frames_analysed"] <= max(numbers_seen) + 10
    assert analyses_when_done <= counters_when_done["frames_analysed"] + 1
    assert analyses_when_done < frames_delivered
    assert len(numbers_seen) <= frames_delivered / 2, "viewers should share frames, not get their own"
    final = broadcaster.counters()
    assert len(analysed) == final["frames_analysed"] == final["analyses"] and final["analyses_per_frame"] == 1.0
    assert faces_now is not None and faces_now["state"] == "live" and len(faces_now["faces"]) == 2
    assert all(face["emotion"] in recognizer.labels for face in faces_now["faces"])
    print(f"\n{VIEWERS} viewers got {FRAMES_EACH} frames each (+1 for a viewer that left early): "
          f"{frames_delivered} frames delivered, {len(numbers_seen)} distinct, "
          f"{analyses_when_done} analyses when they were done")


def test_a_missing_camera_gives_the_page_and_an_error_frame_without_hanging(recognizer):
    app = create_app(recognizer, source="99")
    with serving(app) as address:
        started = time.monotonic()
        with urllib.request.urlopen(f"http://{address[0]}:{address[1]}/", timeout=TIMEOUT) as page:
            assert page.status == 200 and b'src="/video_feed"' in page.read()
        with video_feed(address, timeout=5) as response:
            _, jpeg = read_part(response)
        assert time.monotonic() - started < 5
        assert decode(jpeg).shape == (480, 640, 3)
        status = get_json(address, "/api/faces")
        assert status["state"] == "error" and "webcam 99" in status["message"]
        assert get_json(address, "/healthz")["source"]["state"] == "error"


def test_a_missing_video_file_is_explained_in_the_stream(recognizer, tmp_path):
    app = create_app(recognizer, source=str(tmp_path / "missing.mp4"))
    with serving(app) as address:
        with video_feed(address, timeout=5) as response:
            _, jpeg = read_part(response)
            assert decode(jpeg) is not None
        assert "no such file" in get_json(address, "/api/faces")["message"]


def test_the_capture_thread_stops_and_releases_the_source_after_viewers_leave(recognizer, clip):
    opened = []

    def recording_open(spec):
        source = open_source(spec)
        opened.append(source)
        return source

    app = create_app(recognizer, source=str(clip),
                     stream_options={"idle_timeout": 0.5, "open_source": recording_open})
    broadcaster = app.extensions["fer"]["broadcaster"]
    with serving(app) as address:
        for _ in range(2):
            with video_feed(address) as response:
                assert read_part(response)
        deadline = time.monotonic() + 10
        while broadcaster.running and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not broadcaster.running, "the capture thread outlived its viewers"
        assert broadcaster.viewers == 0
        assert opened and all(not source.capture.isOpened() for source in opened), "the video was not released"
        assert get_json(address, "/api/faces")["state"] == "stopped"


def run_main(*args, timeout=60):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_main_refuses_a_missing_model_directory_in_one_line(tmp_path):
    result = run_main("--model", str(tmp_path / "no_model"), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr


def test_main_checks_its_options_before_loading_tensorflow(tmp_path):
    check = ("import sys; from fer.cli import main\n"
             "code = main(['--model', sys.argv[1]], command='serve', prog='main.py')\n"
             "print(code, sorted(name for name in ('keras', 'tensorflow') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check, str(tmp_path / "no_model")], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.stdout.split("\n")[0] == "2 []", result.stdout + result.stderr


def test_main_refuses_too_few_threads_for_its_viewers():
    result = run_main("--max-viewers", "8", "--threads", "8")
    assert result.returncode == 2 and "must exceed --max-viewers" in result.stderr


@pytest.mark.parametrize("options, reason", [
    (["--token", "short"], "--token must have at least 8 characters"),
    (["--token", "long-enough", "--no-token"], "--token and --no-token contradict each other"),
    (["--certfile", "cert.pem"], "--certfile and --keyfile go together"),
    (["--certfile", "cert.pem", "--keyfile", "key.pem"], "--certfile cert.pem does not exist"),
    (["--tls", "self-signed", "--certfile", "c.pem", "--keyfile", "k.pem"], "exclude each other"),
])
def test_main_refuses_access_options_that_cannot_work_in_one_line(options, reason):
    result = run_main(*options)
    assert result.returncode == 2 and reason in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def start_main(*args, cwd, pattern, **popen_options):
    """``main.py args`` started; returns the process, a queue of its log lines, and the match of
    ``pattern`` in the first line that has it (``None`` if none came within two minutes)."""
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, stderr=subprocess.PIPE,
                               text=True, **popen_options)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    found, deadline = None, time.monotonic() + 120
    while found is None and time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(queue.Empty):
            found = re.search(pattern, lines.get(timeout=1))
    return process, lines, found


def ignore_sigint():
    """What a shell does to a program it starts in the background: SIGINT ignored from the start."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_main_serves_the_demo_with_waitress_and_stops_cleanly(tiny_model_dir, tmp_path, stop_signal):
    process, lines, url = start_main(
        "--port", "0", "--model", str(tiny_model_dir), "--source", str(tmp_path / "missing.mp4"),
        "--max-viewers", "4", cwd=tmp_path, pattern=r"demo at (http://127\.0\.0\.1:\d+/) \(waitress",
        preexec_fn=ignore_sigint)
    try:
        assert url, "main.py never logged its URL"
        with urllib.request.urlopen(url.group(1) + "healthz", timeout=TIMEOUT) as response:
            health = json.load(response)
        assert health["status"] == "ok" and health["model_loaded"]
        address = tuple(url.group(1)[len("http://"):-1].split(":"))
        with video_feed((address[0], int(address[1])), timeout=5) as response:
            assert read_part(response), "a viewer of a missing source should get an error frame"
        time.sleep(1)  # the last viewer has left while the source is failing
    finally:
        process.send_signal(stop_signal)
        signalled = time.monotonic()
        try:
            process.wait(30)
        finally:
            process.kill()
    assert process.returncode == 0
    assert time.monotonic() - signalled < 6, "the server took too long to stop"
    output = []
    with contextlib.suppress(queue.Empty):
        while True:
            output.append(lines.get(timeout=1))
    noise = [line for line in output if re.search(r"cuInit|^[WIE]\d{4} |XNNPACK|absl::", line)]
    assert not noise, f"framework chatter on the console: {noise}"


def test_streams_beyond_the_ceiling_are_refused_and_health_checks_still_answer(recognizer, clip):
    app = create_app(recognizer, source=str(clip), max_viewers=4)
    with serving(app, threads=4 + 4) as address, contextlib.ExitStack() as streams:
        for _ in range(4):
            assert read_part(streams.enter_context(video_feed(address)))
        refused = 0
        for _ in range(8):
            connection = http.client.HTTPConnection(*address, timeout=TIMEOUT)
            connection.request("GET", "/video_feed")
            response = connection.getresponse()
            refused += response.status == 503 and response.getheader("Retry-After") is not None
            response.read()
            connection.close()
        assert refused == 8
        started = time.monotonic()
        assert get_json(address, "/healthz")["status"] == "ok"
        with urllib.request.urlopen(f"http://{address[0]}:{address[1]}/", timeout=TIMEOUT) as page:
            assert page.status == 200
        assert time.monotonic() - started < 2, "the page and health check should not wait behind streams"


def test_bursts_of_large_uploads_leave_memory_bounded(recognizer):
    psutil = pytest.importorskip("psutil")
    picture = np.zeros((6000, 6000), np.uint8)
    cv2.circle(picture, (3000, 3000), 2000, 255, -1)
    png = cv2.imencode(".png", picture)[1].tobytes()  # small on disk, 36 megapixels unpacked
    app = create_app(recognizer, source="99")
    process = psutil.Process()
    with serving(app) as address:
        def upload():
            request = urllib.request.Request(f"http://{address[0]}:{address[1]}/api/predict", data=png,
                                             headers={"Content-Type": "image/png"})
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 200

        before = process.memory_info().rss
        for _ in range(2):
            burst = [threading.Thread(target=upload) for _ in range(8)]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join(60)
        grown = (process.memory_info().rss - before) / 2 ** 20
    assert grown < 600, f"memory grew by {grown:.0f} MiB over two bursts of eight large uploads"


def status_of(url, headers=None, opener=None, context=None):
    """The status of a GET of ``url`` (errors included), not following redirects unless ``opener`` does."""
    request = urllib.request.Request(url, headers=headers or {})
    opener = opener or urllib.request.build_opener(NoRedirects, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_server_on_all_addresses_needs_its_token_on_every_route(recognizer, clip):
    policy, made = policy_for("0.0.0.0")
    app = create_app(recognizer, source=str(clip), access=policy)
    with serving(app, host="0.0.0.0") as address:
        base = f"http://{address[0]}:{address[1]}"
        for path in ["/", "/video_feed", "/gallery/happy", "/api/faces"]:
            assert status_of(base + path)[0] == 401, path
        assert json.loads(status_of(base + "/healthz")[2]) == {"status": "ok"}
        assert status_of(base + "/?token=" + policy.token[:-1])[0] == 401
        assert status_of(base + "/api/faces", {"Authorization": "Bearer " + policy.token + "x"})[0] == 401
        status, headers, _ = status_of(base + "/?token=" + policy.token)
        assert status == 303 and headers["Location"] == "/" and "HttpOnly" in headers["Set-Cookie"]
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, _, page = status_of(base + "/gallery/sad?token=" + policy.token, opener=browser)
        assert status == 200 and b"<h1" in page, "the cookie set by the token URL should open the gallery"
        assert status_of(base + "/api/faces", {"Authorization": "Bearer " + policy.token})[0] == 200
        with video_feed(address, path="/video_feed?token=" + policy.token) as response:
            headers, jpeg = read_part(response)
            assert decode(jpeg).shape == (480, 640, 3)
    assert made


def test_https_with_the_self_signed_certificate_streams_frames(recognizer, clip, tmp_path):
    files = tls.self_signed(["127.0.0.1", "localhost"], tmp_path)
    context = ssl.create_default_context(cafile=str(files.certfile))  # verifies the name 127.0.0.1 too
    app = create_app(recognizer, source=str(clip))
    with serving(app, tls_files=files) as address:
        with video_feed(address, context=context) as response:
            numbers = [int(read_part(response)[0]["x-frame-number"]) for _ in range(3)]
            assert numbers == sorted(set(numbers))
        base = f"https://{address[0]}:{address[1]}"
        status, headers, _ = status_of(base + "/", context=context)
        assert status == 200 and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert status_of(base + "/", {"Host": "rebind.example"}, context=context)[0] == 403


def test_main_on_all_addresses_prints_the_address_with_a_fresh_token(tiny_model_dir, tmp_path):
    process, _, url = start_main(
        "--host", "0.0.0.0", "--port", "0", "--model", str(tiny_model_dir), "--source", str(tmp_path / "missing.mp4"),
        cwd=tmp_path, pattern=r"demo at (http://127\.0\.0\.1:\d+/)\?token=([\w-]{32}) ")
    try:
        assert url, "main.py never logged its address with a token"
        assert status_of(url.group(1))[0] == 401
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert status_of(f"{url.group(1)}?token={url.group(2)}", opener=browser)[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        finally:
            process.kill()
    assert process.returncode == 0
