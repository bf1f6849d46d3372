"""fer.cli: one convention for every command, reachable as ``python -m fer COMMAND`` and as the scripts."""

import subprocess
import sys

import numpy as np

from fer.cli import COMMANDS, main
from fer.locations import ROOT


def test_every_command_answers_a_mistake_with_one_line_under_its_own_name(tmp_path, capsys):
    missing = str(tmp_path / "no_model")
    assert main(["serve", "--model", missing]) == 2
    assert capsys.readouterr().err.strip() == (f"python -m fer serve: error: model directory {missing} does not "
                                               "exist; train one with train.py or pass --model")
    assert main(["--model", missing], command="serve", prog="main.py") == 2
    assert capsys.readouterr().err.startswith("main.py: error: model directory")


def test_python_m_fer_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "fer", "--help"], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"    {name}" in result.stdout
    assert not result.stderr, "help should come without framework chatter"


def test_export_writes_a_litert_file_that_scores_as_keras_does(tiny_model_dir, tmp_path, capsys):
    from ai_edge_litert.interpreter import Interpreter

    from fer.training.artifacts import load_model

    output = tmp_path / "model.tflite"
    assert main(["export", "--model", str(tiny_model_dir), "--output", str(output)]) == 0
    assert "48 x 48 x 1" in capsys.readouterr().out
    faces = np.random.default_rng(0).integers(0, 256, (1, 48, 48, 1)).astype(np.float32)
    interpreter = Interpreter(model_path=str(output))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], faces)
    interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(scores, load_model(tiny_model_dir).model.predict(faces, verbose=0), atol=1e-5)
