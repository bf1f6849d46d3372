"""fer.live.follower: every video frame gets its faces; whole-frame searches only every N frames."""

import pytest

from clips import compose_scene, gradient_background, load_faces
from fer.live.haar import HaarDetector
from fer.live.follower import FaceFollower
from fer.live.boxes import box_iou

FACES = [gray_face for _, gray_face in load_faces()]


class CountingDetector(HaarDetector):
    """The real detector, counting whole-frame searches."""

    def __init__(self):
        super().__init__()
        self.full_searches = 0

    def detect(self, frame):
        self.full_searches += 1
        return super().detect(frame)


def searches(detector):
    return detector.detect, detector.detect_near


def all_found(found, truth):
    return len(found) == len(truth) and all(any(box_iou(box, true_box) >= 0.5 for box in found)
                                            for true_box in truth)


def video(faces, frames, motion=12):
    return [compose_scene(faces, frame_index=index, face_size=130, motion=motion) for index in range(frames)]


def test_every_frame_gets_its_faces_with_a_full_search_every_n_frames():
    detector = CountingDetector()
    follower = FaceFollower(*searches(detector), full_search_every=8)
    for frame, truth in video([FACES[0], FACES[5]], 24):
        assert all_found(follower.detect(frame), truth)
    assert detector.full_searches == 3 == follower.full_searches


def test_full_search_every_one_searches_every_frame():
    detector = CountingDetector()
    follower = FaceFollower(*searches(detector), full_search_every=1)
    for frame, truth in video([FACES[1], FACES[6]], 5):
        assert all_found(follower.detect(frame), truth)
    assert detector.full_searches == 5


def test_a_face_that_walks_in_appears_by_the_next_full_search():
    follower = FaceFollower(*searches(CountingDetector()), full_search_every=4)
    two = video([FACES[2], FACES[7]], 5)
    first_frame, truth = two[0]
    x, y, w, h = truth[1]
    first_frame[y:y + h, x:x + w] = gradient_background()[y:y + h, x:x + w]  # the second face is not in yet
    assert len(follower.detect(first_frame)) == 1
    counts = [len(follower.detect(frame)) for frame, _ in two[1:]]
    assert counts == [1, 1, 1, 2], "the second face must show up at the 4th frame's full search"


def test_a_lost_face_makes_that_frame_a_full_search():
    detector = CountingDetector()
    follower = FaceFollower(*searches(detector), full_search_every=100)
    frame, _ = compose_scene(FACES[:2], face_size=130)
    assert len(follower.detect(frame)) == 2
    moved, moved_truth = compose_scene(FACES[:1], face_size=130)  # one face left, the other jumped
    assert all_found(follower.detect(moved), moved_truth)
    assert detector.full_searches == 2
    assert follower.detect(gradient_background()) == []


def test_full_search_every_must_be_positive():
    with pytest.raises(ValueError, match="full_search_every"):
        FaceFollower(*searches(HaarDetector()), full_search_every=0)
