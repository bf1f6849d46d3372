"""fer.live.video: the faces of one video keep their ids and their scores are smoothed; a new video starts afresh."""

import numpy as np
import pytest

from clips import FixedDetector, compose_scene, load_faces
from fer.live.recognizer import EmotionRecognizer
from fer.live.video import VideoAnalysis

FIXTURE_FACES = [gray_face for _, gray_face in load_faces()]
BOX = (100, 100, 48, 48)


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir)


@pytest.fixture(scope="module")
def placed(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir, detector=FixedDetector([BOX]))


def frame_of(face):
    frame = np.zeros((300, 300, 3), np.uint8)
    frame[100:148, 100:148] = face[:, :, np.newaxis]
    return frame


def scores(face):
    return np.array(list(face["scores"].values()))


def test_each_face_keeps_its_id_from_frame_to_frame_with_one_model_call_a_frame(recognizer):
    video = VideoAnalysis(recognizer)
    frames = [compose_scene(FIXTURE_FACES[:2], frame_index=index)[0] for index in range(4)]
    calls = recognizer.model_calls
    ids = [[face["id"] for face in video.analyze(frame)] for frame in frames]
    assert len(set(ids[0])) == 2 and all(frame_ids == ids[0] for frame_ids in ids)
    assert recognizer.model_calls == calls + len(frames)


def test_scores_are_smoothed_over_the_frames_of_one_video_only(placed):
    raw = placed.classify_faces(FIXTURE_FACES[:2])
    video = VideoAnalysis(placed)
    alpha = video.smoother.alpha
    np.testing.assert_allclose(scores(video.analyze(frame_of(FIXTURE_FACES[0]))[0]), raw[0], rtol=1e-5)
    second = video.analyze(frame_of(FIXTURE_FACES[1]))[0]
    np.testing.assert_allclose(scores(second), alpha * raw[1] + (1 - alpha) * raw[0], rtol=1e-5)
    assert second["confidence"] == pytest.approx(max(second["scores"].values()))
    fresh = VideoAnalysis(placed).analyze(frame_of(FIXTURE_FACES[1]))[0]
    np.testing.assert_allclose(scores(fresh), raw[1], rtol=1e-5)
    assert placed.analyze(frame_of(FIXTURE_FACES[1]))[0]["scores"] == pytest.approx(fresh["scores"]), \
        "a video's state must not reach the recognizer"


def test_without_smoothing_each_frame_keeps_its_own_scores_and_faces_keep_ids(placed):
    raw = placed.classify_faces(FIXTURE_FACES[:2])
    video = VideoAnalysis(placed, smoothing=False)
    first = video.analyze(frame_of(FIXTURE_FACES[0]))[0]
    second = video.analyze(frame_of(FIXTURE_FACES[1]))[0]
    np.testing.assert_allclose(scores(second), raw[1], rtol=1e-5)
    assert first["id"] == second["id"]
