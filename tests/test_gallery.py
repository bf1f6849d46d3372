"""fer.live.gallery: sample faces scored once, in one model call, unreadable files left out."""

import cv2

from clips import load_faces
from fer.live.gallery import Gallery
from fer.live.recognizer import EmotionRecognizer


def test_every_sample_face_is_scored_in_one_call_and_kept(tiny_model_dir, tmp_path):
    faces = dict(load_faces())
    for emotion in ("happy", "sad"):
        (tmp_path / emotion).mkdir()
        for index in (1, 2):
            cv2.imwrite(str(tmp_path / emotion / f"{index}.png"), faces[f"{emotion}_{index}"])
    (tmp_path / "sad" / "3.png").write_bytes(b"not a picture")
    recognizer = EmotionRecognizer(tiny_model_dir)
    gallery = Gallery(tmp_path, emotions=("happy", "sad", "fear"))
    calls = recognizer.model_calls
    happy = gallery.faces("happy", recognizer)
    assert [face.name for face in happy] == ["1.png", "2.png"] and all(face.emotion == "happy" for face in happy)
    assert [face.name for face in gallery.faces("sad", recognizer)] == ["1.png", "2.png"], "3.png is no picture"
    assert gallery.faces("fear", recognizer) == []
    assert recognizer.model_calls == calls + 1, "all faces in one call, and only once"
    assert all(face.predicted in recognizer.labels and 0 <= face.confidence <= 1 for face in happy)
    assert all(face.correct == (face.predicted == "happy") for face in happy)
