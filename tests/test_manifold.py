"""The manifold-pathway study (Sec. 4): sets, features, projection, measures, plot, widgets."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from f2f_lab.errors import F2FError
from f2f_lab.manifold import (
    NOISE_LABEL,
    PAPER_PROMPTS,
    ManifoldProjection,
    SetPrompt,
    embed,
    generate_sets,
    load_sets,
    noise_images,
    path_measures,
    plot_manifold,
    single_step_edit,
    stack_features,
)
from f2f_lab.manifold.plot import path_points

TWO_SETS = (
    SetPrompt("ai", "AI", "a person wearing a shirt", "#2ca02c"),
    SetPrompt("heart", "Heart Hands", "a person making a heart", "#d62728"),
)


def structured_images(kind: str, n: int, size: int = 64, seed: int = 0) -> list[Image.Image]:
    """Smooth pictures (gradients with a shape): the opposite of per-pixel noise."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        x = np.linspace(0, 1, size)[None, :, None]
        y = np.linspace(0, 1, size)[:, None, None]
        tint = rng.uniform(0.3, 1.0, size=3)[None, None, :]
        array = (255 * (0.5 * x + 0.5 * y) * tint).astype(np.uint8).repeat(1, axis=0)
        image = Image.fromarray(np.broadcast_to(array, (size, size, 3)).copy())
        draw = ImageDraw.Draw(image)
        a, b = rng.integers(8, size // 2, size=2)
        box = [a, b, a + size // 3, b + size // 3]
        (draw.ellipse if kind == "circles" else draw.rectangle)(box, fill=tuple(rng.integers(0, 255, 3).tolist()))
        images.append(image)
    return images


class CountingEncoder:
    """The tiny CLIP behind a counter: how many images really went through the model."""

    def __init__(self, inner):
        self.inner, self.name, self.pretrained = inner, "counting-" + inner.name, "test"
        self.images_encoded = 0

    def encode_images(self, images):
        self.images_encoded += len(images)
        return self.inner.encode_images(images)


class PixelStatsEncoder:
    """A transparent stand-in for CLIP: per-cell mean colour and gradient energy on a 4x4 grid.

    Random-weight CLIP carries no meaning, so the separation test uses features that do
    tell smooth pictures from per-pixel noise, and checks what PCA does with them.
    """

    name, pretrained = "pixel-stats", "none"

    def encode_images(self, images):
        rows = []
        for image in images:
            a = np.asarray(image.convert("RGB").resize((64, 64)), dtype=np.float64) / 255.0
            grad = np.abs(np.diff(a, axis=0))[:, :-1] + np.abs(np.diff(a, axis=1))[:-1]
            cells = [a[i:i + 16, j:j + 16].mean(axis=(0, 1)) for i in range(0, 64, 16) for j in range(0, 64, 16)]
            energy = [grad[i:i + 16, j:j + 16].mean() for i in range(0, 63, 16) for j in range(0, 63, 16)]
            v = np.concatenate([np.ravel(cells), energy])
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32)


@pytest.fixture(scope="module")
def tiny_clip():
    from f2f_lab.clip import load_clip

    return load_clip("tiny", None, "cpu")


def test_noise_images_are_seeded_uniform_rgb():
    first, again, other = noise_images(3, size=32, seed=1), noise_images(3, size=32, seed=1), noise_images(3, 32, seed=2)
    assert [im.size for im in first] == [(32, 32)] * 3 and first[0].mode == "RGB"
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, again))
    assert not np.array_equal(np.asarray(first[0]), np.asarray(other[0]))
    pixels = np.concatenate([np.asarray(im).ravel() for im in noise_images(4, 64, seed=0)])
    assert pixels.min() < 5 and pixels.max() > 250 and abs(pixels.mean() - 127.5) < 3  # uniform over 0..255
    with pytest.raises(F2FError):
        noise_images(0)


