"""IF-Edit's recipe as presets: `ifedit` on Wan 2.2 A14B, `tiny-ifedit` offline; `paper` keeps every option off."""

import json

from f2f_lab.cli import main
from f2f_lab.presets import PRESETS


def test_paper_keeps_every_ifedit_option_off():
    paper = PRESETS["paper"]
    assert (paper.latent_dropout, paper.refine, paper.captioner, paper.selector) == (None, None, "vlm", "vlm")


def test_the_ifedit_preset_is_the_papers_setting_where_it_gives_one():
    ifedit = PRESETS["ifedit"]
    assert (ifedit.video_backend, ifedit.video_model) == ("wan2.2-a14b", "Wan-AI/Wan2.2-I2V-A14B-Diffusers")
    assert (ifedit.num_frames, ifedit.latent_dropout, ifedit.latent_dropout_at) == (33, 3, 0.9)
    assert (ifedit.captioner, ifedit.refine, ifedit.selector) == ("cot", "sharpest", "last")


def test_tiny_ifedit_runs_all_three_options_offline_through_the_cli(cat_path, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["edit", str(cat_path), "A photo of a cat yawning.", "--preset", "tiny-ifedit", "--steps", "3",
                 "--out", str(out)]) == 0, capsys.readouterr().err
    record = json.loads((out / "record.json").read_text())
    caption, video, refine = record["caption"], record["video"], record["refine"]
    # The tiny local VLM answers noise: the CoT captioner retried, fell back, and said so.
    assert caption["vlm"]["backend"] == "local" and caption["fallback"]["reason"] and len(caption["fallback"]["answers"]) == 2
    assert video["backend"] == "wan2.2-a14b" and video["experts"]["low_noise_steps"] >= 1
    assert video["latent_dropout"]["kept_latents"] == [0, 3, 4] and len(video["frame_indices"]) == 9
    assert refine["mode"] == "sharpest" and refine["refined"] and (out / "refined.png").exists() and (out / "chosen.png").exists()
