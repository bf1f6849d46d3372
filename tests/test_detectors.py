"""fer.live.detectors and the shared --detector options: detectors by name, behind one recognizer."""

import argparse

import pytest

from clips import compose_scene, load_faces
from fer.commands.detection import DETECTOR_NAMES, add_detector_arguments, detection_problems
from fer.live.boxes import box_iou
from fer.live.detectors import DEFAULT_DETECTOR, DETECTORS, make_detector
from fer.live.follower import FaceFollower
from fer.live.haar import HaarDetector
from fer.live.yunet import YuNetDetector

FACES = [gray_face for _, gray_face in load_faces()]


def test_the_options_offer_every_detector_and_haar_stays_the_default():
    assert tuple(DETECTORS) == DETECTOR_NAMES
    assert DEFAULT_DETECTOR == "haar"
    parser = argparse.ArgumentParser()
    add_detector_arguments(parser)
    assert vars(parser.parse_args([])) == {"detector": "haar", "align": True, "detect_width": 320, "int8": True}
    assert vars(parser.parse_args(["--detector", "yunet", "--no-align", "--detect-width", "0", "--float32"])) == {
        "detector": "yunet", "align": False, "detect_width": 0, "int8": False}
    with pytest.raises(SystemExit):
        parser.parse_args(["--detector", "mtcnn"])
    assert detection_problems(parser.parse_args(["--detect-width", "16"])) == [
        "--detect-width must be 0 (full resolution) or at least 32, got 16"]


def test_make_detector_builds_each_by_name_and_refuses_others():
    haar, yunet = make_detector("haar"), make_detector("yunet", detect_width=0)
    assert isinstance(haar, HaarDetector) and haar.detect_width == 320 and not haar.finds_eyes
    assert isinstance(yunet, YuNetDetector) and yunet.detect_width is None and yunet.finds_eyes
    with pytest.raises(ValueError, match="unknown face detector 'mtcnn'; choose from haar, yunet"):
        make_detector("mtcnn")


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_each_detector_follows_faces_between_full_searches(name):
    detector = make_detector(name)
    searches = []
    follower = FaceFollower(lambda frame: searches.append(1) or detector.detect(frame), detector.detect_near,
                            full_search_every=8)
    for index in range(16):
        frame, truth = compose_scene(FACES[:2], frame_index=index, face_size=140, motion=12)
        found = follower.detect(frame)
        assert len(found) == 2 and all(any(box_iou(box, true) >= 0.5 for box in found) for true in truth)
    assert len(searches) == 2