def test_pca_on_sets_plus_noise_separates_noise_from_structured_images(tmp_path):
    encoder = PixelStatsEncoder()
    groups = {
        "circles": embed(structured_images("circles", 12, seed=1), encoder, cache_dir=tmp_path, progress=False),
        "squares": embed(structured_images("squares", 12, seed=2), encoder, cache_dir=tmp_path, progress=False),
        NOISE_LABEL: embed(noise_images(10, size=64, seed=0), encoder, cache_dir=tmp_path, progress=False),
    }
    projection = ManifoldProjection().fit(*stack_features(groups))
    xy, labels = projection.embedding_, projection.labels_
    noise, structured = xy[labels == NOISE_LABEL], xy[labels != NOISE_LABEL]
    # Every point is nearer its own side's centroid (noise vs structured) in the 2-D plane ...
    c_noise, c_struct = noise.mean(axis=0), structured.mean(axis=0)
    assert np.all(np.linalg.norm(noise - c_noise, axis=1) < np.linalg.norm(noise - c_struct, axis=1))
    assert np.all(np.linalg.norm(structured - c_struct, axis=1) < np.linalg.norm(structured - c_noise, axis=1))
    # ... and the gap between the two groups is wider than the noise cluster itself.
    gap = np.min(np.linalg.norm(structured[:, None] - noise[None], axis=2))
    assert gap > np.max(np.linalg.norm(noise - c_noise, axis=1))


def test_projecting_training_features_reproduces_fitted_coordinates():
    rng = np.random.default_rng(0)
    X, y = stack_features({"a": rng.normal(size=(20, 16)), "b": rng.normal(2.0, 1.0, size=(15, 16))})
    projection = ManifoldProjection().fit(X, y)
    assert projection.embedding_.shape == (35, 2) and projection.classes_ == ["a", "b"]
    np.testing.assert_allclose(projection.transform(X), projection.embedding_, atol=1e-10)
    np.testing.assert_allclose(projection.transform(X[3]), projection.embedding_[3:4], atol=1e-10)
    assert projection.explained_variance_ratio_[0] >= projection.explained_variance_ratio_[1] > 0
    np.testing.assert_allclose(projection.centroids_["b"], X[20:].mean(axis=0), rtol=1e-5)
    with pytest.raises(F2FError):
        projection.transform(rng.normal(size=(2, 8)))  # features of another CLIP
    with pytest.raises(F2FError):
        ManifoldProjection().transform(X)


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.fixture
def three_clusters():
    """Clusters A and B and noise N around three orthogonal directions of a 6-d space."""
    rng = np.random.default_rng(0)
    e = np.eye(6)
    groups = {
        "A": unit(e[0] + 0.05 * rng.normal(size=(30, 6))),
        "B": unit(e[1] + 0.05 * rng.normal(size=(30, 6))),
        NOISE_LABEL: unit(e[2] + 0.05 * rng.normal(size=(10, 6))),
    }
    return ManifoldProjection().fit(*stack_features(groups)), e


def test_path_measures_rank_a_straight_path_above_a_detour_through_noise(three_clusters):
    projection, e = three_clusters
    t = np.linspace(0, 1, 11)[:, None]
    straight = unit((1 - t) * e[0] + t * e[1])  # A to B along the sets
    detour = unit(np.vstack([(1 - t[:6]) * e[0] + t[:6] * 2 * e[2], (1 - t[6:]) * 2 * e[2] + t[6:] * e[1]]))  # via noise
    good = path_measures(straight, projection, edit=e[1], chosen=10)
    bad = path_measures(detour, projection)

    assert good.summary["length / straight line"] < bad.summary["length / straight line"]
    assert good.summary["length / straight line"] == pytest.approx(np.pi / 2 / np.sqrt(2), rel=0.02)  # arc / chord
    assert good.summary["clusters visited"] == "A → B"
    assert NOISE_LABEL in bad.summary["clusters visited"]
    assert good.summary["frames closer to natural images than to noise"] == "11 of 11"
    assert max(f["natural / noise"] for f in good.frames) < 1 < max(f["natural / noise"] for f in bad.frames)
    assert good.frames[0]["closest cluster"] == "A" and good.frames[10]["chosen"] and good.summary["chosen frame's cluster"] == "B"
    # The single-step edit jumps straight to B: one step as long as the path's chord.
    assert good.edit["closest cluster"] == "B"
    assert good.edit["step"] == pytest.approx(np.linalg.norm(straight[-1] - straight[0]), rel=1e-6)
    # The same ordering holds in the 2-D plane of the figure.
    assert (path_measures(straight, projection, space="pca").summary["length / straight line"]
            < path_measures(detour, projection, space="pca").summary["length / straight line"])
    assert "| frame |" in good.to_markdown() and "<table>" in good._repr_html_()


