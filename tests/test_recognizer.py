"""fer.live.recognizer: one model call per picture, the training path's tensors and scores, no state kept."""

import concurrent.futures

import numpy as np
import pytest

from clips import FixedDetector, compose_scene, load_faces
from fer.training.data import read_csv_faces
from fer.training.evaluation import predict_scores
from fer.preprocessing import faces_to_batch, to_gray
from fer.locations import DEFAULT_MODEL_DIR
from fer.live.alignment import face_crops
from fer.live.recognizer import EmotionRecognizer

FIXTURE_FACES = [gray_face for _, gray_face in load_faces()]


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir)


def test_default_model_dir_is_in_the_repository():
    assert DEFAULT_MODEL_DIR.parts[-2:] == ("models", "default")
    assert (DEFAULT_MODEL_DIR.parent.parent / "fer").is_dir()


def test_classify_faces_of_any_size_and_colour(recognizer):
    faces = [FIXTURE_FACES[0], np.full((120, 90, 3), 128, np.uint8), np.zeros((20, 20), np.uint8)]
    scores = recognizer.classify_faces(faces)
    assert scores.shape == (3, len(recognizer.labels)) and scores.dtype == np.float32
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)


def test_no_faces_means_no_model_call(recognizer):
    calls = recognizer.model_calls
    scores = recognizer.classify_faces([])
    assert scores.shape == (0, len(recognizer.labels))
    assert recognizer.analyze(np.zeros((480, 640, 3), np.uint8)) == []
    assert recognizer.model_calls == calls


@pytest.mark.parametrize("count", [1, 2, 4])
def test_one_model_call_per_frame_whatever_the_face_count(recognizer, count):
    frame, _ = compose_scene(FIXTURE_FACES[:count * 5:5], face_size=120)
    calls = recognizer.model_calls
    faces = recognizer.analyze(frame)
    assert len(faces) == count
    assert recognizer.model_calls == calls + 1


def test_analyze_reports_plain_dicts_per_face(recognizer):
    frame, truth = compose_scene(FIXTURE_FACES[:2])
    faces = recognizer.analyze(frame)
    assert len(faces) == 2
    for face in faces:
        assert set(face) == {"box", "emotion", "confidence", "scores"}
        assert len(face["box"]) == 4 and all(type(value) is int for value in face["box"])
        assert list(face["scores"]) == list(recognizer.labels)
        assert face["emotion"] == max(face["scores"], key=face["scores"].get)
        assert face["confidence"] == face["scores"][face["emotion"]]
        assert type(face["confidence"]) is float


def test_camera_crop_gives_the_csv_tensor(sample_csv):
    csv_faces, _, _ = read_csv_faces(sample_csv)
    frame = np.full((480, 640, 3), 30, np.uint8)
    box = (200, 150, 48, 48)
    frame[150:198, 200:248] = csv_faces[0]  # the grey face in all three channels
    camera_tensor = faces_to_batch(face_crops(to_gray(frame), [box]))
    np.testing.assert_array_equal(camera_tensor[0], csv_faces[0])


def test_live_scores_equal_the_evaluation_scores_for_the_same_pixels(tiny_model_dir, sample_csv):
    csv_faces, _, _ = read_csv_faces(sample_csv)
    boxes = [(40, 60, 48, 48), (300, 200, 48, 48)]
    frame = np.zeros((480, 640, 3), np.uint8)
    for (x, y, w, h), face in zip(boxes, csv_faces[:2]):
        frame[y:y + h, x:x + w] = face
    live = EmotionRecognizer(tiny_model_dir, detector=FixedDetector(boxes))
    faces = live.analyze(frame)
    expected = predict_scores(live.model, csv_faces[:2])
    live_scores = np.array([[face["scores"][label] for label in live.labels] for face in faces])
    np.testing.assert_allclose(live_scores, expected, rtol=1e-5, atol=1e-6)


def test_classify_faces_equals_predict_scores_on_fixture_faces(recognizer):
    expected = predict_scores(recognizer.model, faces_to_batch(FIXTURE_FACES))
    np.testing.assert_allclose(recognizer.classify_faces(FIXTURE_FACES), expected, rtol=1e-5, atol=1e-6)


def test_a_picture_is_analysed_alike_whatever_came_before_and_from_many_threads(recognizer):
    scenes = [compose_scene(FIXTURE_FACES[index:index + 2])[0] for index in (0, 4, 8)]
    alone = [recognizer.analyze(scene) for scene in scenes]
    assert [recognizer.analyze(scene) for scene in reversed(scenes)] == alone[::-1]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(recognizer.analyze, scenes * 4))
    assert together == alone * 4


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="model directory"):
        EmotionRecognizer(tmp_path / "nowhere")


def test_with_yunet_a_turned_face_is_scored_upright_unless_told_not_to(tiny_model_dir):
    from clips import turned_scene
    from fer.live.alignment import face_crop

    frame, _ = turned_scene(FIXTURE_FACES[0], 30)
    aligned = EmotionRecognizer(tiny_model_dir, detector="yunet")
    plain = EmotionRecognizer(tiny_model_dir, detector="yunet", align=False)
    assert aligned.detection == {"detector": "yunet", "aligned": True}
    assert plain.detection == {"detector": "yunet", "aligned": False}
    [box] = aligned.find_faces(frame)
    assert box.angle < -15, "turned counter-clockwise: the eye line reads well below level"
    [upright], [as_found] = aligned.analyze(frame), plain.analyze(frame)
    assert upright["box"] == as_found["box"] == list(box), "the reported box is the detector's"
    gray = to_gray(frame)
    x, y, w, h = box
    for face, crop in ((upright, face_crop(gray, box)), (as_found, gray[y:y + h, x:x + w])):
        expected = aligned.classify_faces([crop])[0]
        np.testing.assert_allclose([face["scores"][label] for label in aligned.labels], expected, rtol=1e-5, atol=1e-6)
    assert upright["scores"] != as_found["scores"]
