"""fer.live.smoothing and fer.live.boxes: faces keep their identity across frames and their scores are smoothed."""

import numpy as np
import pytest

from fer.live.boxes import box_iou, match_boxes
from fer.live.smoothing import ScoreSmoother

HAPPY = np.array([0.0, 1.0], np.float32)
SAD = np.array([1.0, 0.0], np.float32)


def test_box_iou():
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert box_iou((0, 0, 10, 10), (30, 30, 5, 5)) == 0.0


def test_match_boxes_takes_the_best_overlap_once():
    old = [(0, 0, 100, 100), (200, 0, 100, 100)]
    new = [(205, 5, 100, 100), (300, 300, 50, 50), (3, 2, 100, 100)]
    assert sorted(match_boxes(old, new, min_iou=0.3)) == [(0, 2), (1, 0)]
    assert match_boxes(old, [], 0.3) == [] and match_boxes([], new, 0.3) == []


def test_moving_faces_keep_their_ids():
    smoother = ScoreSmoother()
    ids, _ = smoother.update([(0, 0, 100, 100), (300, 0, 100, 100)], [HAPPY, SAD])
    for step in range(1, 6):
        moved_ids, _ = smoother.update([(300 + 5 * step, 4 * step, 100, 100), (8 * step, 3 * step, 100, 100)],
                                      [SAD, HAPPY])
        assert moved_ids == ids[::-1]


def test_scores_are_an_exponential_moving_average():
    smoother = ScoreSmoother(alpha=0.25)
    box = (10, 10, 80, 80)
    _, first = smoother.update([box], [SAD])
    np.testing.assert_allclose(first[0], SAD)
    _, second = smoother.update([box], [HAPPY])
    np.testing.assert_allclose(second[0], 0.25 * HAPPY + 0.75 * SAD)
    _, third = smoother.update([box], [HAPPY])
    np.testing.assert_allclose(third[0], 0.25 * HAPPY + 0.75 * second[0])


def test_smoothing_damps_a_one_frame_flicker():
    smoother = ScoreSmoother(alpha=0.35)
    box = (50, 50, 120, 120)
    for _ in range(5):
        smoother.update([box], [HAPPY])
    _, flicker = smoother.update([box], [SAD])
    assert flicker[0].argmax() == HAPPY.argmax()


def test_alpha_one_means_no_smoothing():
    smoother = ScoreSmoother(alpha=1.0)
    smoother.update([(0, 0, 50, 50)], [HAPPY])
    _, scores = smoother.update([(0, 0, 50, 50)], [SAD])
    np.testing.assert_allclose(scores[0], SAD)


def test_a_new_face_gets_a_new_track_with_its_own_scores():
    smoother = ScoreSmoother()
    (first_id,), _ = smoother.update([(0, 0, 100, 100)], [HAPPY])
    ids, scores = smoother.update([(0, 0, 100, 100), (400, 300, 100, 100)], [HAPPY, SAD])
    assert ids[0] == first_id and ids[1] != first_id
    np.testing.assert_allclose(scores[1], SAD)


def test_tracks_unseen_for_too_long_are_dropped():
    smoother = ScoreSmoother(max_missed=2)
    (first_id,), _ = smoother.update([(0, 0, 100, 100)], [HAPPY])
    for _ in range(2):
        smoother.update([], np.zeros((0, 2)))
    (same_id,), _ = smoother.update([(0, 0, 100, 100)], [SAD])
    assert same_id == first_id
    for _ in range(3):
        smoother.update([], np.zeros((0, 2)))
    assert smoother.tracks == []
    (new_id,), scores = smoother.update([(0, 0, 100, 100)], [SAD])
    assert new_id != first_id
    np.testing.assert_allclose(scores[0], SAD)


def test_reset_forgets_everything():
    smoother = ScoreSmoother()
    smoother.update([(0, 0, 100, 100)], [HAPPY])
    smoother.reset()
    _, scores = smoother.update([(0, 0, 100, 100)], [SAD])
    np.testing.assert_allclose(scores[0], SAD)


def test_no_faces_gives_an_empty_score_array():
    ids, scores = ScoreSmoother().update([], np.zeros((0, 7), np.float32))
    assert ids == [] and scores.shape == (0, 7)


def test_mismatched_boxes_and_scores_are_refused():
    with pytest.raises(ValueError, match="2 boxes but 1 rows"):
        ScoreSmoother().update([(0, 0, 1, 1), (5, 5, 1, 1)], [HAPPY])


@pytest.mark.parametrize("settings", [dict(alpha=0.0), dict(alpha=1.5), dict(min_iou=0.0), dict(max_missed=-1)])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        ScoreSmoother(**settings)
