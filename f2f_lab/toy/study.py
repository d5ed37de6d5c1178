"""The study of Figure 2 in the toy world, in one call, with the exact measure beside the estimated ones.

    result = run_toy_study("runs/toy")         # seconds on a CPU; no weights, no GPU
    result.figure                              # the toy Figure 2 (also runs/toy/manifold.png, .svg)
    result.measures                            # the study's path measures (PathMeasures), as for the real one
    result.off_manifold                        # exact distance to the manifold of every frame

It is `f2f_lab.manifold.run_study` with the toy world's pieces put in: sets from
`make_sets`, features from `toy_encoder`, the video from `video_path`, the single step from
`single_step_edit`. PCA, path measures and the figure are the study's own, unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image

from ..errors import F2FError
from ..imaging import load_image
from ..manifold.measures import path_measures
from ..manifold.paths import VideoPath
from ..manifold.plot import plot_manifold, save_figure
from ..manifold.projection import ManifoldProjection, stack_features
from ..manifold.sets import NOISE_LABEL, ImageSets, noise_images
from ..manifold.study import StudyResult
from ..records import write_json_atomic, write_text_atomic
from .fit import ExactManifold
from .features import toy_encoder
from .paths import crossfade, f2f_path, single_step_edit
from .sets import make_sets
from .world import QUANTISATION_RMS, SIZE

TOY_NOTICE = ("TOY WORLD: procedural images whose manifold is known exactly; the video is a rendered factor path and "
              "the single step a stand-in, not CogVideoX or LEDITS++.")


def set_features(sets: ImageSets, noise: list[Image.Image], features="thumbnail") -> dict[str, np.ndarray]:
    """{set label: features, ..., "Random noise": features}: `reference_features` for the toy encoders, without a disk cache."""
    encoder = toy_encoder(features)
    groups = {}
    for p in sets.prompts:
        files = sets.files(p.key)
        if not files:
            raise F2FError(f"Set '{p.label}' has no images left (made or kept); make more or reject fewer.")
        groups[p.label] = np.asarray(encoder.encode_images([load_image(f) for f in files]), dtype=np.float32)
    groups[NOISE_LABEL] = np.asarray(encoder.encode_images(noise), dtype=np.float32)
    return groups


def figure_labels(single_step: str = "resample") -> dict[str, str]:
    """The toy figure's title and legend labels, for `manifold.plot_manifold` (no CogVideoX, no LEDITS++ here)."""
    return {"path_label": "Toy video path", "edit_label": f"Single step ({single_step}, stand-in)",
            "title": "Editing manifold pathway: the toy world"}


def toy_subtitle(path: VideoPath, features: str = "thumbnail") -> str:
    return (f'Target: "{path.target}"\nTemporal caption: "{path.caption}"\n'
            f"Toy world, {features} features: the video is a rendered factor path; the single step renders the target alone")


@dataclass
class ToyStudyResult(StudyResult):
    """`StudyResult`, plus the toy world's extras: the sets, the cross-fade and the exact distances."""

    sets: ImageSets
    crossfade: list[Image.Image]
    crossfade_features: np.ndarray
    off_manifold: dict[str, np.ndarray]
    features: str