def test_set_generation_resumes_where_it_stopped(tmp_path):
    made = []

    def stop_after_two(path):
        made.append(path)
        if len(made) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_sets(tmp_path, TWO_SETS, n=2, model="tiny", size=32, progress=False, on_image=stop_after_two)
    first = {p: p.stat().st_mtime_ns for p in made}
    assert len(list(tmp_path.glob("*/*.png"))) == 2

    rest = []
    sets = generate_sets(tmp_path, TWO_SETS, n=2, model="tiny", size=32, progress=False, on_image=rest.append)
    assert len(rest) == 2 and not set(rest) & set(made)  # only the missing images were made
    assert all(p.stat().st_mtime_ns == m for p, m in first.items())  # the finished ones were left alone
    assert [len(sets.files(p.key)) for p in TWO_SETS] == [2, 2]
    records = [json.loads(p.with_suffix(".json").read_text()) for p in sets.files("ai") + sets.files("heart")]
    assert [r["seed"] for r in records] == [0, 1, 10000, 10001] and records[0]["prompt"] == TWO_SETS[0].prompt

    again = []
    generate_sets(tmp_path, TWO_SETS, n=2, model="tiny", size=32, progress=False, on_image=again.append)
    assert again == []  # nothing left to do: the model is not even loaded
    with pytest.raises(F2FError, match="resuming would mix"):
        generate_sets(tmp_path, TWO_SETS, n=2, model="tiny", size=48, progress=False)


def test_hand_filter_is_saved_and_used(tmp_path):
    sets = generate_sets(tmp_path, TWO_SETS[:1], n=3, model="tiny", size=32, progress=False)
    names = [p.name for p in sets.files("ai")]
    sets.save_filter({"ai": [names[1]]})
    reopened = load_sets(tmp_path)
    assert [p.name for p in reopened.files("ai")] == [names[0], names[2]]
    assert len(reopened.files("ai", filtered=False)) == 3
    assert json.loads((tmp_path / "kept.json").read_text())["kept"]["ai"] == [names[0], names[2]]
    with pytest.raises(F2FError):
        sets.save_filter({"ai": ["9999.png"]})
    with pytest.raises(F2FError, match="No image sets"):
        load_sets(tmp_path / "nothing")


def test_feature_cache_is_hit_on_the_second_call(tiny_clip, tmp_path):
    counter = CountingEncoder(tiny_clip)
    images = structured_images("circles", 3) + noise_images(2, size=32)
    first = embed(images, counter, cache_dir=tmp_path, progress=False)
    assert counter.images_encoded == 5 and first.shape == (5, 64)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)

    second = embed(images, counter, cache_dir=tmp_path, progress=False)
    assert counter.images_encoded == 5  # nothing re-encoded
    np.testing.assert_array_equal(first, second)

    files = []
    for k, image in enumerate(images[:2]):
        image.save(tmp_path / f"{k}.png")
        files.append(tmp_path / f"{k}.png")
    third = embed(files + noise_images(1, size=32, seed=9), counter, cache_dir=tmp_path, progress=False)
    assert counter.images_encoded == 6  # same pixels from files hit the cache; only the new image is encoded
    np.testing.assert_array_equal(third[:2], first[:2])


def test_plot_draws_every_point_and_writes_png_and_svg(three_clusters, tmp_path):
    projection, e = three_clusters
    t = np.linspace(0, 1, 17)[:, None]
    path = unit((1 - t) * e[0] + t * e[1])
    frames = [Image.new("RGB", (64, 64), (15 * k, 80, 200 - 10 * k)) for k in range(17)]
    fig = plot_manifold(projection, path, frames, edit=e[1], edit_image=frames[-1], chosen=9, save_to=tmp_path / "figure")

    drawn = {c.get_gid(): len(c.get_offsets()) for c in fig.axes[0].collections if c.get_gid()}
    assert drawn == {"set:A": 30, "set:B": 30, f"set:{NOISE_LABEL}": 10, "path": len(path_points(17, 4, chosen=9)), "edit": 1}
    assert path_points(17, 4, chosen=9) == [0, 4, 8, 9, 12, 16]
    assert "variance" in fig.axes[0].get_xlabel()
    png, svg = tmp_path / "figure.png", tmp_path / "figure.svg"
    with Image.open(png) as image:
        assert image.width > 1000 and image.height > 600
    assert svg.read_text().lstrip().startswith("<?xml")
    thumbnails = [a for a in fig.axes[0].artists if type(a).__name__ == "AnnotationBbox"]
    assert len(thumbnails) == 4 + 1 + 1  # 4 spread along the path + the chosen frame + the single-step edit


