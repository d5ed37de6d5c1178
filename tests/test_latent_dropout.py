"""Temporal latent dropout (IF-Edit Sec. 4.2): fewer transformer tokens, frames mapped back, FLOPs saved."""

import warnings
from contextlib import contextmanager
from dataclasses import replace

import pytest
import torch
from PIL import Image

from f2f_lab import Frame2Frame
from f2f_lab.bench import speed
from f2f_lab.bench.flops import denoiser_flops, describe_flops
from f2f_lab.errors import F2FError
from f2f_lab.presets import get_preset
from f2f_lab.video.latent_dropout import check_latent_dropout, frames_of_latents, kept_latents, valid_strides

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


# ---------------------------------------------------------------------------------------------
# The CogVideoX VAE and the kept latent count (issue 25, finding 3)


def _cogvideox_vae():
    from diffusers import AutoencoderKLCogVideoX

    from f2f_lab.stand_ins.tiny_video import tiny_cogvideox_i2v

    return AutoencoderKLCogVideoX.from_pretrained(tiny_cogvideox_i2v((96, 64)), subfolder="vae")


@pytest.mark.parametrize("num_frames", [49, 17])  # the paper's, the tiny preset's
def test_cogvideox_strides_are_accepted_exactly_when_the_vae_decodes_the_kept_latents_to_their_frames(num_frames):
    latents = (num_frames - 1) // 4 + 1
    vae = _cogvideox_vae()
    decoded = {}
    for stride in range(1, latents + 2):
        kept = kept_latents(latents, stride)
        if len(kept) not in decoded:  # the tiny VAE, as the pipeline decodes the kept latents
            with torch.no_grad():
                decoded[len(kept)] = vae.decode(torch.randn(1, 8, len(kept), 8, 12)).sample.shape[2]
        decodes_right = decoded[len(kept)] == len(frames_of_latents(kept))
        if decodes_right:
            get_preset("paper").with_options(latent_dropout=stride, num_frames=num_frames).check()
            check_latent_dropout("cogvideox", stride, 0.9, num_frames)
        else:
            assert decoded[len(kept)] == 4 * len(kept)  # pairs of latents, no lone first frame
            with pytest.raises(F2FError, match="decodes an even number"):
                get_preset("paper").with_options(latent_dropout=stride, num_frames=num_frames).check()
            with pytest.raises(F2FError, match=f"Strides that keep an odd number at {num_frames} frames: ") as refused:
                check_latent_dropout("cogvideox", stride, 0.9, num_frames)
            assert f"latent_dropout={stride}" in str(refused.value)
    accepted = [k for k in range(1, latents + 2) if decoded[len(kept_latents(latents, k))] == len(frames_of_latents(kept_latents(latents, k)))]
    assert valid_strides("cogvideox", num_frames) == [k for k in accepted if k <= latents]
    if num_frames == 49:  # 13 latents: K = 4, 5 keep 4, K >= 12 keeps 2 (the list)
        assert valid_strides("cogvideox", 49) == [1, 2, 3, 6, 7, 8, 9, 10, 11]
    # Wan's VAE decodes latent 0 alone and every later one to 4 frames, whatever their count.
    assert valid_strides("wan2.1-480p", num_frames) == list(range(1, latents + 1))
    check_latent_dropout("wan2.2-a14b", 4, 0.9, num_frames)


def test_an_even_kept_count_is_refused_before_loading_and_before_generating(cogvideox_editor):
    with pytest.raises(F2FError, match="Strides that keep an odd number at 17 frames: 1, 2, 3"):
        Frame2Frame.from_preset("tiny", latent_dropout=4)
    # A frame count given to edit() is checked before the video is paid for.
    editor = cogvideox_editor
    editor.preset = replace(editor.preset, latent_dropout=3, num_inference_steps=2)
    calls = []
    handle = editor.generator.transformers[0].register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        with pytest.raises(F2FError, match="latent_dropout=3 at 33 frames keeps 4 of 9"):
            editor.edit(Image.new("RGB", (96, 64), (120, 80, 40)), TARGET, seed=0, num_frames=33)
    finally:
        handle.remove()
    assert calls == []


# ---------------------------------------------------------------------------------------------
# CogVideoX's learned positional embedding (issue 25, finding 2, and invariant 3)


class EmbeddingSpy:
    """Every call of the CogVideoX patch embedding: its latent frames, whether diffusers computed a sin-cos
    embedding during it (`get_3d_sincos_pos_embed`), and the positional rows it added to the tokens."""

    def __init__(self, transformer, monkeypatch):
        from diffusers.models import embeddings

        self.embed = transformer.patch_embed
        self.sincos_calls = 0
        self.calls = []
        original = embeddings.get_3d_sincos_pos_embed

        def counted(*args, **kwargs):
            self.sincos_calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(embeddings, "get_3d_sincos_pos_embed", counted)
        self.handles = [self.embed.register_forward_pre_hook(self.before),
                        self.embed.register_forward_hook(self.after)]

    def before(self, module, args):
        self.sincos_before = self.sincos_calls

    def after(self, module, args, output):
        text, image = args
        flags = module.use_positional_embeddings, module.use_learned_positional_embeddings
        module.use_positional_embeddings = module.use_learned_positional_embeddings = False
        try:
            plain = module.forward(text, image)  # the same tokens without a positional embedding
        finally:
            module.use_positional_embeddings, module.use_learned_positional_embeddings = flags
        self.calls.append({"frames": image.shape[1], "sincos": self.sincos_calls > self.sincos_before,
                           "added": (output - plain).detach()})

    def remove(self):
        for handle in self.handles:
            handle.remove()