def run_toy_study(
    out: str | Path,
    *,
    n: int = 200,
    noise: int = 25,
    features: str = "thumbnail",
    source_index: int = 0,
    num_frames: int = 49,
    single_step: str | None = "resample",
    seed: int = 0,
    size: int = SIZE,
    save: bool = True,
) -> ToyStudyResult:
    """The toy Figure 2 end to end: sets, features, PCA, the video path, the single step, measures, figure.

    Args:
        out: folder for the sets (out/sets) and, with `save`, manifold.png, manifold.svg,
            measures.json and measures.md, as `run_study` writes them.
        n: images per set (the paper's 200); noise: random-noise images (25).
        features: "thumbnail" (16 x 16 box-averaged pixels), "pixels", or "clip" (needs the
            weights in the local cache); see `f2f_lab.toy.features`.
        source_index: which image of the AI set is edited.
        num_frames: frames of the video and of the cross-fade (49, as CogVideoX).
        single_step: the stand-in for the single-step editor, "resample" or "crossfade"; None for the path only.
        seed: seeds the sets, the noise and the single step.
    """
    out = Path(out)
    sets = make_sets(out / "sets", n, seed=seed, size=size)
    ai = sets.files(sets.prompts[0].key)
    if not 0 <= source_index < len(ai):
        raise F2FError(f"source_index={source_index}: the '{sets.prompts[0].label}' set has {len(ai)} used images.")
    source = ai[source_index]

    groups = set_features(sets, noise_images(noise, size, seed), features)
    projection = ManifoldProjection().fit(*stack_features(groups))
    encoder = toy_encoder(features)
    path = f2f_path(source, num_frames=num_frames)
    path_features = np.asarray(encoder.encode_images(path.frames), dtype=np.float32)
    edit = single_step_edit(source, method=single_step, seed=seed) if single_step else None
    edit_features = np.asarray(encoder.encode_images([edit.image]), dtype=np.float32)[0] if edit else None
    fade = crossfade(path.frames[0], path.frames[-1], num_frames)
    fade_features = np.asarray(encoder.encode_images(fade), dtype=np.float32)

    manifold = ExactManifold(size=size).fit()
    off_manifold = {"video": manifold.distance(path.frames), "cross-fade": manifold.distance(fade)}
    if edit is not None:
        off_manifold["single step"] = manifold.distance([edit.image])
    measures = path_measures(path_features, projection, edit=edit_features, chosen=path.chosen,
                             edit_name=f"single step ({single_step})")
    figure = plot_manifold(
        projection, path_features, path.frames, edit=edit_features, edit_image=edit.image if edit else None, chosen=path.chosen,
        colours=sets.colours, subtitle=toy_subtitle(path, features), **figure_labels(single_step),
    )
    files = []
    if save:
        files = [*save_figure(figure, out / "manifold"), out / "measures.json", out / "measures.md"]
        summary = off_manifold_summary(off_manifold)
        write_json_atomic(out / "measures.json", {
            "notice": TOY_NOTICE, "world": "toy", "features": features, "source": str(source), **measures.to_dict(),
            "off_manifold": {"summary": summary, **{k: v.tolist() for k, v in off_manifold.items()}},
        })
        write_text_atomic(out / "measures.md", f"> {TOY_NOTICE}\n\n" + off_manifold_markdown(summary) + "\n\n"
                          + measures.to_markdown() + "\n")
    return ToyStudyResult(projection, path, path_features, edit, edit_features, measures, figure, files,
                          sets, fade, fade_features, off_manifold, features)


def off_manifold_summary(off_manifold: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The numbers that matter: the largest distance along each path, and its middle frame's, against the floor."""
    summary = {"8-bit rounding floor (RMS)": QUANTISATION_RMS}
    for name, d in off_manifold.items():
        d = np.asarray(d)
        summary[f"{name}: largest"] = float(d.max())
        if len(d) > 2:
            summary[f"{name}: middle frame"] = float(d[len(d) // 2])
    return summary


def off_manifold_markdown(summary: Mapping[str, float]) -> str:
    lines = ["Exact distance to the toy manifold (RMS over pixels and channels, 0..1):", "",
             "| | distance | x the rounding floor |", "|---|---|---|"]
    lines += [f"| {k} | {v:.4f} | {v / QUANTISATION_RMS:.1f} |" for k, v in summary.items()]
    return "\n".join(lines)


def plot_distances(off_manifold: Mapping[str, np.ndarray], *, title: str = "How far from the manifold, along each path"):
    """Exact off-manifold distance against progress along each path (0 = source, 1 = end), with the rounding floor."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8, 4), dpi=120, layout="constrained")
    plt.close(fig)  # as plot_manifold does: pyplot keeps no reference; the figure still displays
    ax = fig.subplots()
    styles = {"video": dict(color="#111111", marker="o"), "cross-fade": dict(color="#d62728", marker="s")}
    for name, d in off_manifold.items():
        d = np.asarray(d)
        if len(d) < 2:
            continue
        ax.plot(np.linspace(0, 1, len(d)), d, label=name, markersize=3.5, lw=1.6, **styles.get(name, {}))
    ax.axhline(QUANTISATION_RMS, color="#999999", lw=1, ls="--", label="8-bit rounding floor")
    ax.set_xlabel("progress along the path (0 = source, 1 = end)")
    ax.set_ylabel("distance to the nearest rendering\n(RMS over pixels, 0..1)")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylim(bottom=0)
    ax.grid(True, color="#e6e6e6")
    ax.legend(frameon=False)
    return fig


def load_off_manifold(out: str | Path) -> dict[str, np.ndarray]:
    """The exact distances a `run_toy_study` saved in `out`/measures.json."""
    data = json.loads((Path(out) / "measures.json").read_text())["off_manifold"]
    return {k: np.asarray(v) for k, v in data.items() if k != "summary"}
