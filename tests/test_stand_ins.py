"""The stand-ins package (f2f_lab/stand_ins): importing f2f_lab registers every "tiny" stand-in the
core and the editors ask for, lazily (no torch at import), under keys that agree with the video
backends and the full-size tables."""

import subprocess
import sys

import pytest

from f2f_lab.loading import STAND_INS, model_source


def test_importing_f2f_lab_registers_the_tiny_stand_ins_without_importing_torch():
    code = ("import sys, f2f_lab; from f2f_lab.loading import STAND_INS; "
            "print(sorted(STAND_INS['tiny'])); print('torch' in sys.modules, 'diffusers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "flux" in out[0] and "video:cogvideox" in out[0]
    assert out[1] == "False False"


def test_the_tiny_stand_ins_are_the_video_backends_and_the_editors_models():
    """The video tables' keys are checked in tests/test_registries.py; here, the whole registered set."""
    from f2f_lab.video.backends import BACKENDS

    editors = {"clip", "vlm:qwen2.5-vl", "flux", "stable-diffusion", "flux-kontext", "qwen-image-edit", "chronoedit"}
    assert set(STAND_INS["tiny"]) == {f"video:{key}" for key in BACKENDS} | editors


def test_the_chronoedit_stand_in_holds_its_lora_where_the_editor_looks():
    from pathlib import Path

    from f2f_lab.editors.peers.chronoedit import CHRONOEDIT_DISTILL_LORA

    assert (Path(model_source("tiny", "chronoedit")) / CHRONOEDIT_DISTILL_LORA).is_file()


def test_the_video_stand_in_takes_its_canvas_and_an_unknown_key_is_refused():
    from f2f_lab import F2FError

    folder = model_source("tiny", "video:cogvideox", canvas=(96, 64))
    assert "cogvideox-i2v-96x64" in folder
    assert model_source("THUDM/CogVideoX-5b-I2V", "video:cogvideox") == "THUDM/CogVideoX-5b-I2V"
    with pytest.raises(F2FError, match="no 'tiny' stand-in"):
        model_source("tiny", "video:nope")
