"""The Flask app through its test client: every route, and the errors a visitor can cause."""

import base64
import importlib.util
import io
import json
import pathlib
import re
import threading

import cv2
import numpy as np
import pytest
from PIL import Image

from clips import compose_scene, face_emotion, load_faces
from fer.labels import EMOTIONS
from fer.live.recognizer import EmotionRecognizer
from fer.live.boxes import box_iou
from fer.live.web import MAX_ANALYSIS_SIDE, MAX_UPLOAD_BYTES, UploadError, create_app, decode_image

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir)


@pytest.fixture
def app(recognizer):
    app = create_app(recognizer, source="99", stream_options={"idle_timeout": 0.5, "retry_first": 0.1})
    yield app
    app.extensions["fer"]["broadcaster"].stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def scene():
    """A 640 x 480 BGR picture of three real FER-2013 faces and where they are."""
    faces = load_faces()
    chosen = [face for name, face in faces if face_emotion(name) in ("happy", "surprise", "neutral")][::5][:3]
    return compose_scene(chosen)


def jpeg_bytes(image, quality=90):
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def assert_found(faces, true_boxes, labels):
    assert len(faces) == len(true_boxes)
    for true_box in true_boxes:
        best = max(faces, key=lambda face: box_iou(face["box"], true_box))
        assert box_iou(best["box"], true_box) > 0.5
    for face in faces:
        assert face["emotion"] in labels and 0.0 <= face["confidence"] <= 1.0
        assert set(face["scores"]) == set(labels)
        assert sum(face["scores"].values()) == pytest.approx(1.0, abs=1e-3)
        assert face["confidence"] == max(face["scores"].values())