def _rows(table, latents, text):
    """A joint positional table's text rows and the frame x patch rows of `latents` (one batch row; guidance runs two)."""
    video = table[:, text:].reshape(table.shape[0], -1, 4 * 6, table.shape[-1])  # 64x96 canvas: 4x6 patches a frame
    return torch.cat([table[:, :text], video[:, latents].flatten(1, 2)], dim=1)


@contextmanager
def randomised_learned_table(editor):
    """The tiny model's learned table is its sin-cos initialisation; random rows tell the two apart."""
    embed = editor.generator.transformers[0].patch_embed
    saved = embed.pos_embedding.clone()
    with torch.no_grad():
        embed.pos_embedding.copy_(torch.randn(saved.shape, generator=torch.Generator().manual_seed(0)))
    try:
        yield embed.pos_embedding.clone()
    finally:
        with torch.no_grad():
            embed.pos_embedding.copy_(saved)


# Every option that changes the frame count the tiny CogVideoX-5B transformer sees: each stride latent
# dropout accepts at its 17 frames and those it refuses, other frame counts (with and without dropout),
# refinement's still video (with and without dropout).
OPTIONS = [
    {"latent_dropout": 1}, {"latent_dropout": 2}, {"latent_dropout": 3},
    {"latent_dropout": 4}, {"latent_dropout": 5},
    {"num_frames": 9}, {"num_frames": 25}, {"num_frames": 25, "latent_dropout": 3},
    {"num_frames": 33, "latent_dropout": 2},  # 5 of 9 latents kept: 17 frames, the count the table was learned for
    {"refine": "sharpest"}, {"refine": "sharpest", "latent_dropout": 3}, {"refine": "sharpest", "num_frames": 9},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_a_learned_positional_embedding_is_never_replaced_silently(cogvideox_editor, monkeypatch, options):
    options = dict(options)
    num_frames = options.pop("num_frames", 17)
    stride = options.get("latent_dropout")
    try:
        Frame2Frame.from_preset("tiny", num_frames=num_frames, **options)  # the settings check, before any load
    except F2FError as refused:
        assert stride in (4, 5) and "decodes an even number" in str(refused)
        return
    assert stride not in (4, 5)
    editor = cogvideox_editor
    editor.preset = replace(editor.preset, latent_dropout=stride, refine=options.get("refine"),
                            num_frames=num_frames, num_inference_steps=4)
    transformer = editor.generator.transformers[0]
    config, text = transformer.config, transformer.config.max_text_seq_length
    spy = EmbeddingSpy(transformer, monkeypatch)
    try:
        with randomised_learned_table(editor) as table, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = editor.edit(Image.new("RGB", (96, 64), (120, 80, 40)), TARGET, seed=0)
    finally:
        spy.remove()
    video = result.record["video"]
    warned = any("learned its positional embedding for 17 frames" in str(w.message) for w in caught)
    latents, steps = (num_frames - 1) // 4 + 1, editor.preset.num_inference_steps
    dropped_at = video["latent_dropout"]["dropped_at_call"] if stride else steps
    kept = video["latent_dropout"]["kept_latents"] if stride else list(range(latents))
    # One call a step (CogVideoX batches guidance): the edit's video, then refinement's still video.
    assert len(spy.calls) == steps * (2 if options.get("refine") else 1) and 1 <= dropped_at <= steps
    for i, call in enumerate(spy.calls):
        edit_call = i < steps
        ran = (kept if i >= dropped_at else list(range(latents))) if edit_call else list(range(call["frames"]))
        assert call["frames"] == len(ran)
        if call["sincos"]:  # an embedding the model never learned: only with a warning and a record that says so
            assert edit_call and num_frames != config.sample_frames, (options, i)
            assert warned and video["positional_embedding"].startswith("sin-cos substitute"), (options, i)
            # ... and the dropped calls add the full-length calls' embedding at the kept latents, not a renumbered one
            full = transformer.patch_embed._get_positional_embeddings(64 // 8, 96 // 8, num_frames).float()
            torch.testing.assert_close(call["added"], _rows(full, ran, text).expand_as(call["added"]), rtol=0, atol=1e-5)
        else:  # the learned table's rows of the latents this call ran, and only for the frame count it learned
            assert (num_frames if edit_call else result.record["refine"]["frame"]["num_frames"]) == config.sample_frames, (
                options, i)
            torch.testing.assert_close(call["added"], _rows(table, ran, text).expand_as(call["added"]), rtol=0, atol=1e-5)
    if num_frames == config.sample_frames:
        assert not warned and not any(call["sincos"] for call in spy.calls)
        assert video["positional_embedding"] == "learned (17 frames)"
        if stride:
            assert video["latent_dropout"]["positional_embedding"].startswith("learned (17 frames)")
    elif stride:
        assert video["latent_dropout"]["positional_embedding"].startswith(f"sin-cos for {num_frames} frames")
