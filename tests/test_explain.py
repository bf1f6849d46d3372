import cv2
import numpy as np
import pytest

from fer import load_model

from fer import cli
from fer.training.data import load_csv
from fer.live.haar import HaarDetector
from fer.studies.ensemble import build_ensemble
from fer.studies.explain import conv_layers, explain_image, grad_cam, layer_activations
from fer.preprocessing import face_to_input


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    return load_model(tiny_model_dir)


@pytest.fixture(scope="module")
def face(sample_csv):
    return load_csv(sample_csv).test.images[0]


@pytest.fixture(scope="module")
def photo(face):
    """A grey 600x400 'photo' with the face enlarged to 220 pixels, which the cascade finds."""
    canvas = np.full((400, 600), 128, np.uint8)
    canvas[90:310, 190:410] = cv2.resize(face.squeeze(), (220, 220), interpolation=cv2.INTER_CUBIC)
    return canvas


def test_the_grad_cam_heat_map_covers_the_face_and_is_not_constant(loaded, face):
    heat_map = grad_cam(loaded.model, face, class_index=3)
    assert heat_map.shape == (48, 48)
    assert heat_map.min() >= 0 and heat_map.max() == pytest.approx(1.0)
    assert heat_map.std() > 0.01
    assert not np.allclose(heat_map, grad_cam(loaded.model, face, class_index=5))


def test_an_ensemble_heat_map_is_the_mean_of_its_members(loaded, face):
    ensemble = build_ensemble([loaded, loaded])
    np.testing.assert_allclose(grad_cam(ensemble, face, 3), grad_cam(loaded.model, face, 3), atol=1e-5)


def test_a_face_crop_is_explained_whole(loaded, face):
    [explanation] = explain_image(loaded, face.squeeze(), detector=None)
    assert explanation.box is None
    np.testing.assert_array_equal(explanation.face, face)
    scores = loaded.model.predict(face[np.newaxis].astype("float32"), verbose=0)[0]
    np.testing.assert_allclose(explanation.scores, scores, rtol=1e-5)
    [(name, heat_map)] = explanation.maps.items()
    assert name == f"Grad-CAM: {loaded.labels[int(scores.argmax())]}" and heat_map.std() > 0


def test_a_photo_is_searched_and_each_crop_goes_through_face_to_input(loaded, photo):
    [explanation] = explain_image(loaded, photo, HaarDetector())
    x, y, w, h = explanation.box
    assert abs(w - 220) < 60 and abs(x - 190) < 40 and abs(y - 90) < 40
    assert explanation.title.startswith(f"face at ({x}, {y}), {w}x{h}")
    np.testing.assert_array_equal(explanation.face, face_to_input(photo[y:y + h, x:x + w]))


def test_activations_are_one_map_per_convolution_layer(loaded, face):
    maps = layer_activations(loaded.model, face)
    assert list(maps) == [layer.name for layer in conv_layers(loaded.model)]
    assert maps["stage1_1_conv"].shape == (48, 48) and maps["stage4_2_conv"].shape == (6, 6)


def test_the_command_writes_one_picture(tiny_model_dir, photo, tmp_path, capsys):
    image_path, output = tmp_path / "photo.png", tmp_path / "explained.png"
    cv2.imwrite(str(image_path), photo)
    assert cli.main(["explain", "--model", str(tiny_model_dir), str(image_path), "--output", str(output)]) == 0
    picture = cv2.imread(str(output))
    assert picture is not None and picture.shape[1] > 400 and picture.std() > 10
    assert "face at (" in capsys.readouterr().out
    activations = tmp_path / "activations.png"
    assert cli.main(["explain", "--model", str(tiny_model_dir), str(image_path), "--output", str(activations),
                     "--activations"]) == 0
    assert cv2.imread(str(activations)).shape[1] > picture.shape[1]  # eight layer maps, not one heat map
    assert cli.main(["explain", "--model", str(tiny_model_dir), str(image_path), "--output", str(output),
                     "--detector", "yunet"]) == 0
    assert "face at (" in capsys.readouterr().out


def test_a_large_image_without_a_face_is_explained_whole(loaded):
    blank = np.full((300, 400), 90, np.uint8)
    [explanation] = explain_image(loaded, blank, HaarDetector())
    assert explanation.box == (0, 0, 400, 300)
    np.testing.assert_array_equal(explanation.face, face_to_input(blank))