def test_widgets_filter_and_explore(tmp_path, three_clusters):
    from f2f_lab.manifold.widgets import filter_grid, path_explorer

    sets = generate_sets(tmp_path, TWO_SETS[:1], n=2, model="tiny", size=32, progress=False)
    grid = filter_grid(sets, size=48)
    name = sets.files("ai")[0].name
    grid.toggles["ai"][name].value = True
    grid.save()
    assert [p.name for p in load_sets(tmp_path).files("ai")] == [sets.files("ai", filtered=False)[1].name]

    projection, e = three_clusters
    t = np.linspace(0, 1, 5)[:, None]
    frames = [Image.new("RGB", (32, 32), (50 * k, 0, 0)) for k in range(5)]
    explorer = path_explorer(projection, unit((1 - t) * e[0] + t * e[1]), frames)
    plot, side = explorer.children[0].children
    slider = explorer.children[1].children[1]
    before, frame_before = plot.value, side.children[0].value
    slider.value = 4
    assert plot.value != before and side.children[0].value != frame_before and "frame 4" in side.children[1].value


def test_single_step_point_is_none_for_an_unavailable_method():
    assert single_step_edit(Image.new("RGB", (64, 64)), "tiny", method="no-such-editor") is None


def test_paper_prompts_are_the_papers():
    assert [p.label for p in PAPER_PROMPTS] == ["AI", "AI + Heart Hands", "Heart Hands"]
    assert PAPER_PROMPTS[2].prompt == "Full-body portrait of a happy person making a heart shape with their hands"
    assert PAPER_PROMPTS[1].prompt.startswith(PAPER_PROMPTS[0].prompt + " and making a heart shape")


def test_cli_makes_tiny_sets(tmp_path, capsys):
    from f2f_lab.cli import main

    assert main(["manifold", "sets", "--out", str(tmp_path), "--per-set", "1", "--model", "tiny", "--size", "32"]) == 0
    assert "1 made" in capsys.readouterr().out
    assert main(["manifold", "plot", "--sets", str(tmp_path / "missing"), "--preset", "tiny"]) == 2
    assert "f2f manifold sets" in capsys.readouterr().err


def test_f2f_path_keeps_every_frame_and_is_cached(tiny_editor, tmp_path):
    from f2f_lab.manifold import PAPER_CAPTION, f2f_path

    source = structured_images("circles", 1, size=64)[0]
    path = f2f_path(source, "tiny", cache=tmp_path, editor=tiny_editor)
    assert len(path.frames) == tiny_editor.preset.num_frames and path.caption == PAPER_CAPTION
    assert 0 <= path.chosen < len(path.frames)

    class MustNotRun:
        def edit(self, *args, **kwargs):
            raise AssertionError("the cached video should have been used")

    again = f2f_path(source, "tiny", cache=tmp_path, editor=MustNotRun())
    assert again.chosen == path.chosen and len(again.frames) == len(path.frames)
    assert np.array_equal(np.asarray(again.frames[-1]), np.asarray(path.frames[-1]))