def test_the_page_links_every_emotion_shows_the_stream_and_offers_the_webcam(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for emotion in EMOTIONS:
        assert f'href="/gallery/{emotion}"' in page
    assert re.search(r'<img id="stream" data-src="/video_feed"', page), "the page's script reads the stream"
    assert re.search(r'<noscript><img src="/video_feed"', page), "without scripts the browser shows it"
    assert 'id="webcam-toggle"' in page and "<video" in page and 'id="faces"' in page
    script = client.get("/static/app.js").get_data(as_text=True)
    assert "getUserMedia" in script and "/api/predict" in script and "/api/faces" in script


def test_everything_the_page_needs_is_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert not [asset for asset in assets if "//" in asset], "no CDN or other remote asset"
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
    for name in ("style.css", "app.js"):
        assert "http://" not in client.get(f"/static/{name}").get_data(as_text=True)
        assert "https://" not in client.get(f"/static/{name}").get_data(as_text=True)


def test_the_app_finds_its_templates_from_any_working_directory(recognizer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app(recognizer, source="99")
    assert app.test_client().get("/").status_code == 200
    assert app.debug is False


def test_every_gallery_shows_its_faces_with_predictions_made_in_one_model_call(client, recognizer):
    calls_before = recognizer.model_calls
    for emotion in EMOTIONS:
        response = client.get(f"/gallery/{emotion}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        images = re.findall(rf'<img src="(/gallery/{emotion}/[^"/]+\.png)"', page)
        assert len(images) >= 20
        predictions = re.findall(r'class="prediction emotion-(\w+)"', page)
        assert len(predictions) == len(images) and set(predictions) <= set(recognizer.labels)
        assert re.search(rf"agrees on <strong id=\"agreed\">\d+ of {len(images)}</strong>", page)
        image = client.get(images[0])
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_GRAYSCALE).shape == (48, 48)
    assert recognizer.model_calls - calls_before == 1


def test_unknown_emotions_and_paths_outside_the_app_get_404(client):
    for path in ("/gallery/bored", "/gallery/..%2f..%2ffer", "/gallery/HAPPY", "/static/../fer/web.py",
                 "/static/%2e%2e/fer/web.py", "/static/gallery/../../fer/web.py", "/nowhere",
                 "/gallery/happy/..%2f..%2f..%2ffer%2fweb.py", "/gallery/happy/%2e%2e/sad.png",
                 "/gallery/bored/fer2013-00001.png", "/gallery/happy/missing.png"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"import" not in response.data
    page = client.get("/gallery/bored").get_data(as_text=True)
    assert "404" in page and "bored" in page and 'href="/gallery/happy"' in page


def test_predict_finds_the_faces_of_a_multipart_upload(client, scene, recognizer):
    image, true_boxes = scene
    response = client.post("/api/predict", data={"image": (io.BytesIO(jpeg_bytes(image)), "scene.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and response.is_json
    assert_found(response.get_json(), true_boxes, recognizer.labels)


def test_predict_takes_the_picture_as_the_raw_body(client, scene, recognizer):
    image, true_boxes = scene
    png = cv2.imencode(".png", image)[1].tobytes()
    response = client.post("/api/predict", data=png, content_type="image/png")
    assert response.status_code == 200
    assert_found(response.get_json(), true_boxes, recognizer.labels)


def test_uploads_stand_alone_without_smoothing(client, scene, recognizer):
    image, _ = scene
    first = client.post("/api/predict", data=jpeg_bytes(image)).get_json()
    mirrored = client.post("/api/predict", data=jpeg_bytes(image[:, ::-1])).get_json()
    again = client.post("/api/predict", data=jpeg_bytes(image)).get_json()
    assert first == again, "an upload's answer must not depend on the uploads before it"
    assert mirrored and all("id" not in face for face in first), "an upload is a picture, not a frame of a video"


def test_predict_returns_an_empty_list_for_a_picture_without_faces(client):
    blank = np.full((240, 320, 3), 128, np.uint8)
    response = client.post("/api/predict", data=jpeg_bytes(blank))
    assert response.status_code == 200 and response.get_json() == []


@pytest.mark.parametrize("body, reason", [
    (b"", "empty upload"),
    (b"name,emotion\nalice,happy\n", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image"),
])
def test_predict_rejects_what_is_not_a_picture_with_400_and_a_reason(client, body, reason):
    response = client.post("/api/predict", data=body, content_type="application/octet-stream")
    assert response.status_code == 400 and response.is_json
    assert reason in response.get_json()["error"]


def test_a_truncated_jpeg_gets_400(client, scene):
    whole = jpeg_bytes(scene[0])
    response = client.post("/api/predict", data={"image": (io.BytesIO(whole[:len(whole) // 2]), "cut.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "truncated" in response.get_json()["error"]


def test_a_multipart_upload_without_an_image_field_gets_400(client):
    response = client.post("/api/predict", data={"photo": (io.BytesIO(b"x"), "a.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "'image'" in response.get_json()["error"]


def test_an_upload_over_the_limit_gets_413_json(client):
    too_big = b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES)
    for kwargs in ({"data": too_big, "content_type": "image/jpeg"},
                   {"data": {"image": (io.BytesIO(too_big), "big.jpg")}, "content_type": "multipart/form-data"}):
        response = client.post("/api/predict", **kwargs)
        assert response.status_code == 413 and response.is_json
        assert response.get_json()["error"] == "upload too large: at most 10 MB"


def test_the_api_answers_wrong_methods_in_json(client):
    response = client.get("/api/predict")
    assert response.status_code == 405 and response.get_json()["status"] == 405


def test_decode_image_turns_a_photo_upright_by_its_exif_orientation():
    picture = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    picture = decode_image(buffer.getvalue())
    image = picture.image
    assert image.shape == (40, 20, 3) and picture.scale == 1.0
    assert image[10, 10, 2] > 200 and image[10, 10, 0] < 60, "channels should come back in BGR order"
    with pytest.raises(UploadError, match="too large"):
        decode_image(buffer.getvalue(), max_pixels=100)


def test_healthz_reports_the_model_and_the_source(client, recognizer):
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.get_json()
    assert health["status"] == "ok" and health["model_loaded"] is True
    assert health["labels"] == list(recognizer.labels)
    assert health["source"]["source"] == "99" and health["source"]["state"] in ("stopped", "connecting", "error")
    assert health["detector"] == "haar" and health["aligned"] is False
    assert health["engine"] == "litert"  # the tiny model directory ships its float32 LiteRT file only


def test_the_detector_in_use_is_named_by_healthz_api_faces_and_the_footer(client, tiny_model_dir, scene):
    assert client.get("/api/faces").get_json()["detector"] == "haar"
    assert "faces found by the Haar cascade" in client.get("/").get_data(as_text=True)
    app = create_app(EmotionRecognizer(tiny_model_dir, detector="yunet"), source="99")
    try:
        yunet = app.test_client()
        assert yunet.get("/healthz").get_json()["detector"] == "yunet"
        assert yunet.get("/api/faces").get_json()["aligned"] is True
        assert "faces found by YuNet, set upright" in yunet.get("/").get_data(as_text=True)
        frame, true_boxes = scene
        faces = yunet.post("/api/predict", data=jpeg_bytes(frame), content_type="image/jpeg").get_json()
        assert_found(faces, true_boxes, app.extensions["fer"]["recognizer"].labels)
    finally:
        app.extensions["fer"]["broadcaster"].stop()


def test_video_feed_is_an_mjpeg_stream_that_explains_a_missing_camera(client, app):
    response = client.get("/video_feed", buffered=False)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
    part = next(iter(response.response))
    response.close()
    header, jpeg = part.split(b"\r\n\r\n", 1)
    assert header.startswith(b"--frame\r\nContent-Type: image/jpeg")
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)
    faces = client.get("/api/faces").get_json()
    assert faces["state"] == "error" and "webcam 99" in faces["message"] and faces["faces"] == []


def test_make_gallery_writes_what_the_gallery_pages_show(recognizer, sample_csv, tmp_path):
    script = importlib.util.spec_from_file_location("make_gallery", ROOT / "scripts" / "make_gallery.py")
    make_gallery = importlib.util.module_from_spec(script)
    script.loader.exec_module(make_gallery)
    assert make_gallery.main(["--data", str(sample_csv), "--per-class", "3", "--output", str(tmp_path)]) == 0
    for emotion in EMOTIONS:
        assert len(list((tmp_path / emotion).glob("*.png"))) == 3
    client = create_app(recognizer, source="99", gallery_root=tmp_path).test_client()
    page = client.get("/gallery/fear").get_data(as_text=True)
    assert len(re.findall(r'class="prediction emotion-', page)) == 3
    image = re.search(r'<img src="(/gallery/fear/[^"]+)"', page).group(1)
    assert client.get(image).status_code == 200
    assert make_gallery.main(["--data", str(tmp_path / "missing.csv")]) == 2


def test_a_large_picture_is_analysed_shrunk_and_answered_in_its_own_pixels(client, scene, recognizer):
    image, true_boxes = scene
    factor = 5  # 3200 x 2400: twice the analysed side
    large = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
    for encoded in (cv2.imencode(".png", large)[1].tobytes(), jpeg_bytes(large)):
        picture = decode_image(encoded)
        assert max(picture.image.shape[:2]) <= MAX_ANALYSIS_SIDE
        assert picture.scale == pytest.approx(large.shape[1] / picture.image.shape[1])
        response = client.post("/api/predict", data=encoded)
        assert response.status_code == 200
        assert_found(response.get_json(), [[value * factor for value in box] for box in true_boxes],
                     recognizer.labels)


def test_uploads_beyond_the_analysis_slots_get_503_with_retry_after(recognizer, scene):
    app = create_app(recognizer, source="99", upload_slots=1, upload_wait=0.2)
    entered, release = threading.Event(), threading.Event()
    original = recognizer.analyze

    def slow_analyze(image):
        entered.set()
        release.wait(5)
        return original(image)

    recognizer.analyze = slow_analyze
    try:
        first = threading.Thread(target=lambda: app.test_client().post("/api/predict", data=jpeg_bytes(scene[0])))
        first.start()
        assert entered.wait(5)
        response = app.test_client().post("/api/predict", data=jpeg_bytes(scene[0]))
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert "busy" in response.get_json()["error"]
    finally:
        release.set()
        first.join(5)
        del recognizer.analyze
    assert app.test_client().post("/api/predict", data=jpeg_bytes(scene[0])).status_code == 200


def test_streams_beyond_the_ceiling_get_a_503_page_and_the_api_still_answers(recognizer):
    app = create_app(recognizer, source="99", max_viewers=1, stream_options={"retry_first": 0.1})
    client = app.test_client()
    try:
        first = client.get("/video_feed", buffered=False)
        next(iter(first.response))  # the viewer is in
        second = client.get("/video_feed")
        assert second.status_code == 503 and second.headers["Retry-After"]
        assert "--max-viewers" in second.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200
        first.close()
        again = client.get("/video_feed", buffered=False)
        assert again.status_code == 200
        again.close()
    finally:
        app.extensions["fer"]["broadcaster"].close()


def test_boxes_from_the_caller_skip_detection_and_come_back_one_face_each_in_order(client, scene, recognizer):
    image, true_boxes = scene
    boxes = [list(map(int, box)) for box in true_boxes[::-1]] + [[0, 0, 60, 60]]  # the last holds no face
    response = client.post("/api/predict", data={"image": (io.BytesIO(jpeg_bytes(image)), "scene.jpg"),
                                                 "boxes": json.dumps(boxes)}, content_type="multipart/form-data")
    faces = response.get_json()
    assert response.status_code == 200 and [face["box"] for face in faces] == boxes
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    for face, (x, y, w, h) in zip(faces, boxes):  # scored on exactly that region
        expected = recognizer.classify_faces([gray[y:y + h, x:x + w]])[0]
        assert face["scores"]["happy"] == pytest.approx(float(expected[recognizer.labels.index("happy")]), abs=0.02)


def test_boxes_come_in_a_json_body_too_in_the_pictures_own_pixels(client, scene, recognizer):
    image, true_boxes = scene
    large = cv2.resize(image, (2560, 1920))  # shrunk for analysis; boxes stay in the upload's pixels
    boxes = [[int(value * 4) for value in box] for box in true_boxes]
    body = {"image": base64.b64encode(jpeg_bytes(large)).decode("ascii"), "boxes": boxes}
    response = client.post("/api/predict", json=body)
    assert response.status_code == 200
    assert [face["box"] for face in response.get_json()] == boxes
    assert client.post("/api/predict", json={"boxes": boxes}).status_code == 400


@pytest.mark.parametrize("boxes, reason", [
    ("[[1, 2, 3]]", "box 0 ([1, 2, 3]) is not a list of four numbers"),
    ('[[10, 10, "w", 40]]', "is not a list of four numbers"),
    ('{"x": 1}', "boxes must be a list of [x, y, w, h] lists"),
    ("[[10, 10, 40, 40], [10, 10, 0, 40]]", "box 1 [10, 10, 0, 40] has an empty size"),
    ("[[700, 10, 40, 40]]", "box 0 [700, 10, 40, 40] lies wholly outside the 640 x 480 picture"),
    ("[[1, 2, 3, 4", "the 'boxes' field is not JSON"),
])
def test_bad_boxes_get_400_saying_which_and_why(client, scene, boxes, reason):
    image, _ = scene
    response = client.post("/api/predict", data={"image": (io.BytesIO(jpeg_bytes(image)), "scene.jpg"),
                                                 "boxes": boxes}, content_type="multipart/form-data")
    assert response.status_code == 400 and reason in response.get_json()["error"]


def test_a_box_partly_outside_is_scored_on_the_part_inside(recognizer, scene):
    image, _ = scene
    faces = recognizer.analyze(image, boxes=[[600, 440, 100, 100]])
    assert faces[0]["box"] == [600, 440, 100, 100] and sum(faces[0]["scores"].values()) == pytest.approx(1, abs=1e-3)
