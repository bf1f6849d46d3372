"""fer.cli: one convention for every command, reachable as ``python -m fer COMMAND`` and as the scripts."""

import subprocess
import sys

import pytest

from fer.cli import COMMANDS, build_parser, main
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
    assert "`" not in result.stdout, "help is plain text, not docstring markup"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_is_plain_text(command):
    help_text = build_parser(command, prog=f"python -m fer {command}").format_help()
    assert "--verbose" in help_text
    assert "`" not in help_text and ":func:" not in help_text, "help is plain text, not docstring markup"