def test_damaged_sets_files_and_bad_numbers_are_user_errors(tmp_path, capsys):
    from f2f_lab.cli import main

    with pytest.raises(F2FError, match="--steps 0"):
        generate_sets(tmp_path / "s", TWO_SETS, n=1, model="tiny", size=32, num_inference_steps=0, progress=False)
    (tmp_path / "sets.json").write_text("{")
    with pytest.raises(F2FError, match="damaged"):
        load_sets(tmp_path)
    with pytest.raises(F2FError, match="damaged"):
        generate_sets(tmp_path, TWO_SETS, n=1, model="tiny", size=32, progress=False)
    (tmp_path / "sets.json").write_text(json.dumps({"prompts": [{"key": "ai", "label": "AI", "prompt": "x", "colour": "#000"}]}))
    (tmp_path / "kept.json").write_text("[")
    with pytest.raises(F2FError, match="hand filter"):
        load_sets(tmp_path).files("ai")
    # an earlier figure is kept unless --overwrite
    out = tmp_path / "plot"
    out.mkdir()
    (out / "measures.json").write_text("{}")
    (tmp_path / "kept.json").unlink()
    assert main(["manifold", "plot", "--sets", str(tmp_path), "--preset", "tiny", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and (out / "measures.json").read_text() == "{}"


def test_cli_features_and_plot_write_their_files(tmp_path, capsys):
    """`f2f manifold features` and `plot` on tiny sets: what they write, and its shape."""
    from f2f_lab.cli import main
    from f2f_lab.presets import TINY_NOTICE, get_preset

    sets, out, noise = tmp_path / "sets", tmp_path / "plot", ["--noise", "3", "--noise-size", "32"]
    assert main(["manifold", "sets", "--out", str(sets), "--per-set", "2", "--model", "tiny", "--size", "32"]) == 0
    capsys.readouterr()

    assert main(["manifold", "features", "--sets", str(sets), "--preset", "tiny", *noise]) == 0
    printed = capsys.readouterr().out
    with np.load(sets / "features.npz") as saved:
        labels = [str(label) for label in saved["labels"]]
        groups = [saved[f"group_{k}"] for k in range(len(labels))]
    assert labels == [p.label for p in PAPER_PROMPTS] + [NOISE_LABEL]
    assert [g.shape[0] for g in groups] == [2, 2, 2, 3]  # 2 images per set, 3 noise images
    width = groups[0].shape[1]
    assert width > 1 and all(g.ndim == 2 and g.shape[1] == width for g in groups)
    assert np.allclose(np.linalg.norm(np.concatenate(groups), axis=1), 1.0, atol=1e-4)  # unit CLIP features
    assert f"{NOISE_LABEL:<18}    3 x {width}" in printed and str(sets / "features.npz") in printed

    assert main(["manifold", "plot", "--sets", str(sets), "--preset", "tiny", *noise, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    written = ["manifold.png", "manifold.svg", "measures.json", "measures.md"]
    assert all(f"wrote {out / name}" in printed for name in written)
    with Image.open(out / "manifold.png") as png:
        assert png.format == "PNG" and min(png.size) > 200
    assert "<svg" in (out / "manifold.svg").read_text(encoding="utf-8")
    measures = json.loads((out / "measures.json").read_text(encoding="utf-8"))
    frames = get_preset("tiny").num_frames
    assert measures["notice"] == TINY_NOTICE and measures["space"] == "features"
    assert measures["source"] == str(load_sets(sets).files(load_sets(sets).prompts[0].key)[0])  # --source-index 0
    assert [row["frame"] for row in measures["frames"]] == list(range(frames)) and measures["summary"]["frames"] == frames
    assert sum(row["chosen"] for row in measures["frames"]) == 1
    assert set(measures["frames"][0]) >= {"closest cluster", "nearest natural image", "natural / noise", "step",
                                          *(f"d({label})" for label in labels)}
    edit = measures["edit"]  # the single-step point (LEDITS++ in the paper, its tiny build here)
    assert edit["frame"] == "single-step edit" and edit["step"] > 0
    markdown = (out / "measures.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"> {TINY_NOTICE}")
    assert len([line for line in markdown.splitlines() if line.startswith("| ")]) == 1 + frames + 1  # header, frames, edit


def test_cli_plot_draws_the_path_of_another_video_model(tmp_path, capsys):
    """`f2f manifold plot --video-model ltx`: the same study, the path walked by LTX-Video's tiny stand-in."""
    from f2f_lab.cli import main
    from f2f_lab.video import get_backend

    sets, out = tmp_path / "sets", tmp_path / "plot-ltx"
    assert main(["manifold", "sets", "--out", str(sets), "--per-set", "2", "--model", "tiny", "--size", "32"]) == 0
    assert main(["manifold", "plot", "--sets", str(sets), "--preset", "tiny", "--noise", "3", "--noise-size", "32",
                 "--single-step", "none", "--video-model", "ltx", "--out", str(out)]) == 0
    capsys.readouterr()
    measures = json.loads((out / "measures.json").read_text(encoding="utf-8"))
    assert measures["summary"]["frames"] == get_backend("ltx").tiny_frames
    assert len(measures["frames"]) == get_backend("ltx").tiny_frames
