"""Temporal latent dropout (IF-Edit Sec. 4.2): fewer transformer tokens, frames mapped back, FLOPs saved."""

from dataclasses import replace

import pytest
from PIL import Image

from f2f_lab import Frame2Frame
from f2f_lab.bench import speed
from f2f_lab.bench.flops import denoiser_flops, describe_flops
from f2f_lab.errors import F2FError
from f2f_lab.video.latent_dropout import frames_of_latents, kept_latents

TARGET = "A photo of a cat yawning."


def test_kept_latents_are_every_kth_with_the_first_and_the_last():
    assert kept_latents(13, 3) == [0, 3, 6, 9, 12]  # 49 frames: F - 1 = 12 is a multiple of 3
    assert kept_latents(9, 3) == [0, 3, 6, 8]  # 33 frames (IF-Edit's 32 -> 33): the last is kept too
    assert kept_latents(5, 1) == [0, 1, 2, 3, 4]
    with pytest.raises(F2FError):
        kept_latents(5, 0)


def test_kept_latents_map_to_the_frames_they_decode_to():
    # latent 0 is the source frame; latent j >= 1 covers frames 4j-3 .. 4j
    assert frames_of_latents([0, 3, 4]) == [0, 9, 10, 11, 12, 13, 14, 15, 16]
    assert frames_of_latents([0, 1]) == [0, 1, 2, 3, 4]


class TokenCounter:
    """Counts the video tokens entering the first transformer block on every call (inside the transformer)."""

    def __init__(self, transformers):
        self.tokens = []
        self.handles = [t.transformer_blocks[0].register_forward_pre_hook(self, with_kwargs=True) for t in transformers]

    def __call__(self, module, args, kwargs):
        hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        self.tokens.append(hidden.shape[1])

    def remove(self):
        for handle in self.handles:
            handle.remove()


@pytest.fixture(scope="module")
def cogvideox_editor():
    return Frame2Frame.from_preset("tiny", captioner="template", selector="last", progress=False)


def test_dropout_runs_fewer_frames_after_the_threshold_and_maps_the_frames_back(cogvideox_editor):
    editor = cogvideox_editor
    editor.preset = editor.preset.with_options(latent_dropout=3, num_inference_steps=6)
    image = Image.new("RGB", (96, 64), (120, 80, 40))
    counter = TokenCounter(editor.generator.transformers)
    try:
        result = editor.edit(image, TARGET, seed=0)
    finally:
        counter.remove()
    record = result.record["video"]["latent_dropout"]
    latents = (editor.preset.num_frames - 1) // 4 + 1  # 17 frames -> 5 latents
    assert record["kept_latents"] == kept_latents(latents, 3) == [0, 3, 4]
    # Full length until a timestep below 900, the kept ones after; the counter agrees with the record.
    per_frame = (64 // 8 // 2) * (96 // 8 // 2)  # video tokens of one latent frame (VAE 8x, patch 2)
    assert [tokens / per_frame for tokens in counter.tokens] == record["frames_per_call"]
    drop = record["dropped_at_call"]
    assert drop >= 1 and set(record["frames_per_call"][:drop]) == {latents} and set(record["frames_per_call"][drop:]) == {3}
    # Only the kept latents are decoded: 1 + 4 x 2 frames, each the right frame of the full video.
    assert len(result.frames) == 9 and result.record["video"]["frame_indices"] == frames_of_latents([0, 3, 4])
    assert result.record["selection"]["video_frame"] == result.record["video"]["frame_indices"][result.index]
    assert record["dropped_latents"] == [1, 2]


def test_without_dropout_every_call_runs_every_frame(cogvideox_editor):
    editor = cogvideox_editor
    editor.preset = replace(editor.preset, latent_dropout=None, num_inference_steps=3)
    counter = TokenCounter(editor.generator.transformers)
    try:
        result = editor.edit(Image.new("RGB", (96, 64), (120, 80, 40)), TARGET, seed=0)
    finally:
        counter.remove()
    assert set(counter.tokens) == {5 * 24} and len(result.frames) == 17
    assert "latent_dropout" not in result.record["video"]


def test_on_the_two_expert_wan_the_drop_comes_with_the_switch_to_the_low_noise_expert():
    editor = Frame2Frame.from_preset("tiny", video_backend="wan2.2-a14b", captioner="template", selector="last",
                                     progress=False, latent_dropout=3, num_frames=17, num_inference_steps=6)
    result = editor.edit(Image.new("RGB", (64, 64), (60, 120, 30)), TARGET, seed=0)
    video = result.record["video"]
    steps, dropout = video["experts"]["steps"], video["latent_dropout"]
    calls_per_step = len(dropout["frames_per_call"]) // len(steps)  # guidance: two calls a step
    first_low = next(i for i, (_, expert) in enumerate(steps) if expert == "low")
    assert dropout["dropped_at_call"] == first_low * calls_per_step
    assert len(result.frames) == len(video["frame_indices"]) == 9


def test_a_backend_without_a_frame_axis_is_refused_before_loading():
    with pytest.raises(F2FError, match="latent_dropout is implemented for"):
        Frame2Frame.from_preset("tiny", video_backend="ltx", latent_dropout=3)
    with pytest.raises(F2FError, match="K >= 1"):
        Frame2Frame.from_preset("tiny", latent_dropout=0.5)


def test_the_speed_harness_reports_the_flops_dropout_removes():
    report = speed.measure_speed("tiny:latent_dropout=3", num_inference_steps=4, repeat=1, warmup=0, progress=False,
                                 metrics=False)
    flops, saved = report.flops, report.flops["dropout_saved"]
    calls = report.result.record["video"]["latent_dropout"]["frames_per_call"]
    config = dict(_transformer_config())
    per = {n: denoiser_flops(config, num_frames=4 * (n - 1) + 1, height=64, width=96).per_forward for n in set(calls)}
    assert flops["total"] == pytest.approx(sum(per[n] for n in calls) * flops["forwards_per_step"])
    assert saved["total_without_dropout"] == pytest.approx(per[5] * flops["forwards_per_step"] * 4)
    assert 0 < saved["saved"] < saved["total_without_dropout"] and saved["saved_fraction"] > 0
    assert "latent dropout" in describe_flops(flops) and "removed" in describe_flops(flops)


def _transformer_config():
    from diffusers import CogVideoXTransformer3DModel

    from f2f_lab.stand_ins.tiny_video import tiny_cogvideox_i2v

    return CogVideoXTransformer3DModel.load_config(tiny_cogvideox_i2v((96, 64)), subfolder="transformer")
