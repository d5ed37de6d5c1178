"""Frame2Frame end to end on the tiny preset: frames, index, files, seeds, errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from f2f_lab import F2FError, Frame2Frame, get_preset
from f2f_lab.results import RUN_FILES
from f2f_lab.stand_ins.tiny_video import tiny_cogvideox_i2v
from f2f_lab.video import CogVideoXGenerator


def test_paper_preset_is_the_papers_numbers():
    paper = get_preset("paper")
    assert paper.video_model == "THUDM/CogVideoX-5b-I2V"
    assert (paper.canvas, paper.num_frames, paper.num_inference_steps) == ((720, 480), 49, 50)
    assert (paper.guidance_scale, paper.fps, paper.num_tiles, paper.output_size) == (6.0, 8, 12, 512)
    assert (paper.captioner, paper.selector, paper.vlm_model) == ("vlm", "vlm", "gpt-4o")


def test_tiny_edit_returns_every_frame_and_a_valid_index(tiny_editor, cat_path):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", seed=0)
    preset = tiny_editor.preset
    assert len(result.frames) == preset.num_frames
    assert all(frame.size == (512, 512) for frame in result.frames)
    assert 0 <= result.index < preset.num_frames
    assert result.image.size == (512, 512)
    assert "cat yawning" in result.caption
    assert set(result.timings) >= {"caption", "video", "selection"}


def test_non_square_source_comes_back_in_its_own_geometry(tiny_editor):
    wide = Image.new("RGB", (300, 200), (90, 120, 30))
    result = tiny_editor.edit(wide, "A green field at night.", seed=0)
    assert result.image.size == (512, 341)
    assert result.source_output.size == (512, 341)


def test_same_seed_same_video_other_seed_other_video(tiny_editor, cat_path):
    first, again, other = tiny_editor.edit_seeds(cat_path, "A photo of a cat yawning.", [3, 3, 4])
    same = [np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first.frames, again.frames)]
    assert all(same)
    assert not np.array_equal(np.asarray(first.frames[-1]), np.asarray(other.frames[-1]))
    assert first.caption == other.caption  # one temporal caption for every seed


def test_save_writes_every_file_and_an_honest_record(tiny_editor, cat_path, tmp_path):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", seed=1)
    out = result.save(tmp_path / "run")
    for name in RUN_FILES:
        assert (out / name).stat().st_size > 0, name
    record = json.loads((out / "record.json").read_text())
    assert record["video"]["seed"] == 1 and record["video"]["num_frames"] == 17
    assert record["selection"]["index"] == result.index
    assert record["caption"]["text"] == result.caption
    assert len(record["inputs"]["image_sha256"]) == 16
    assert record["versions"]["torch"] == torch.__version__
    assert "TINY PRESET" in record["notice"]
    assert "random weights" in (out / "report.html").read_text()
    with Image.open(out / "edited.png") as edited:
        assert np.array_equal(np.asarray(edited), np.asarray(result.image))


def test_save_never_overwrites_without_permission(tiny_editor, cat_path, tmp_path):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", seed=0)
    out = result.save(tmp_path / "run")
    before = (out / "edited.png").read_bytes()
    with pytest.raises(F2FError, match="--overwrite"):
        result.with_index(0).save(out)
    assert (out / "edited.png").read_bytes() == before
    result.with_index(0).save(out, overwrite=True)
    assert (out / "edited.png").read_bytes() != before


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt  # Ctrl-C


def test_an_interrupted_save_leaves_no_run_and_an_interrupted_overwrite_keeps_the_old_one(
        tiny_editor, cat_path, tmp_path, monkeypatch):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", seed=0)
    with monkeypatch.context() as patch:
        patch.setattr("f2f_lab.results.save_video", interrupt)  # midway: source.png and edited.png are written
        with pytest.raises(KeyboardInterrupt):
            result.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []  # no run folder, no temporary folder beside it
    out = result.save(tmp_path / "run")  # so a rerun needs no --overwrite
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with monkeypatch.context() as patch:
        patch.setattr("f2f_lab.results.write_text_atomic", interrupt)  # report.html, the last file
        with pytest.raises(KeyboardInterrupt):
            result.with_index(0).save(out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the earlier run, whole
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    result.with_index(0).save(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    assert (out / "edited.png").read_bytes() != before["edited.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_saving_into_a_folder_that_holds_other_things_keeps_them(tiny_editor, cat_path, tmp_path):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", seed=0)
    folder = tmp_path / "mine"
    (folder / "older").mkdir(parents=True)
    (folder / "notes.txt").write_text("keep me")
    result.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*RUN_FILES, "notes.txt", "older"])
    assert (folder / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_with_index_chooses_another_frame_and_zero_is_the_source(tiny_editor, cat_path):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", seed=0)
    assert result.with_index(4).image is result.frames[4]
    kept = result.with_index(0)
    assert kept.image is result.source_output
    assert kept.record["selection"]["selector"] == "manual"
    assert result.index != 0 and result.record["selection"]["selector"] == "last"  # original untouched
    with pytest.raises(F2FError):
        result.with_index(len(result.frames))


def test_given_caption_skips_the_captioner(tiny_editor, cat_path):
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", caption="The cat slowly yawns.")
    assert result.caption == "The cat slowly yawns."
    assert result.record["caption"]["captioner"] == "given"


@pytest.mark.parametrize("caption", ["", "   \n\t"])
def test_empty_target_caption_is_an_error(tiny_editor, cat_path, caption):
    with pytest.raises(F2FError, match="empty"):
        tiny_editor.edit(cat_path, caption)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(F2FError, match="paper, tiny"):
        Frame2Frame.from_preset("huge")


def test_unsupported_frame_count_is_refused_before_loading():
    # A video model that cannot load (the hub is off in tests): reaching the load would fail with another message.
    with pytest.raises(F2FError, match="8k\\+1"):
        Frame2Frame.from_preset("tiny", captioner="template", selector="last", num_frames=13,
                                video_model="no-such-owner/no-such-video-model", progress=False)


def test_out_of_memory_becomes_advice(tiny_editor, cat_path):
    def run_out_of_memory(pipe, step, timestep, callback_kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    canvas = Image.new("RGB", tiny_editor.generator.canvas)
    with pytest.raises(F2FError, match="--offload"):
        tiny_editor.generator(canvas, "a cat", num_frames=9, num_inference_steps=2, callback_on_step_end=run_out_of_memory)


def test_tiny_pipeline_round_trips_through_from_pretrained():
    folder = tiny_cogvideox_i2v((96, 64))
    assert (folder / "model_index.json").exists()
    assert list((folder / "transformer").glob("*.safetensors"))
    first = CogVideoXGenerator.from_pretrained(str(folder), canvas=(96, 64), progress=False)
    second = CogVideoXGenerator.from_pretrained("tiny", canvas=(96, 64), progress=False)
    assert first.pipe.transformer.config.sample_width == 12
    weights = dict(second.pipe.transformer.named_parameters())
    assert all(torch.equal(p, weights[name]) for name, p in first.pipe.transformer.named_parameters())
    canvas = Image.new("RGB", (96, 64), (200, 100, 50))
    a = first(canvas, "a cat", num_frames=9, num_inference_steps=2, seed=5)
    b = second(canvas, "a cat", num_frames=9, num_inference_steps=2, seed=5)
    assert len(a.frames) == 9 and a.frames[0].size == (96, 64)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.frames, b.frames))


def test_paper_weights_offline_fail_with_a_way_out(tmp_path, monkeypatch):
    # A real hub load with the hub switched off: the user-facing message, not a stack trace.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(F2FError, match="--preset tiny"):
        CogVideoXGenerator.from_pretrained("THUDM/CogVideoX-5b-I2V", progress=False)


def test_hub_load_records_the_snapshot_commit(tmp_path, monkeypatch):
    # A hub id resolved from the local cache, as a real run does: the pipeline's own config keeps
    # the hub id, so the commit has to be read off a component's snapshot path.
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-cog"
    shutil.copytree(tiny_cogvideox_i2v((96, 64)), repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    generator = CogVideoXGenerator.from_pretrained("someone/tiny-cog", device="cpu", progress=False)
    assert generator.revision == commit


# -- the real path's pitfalls, met by the tiny models (issue 17) -------------------------------

def test_tiny_tokenizer_is_a_spiece_model_converted_on_load_as_on_the_hub():
    from transformers import T5Tokenizer

    folder = tiny_cogvideox_i2v((96, 64)) / "tokenizer"
    assert (folder / "spiece.model").is_file() and not (folder / "tokenizer.json").exists()
    tokenizer = T5Tokenizer.from_pretrained(folder)
    ids = tokenizer("A photo of a cat yawning.").input_ids
    assert ids[-1] == tokenizer.eos_token_id and tokenizer.unk_token_id not in ids[:-1]


def test_a_missing_tokenizer_library_is_named_and_not_blamed_on_the_network():
    import subprocess
    import sys

    tiny_cogvideox_i2v((96, 64))  # built here, with protobuf; the child only loads it
    code = ("import sys; sys.modules['google'] = None; sys.modules['google.protobuf'] = None\n"
            "from f2f_lab.errors import F2FError\nfrom f2f_lab.video import CogVideoXGenerator\n"
            "try:\n    CogVideoXGenerator.from_pretrained('tiny', canvas=(96, 64), progress=False)\n"
            "except F2FError as exc:\n    print('F2FError:', exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    message = next(line for line in done.stdout.splitlines() if line.startswith("F2FError:"))
    assert "a library it needs is missing" in message and "protobuf" in message
    assert "network" not in message.replace("not a download problem", "")


def test_frame_counts_off_the_learned_positional_embedding_are_warned_and_recorded(tiny_editor, cat_path):
    config = tiny_editor.generator.pipe.transformer.config
    assert config.use_learned_positional_embeddings and config.sample_frames == tiny_editor.preset.num_frames
    result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", num_inference_steps=1)
    assert result.record["video"]["positional_embedding"] == f"learned ({config.sample_frames} frames)"
    with pytest.warns(UserWarning, match="learned its positional embedding for 17 frames"):
        other = tiny_editor.edit(cat_path, "A photo of a cat yawning.", num_inference_steps=1, num_frames=9)
    assert other.record["video"]["positional_embedding"].startswith("sin-cos substitute")


def test_the_video_call_states_the_papers_guidance_and_edit_passes_the_step_callback(tiny_editor, cat_path):
    pipe, calls, steps = tiny_editor.generator.pipe, [], []

    class Recording:
        def __getattr__(self, name):
            return getattr(pipe, name)

        def __call__(self, **kwargs):
            calls.append(kwargs)
            return pipe(**kwargs)

    def on_step(pipe, step, timestep, callback_kwargs):
        steps.append(step)
        return callback_kwargs

    tiny_editor.generator.pipe = Recording()
    try:
        result = tiny_editor.edit(cat_path, "A photo of a cat yawning.", num_inference_steps=2, callback_on_step_end=on_step)
    finally:
        tiny_editor.generator.pipe = pipe
    (call,) = calls
    assert call["use_dynamic_cfg"] is False and call["guidance_scale"] == tiny_editor.preset.guidance_scale
    assert steps == [0, 1] and result.record["video"]["use_dynamic_cfg"] is False
