"""The edit of Sec. 4 and the whole study in one call.

`f2f_path` runs Frame2Frame on a source from the AI set with the paper's target and temporal
caption and keeps every frame; `single_step_edit` runs a single-step editor (LEDITS++ in the
paper) when the library has it. Both are cached in a folder keyed by their inputs, so a
notebook rerun does not regenerate a video. `run_study` chains the steps for the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..editors import METHODS, make_editor
from ..errors import F2FError
from ..imaging import ImageInput, image_hash, load_image, save_image
from ..paper import PAPER_CAPTION, PAPER_TARGET  # noqa: F401  (re-exported)
from ..pipeline import Frame2Frame
from ..presets import TINY_NOTICE, Preset, get_preset
from ..records import write_json_atomic, write_text_atomic
from .features import embed
from .measures import PathMeasures, path_measures
from .paths import SingleStepEdit, VideoPath
from .plot import plot_manifold, save_figure
from .projection import ManifoldProjection, stack_features
from .sets import NOISE_LABEL, ImageSets, noise_images

SINGLE_STEP_METHOD = "ledits"  # LEDITS++, the paper's single-step comparison in Figure 2


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def f2f_path(
    source: ImageInput,
    preset: str | Preset = "paper",
    *,
    target: str = PAPER_TARGET,
    caption: str | None = PAPER_CAPTION,
    seed: int = 0,
    cache: str | Path | None = None,
    editor=None,
    **editor_options,
) -> VideoPath:
    """Frame2Frame's video from `source` toward `target`, every frame kept (cached in `cache`/<key>).

    caption: the temporal caption (the paper's by default); None asks the preset's captioner.
    editor: an existing Frame2Frame to reuse; otherwise one is built from the preset.
    Without OPENAI_API_KEY or OPENAI_BASE_URL the paper preset's VLM frame selector is
    replaced by the CLIP selector (pass selector=... to choose); the record says which ran.
    """
    source = load_image(source)
    preset = get_preset(preset)
    if caption is not None and preset.captioner == "vlm":
        editor_options.setdefault("captioner", "template")  # never asked: the given caption is used
    if preset.selector == "vlm" and not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
        editor_options.setdefault("selector", "clip")  # no VLM configured: CLIP picks the frame (recorded)
    folder = None
    if cache is not None:
        # Options that do not change the frames (progress bars, device placement) stay out of the key.
        options = {k: v for k, v in editor_options.items() if k not in ("progress", "device", "offload")}
        folder = Path(cache) / f"f2f-{_key(image_hash(source), target, caption, seed, preset.to_dict(), options)}"
        if (folder / "path.json").exists():
            return VideoPath.load(folder)
    if editor is None:
        editor = Frame2Frame.from_preset(preset, **editor_options)
    result = editor.edit(source, target, seed=seed, caption=caption)
    path = VideoPath(list(result.frames), result.index, result.caption, target, result.record)
    if folder is not None:
        path.save(folder)
    return path


def single_step_available(method: str = SINGLE_STEP_METHOD) -> bool:
    return method in METHODS


def single_step_edit(
    source: ImageInput,
    preset: str | Preset = "paper",
    *,
    method: str = SINGLE_STEP_METHOD,
    target: str = PAPER_TARGET,
    seed: int = 0,
    cache: str | Path | None = None,
) -> SingleStepEdit | None:
    """The single-step edit of the same source (LEDITS++ in the paper), or None when the method is not available."""
    if not single_step_available(method):
        return None

    source = load_image(source)
    preset_name = preset if isinstance(preset, str) else preset.name
    folder = None
    if cache is not None:
        folder = Path(cache) / f"{method}-{_key(image_hash(source), target, seed, preset_name)}"
        if (folder / "record.json").exists():
            return SingleStepEdit(load_image(folder / "edited.png"), method, json.loads((folder / "record.json").read_text()))
    result = make_editor(method, preset_name).edit(source, target, seed=seed)
    edit = SingleStepEdit(result.image, method, getattr(result, "record", {}))
    if folder is not None:
        save_image(edit.image, folder / "edited.png")
        write_json_atomic(folder / "record.json", edit.record)
    return edit


def reference_features(
    sets: ImageSets,
    noise: list[Image.Image],
    clip="ViT-B-32",
    *,
    pretrained: str | None = "openai",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """{set label: features of its used images, ..., "Random noise": features of the noise images}."""
    groups = {}
    for p in sets.prompts:
        files = sets.files(p.key)
        if not files:
            raise F2FError(f"Set '{p.label}' has no images left (made or kept); make more or reject fewer.")
        groups[p.label] = embed(files, clip, pretrained=pretrained, progress=progress)
    groups[NOISE_LABEL] = embed(noise, clip, pretrained=pretrained, progress=progress)
    return groups


def figure_subtitle(path: VideoPath, tiny: bool = False) -> str:
    """The figure's subtitle: the target, the temporal caption and, for tiny models, a warning."""
    text = f'Target: "{path.target}"\nTemporal caption: "{path.caption}"'
    return text + ("\nTINY RANDOM MODELS: this picture is meaningless" if tiny else "")


@dataclass
class StudyResult:
    projection: ManifoldProjection
    path: VideoPath
    path_features: np.ndarray
    edit: SingleStepEdit | None
    edit_features: np.ndarray | None
    measures: PathMeasures
    figure: Any
    files: list[Path]


def run_study(
    sets: ImageSets,
    preset: str | Preset = "paper",
    *,
    out: str | Path,
    source_index: int = 0,
    seed: int = 0,
    noise: int = 25,
    noise_size: int = 512,
    single_step: str | None = SINGLE_STEP_METHOD,
    progress: bool = True,
) -> StudyResult:
    """The study end to end: features, PCA, the F2F path, the single-step point, measures, figure.

    Writes into `out`: manifold.png, manifold.svg, measures.json, measures.md, and the
    cached video frames and edit under out/cache.
    """
    preset = get_preset(preset)
    out = Path(out)
    clip, pretrained = preset.clip_model, preset.clip_pretrained
    ai = sets.files(sets.prompts[0].key)
    if not 0 <= source_index < len(ai):
        raise F2FError(f"--source-index {source_index}: the '{sets.prompts[0].label}' set has {len(ai)} used images.")
    source = load_image(ai[source_index])

    groups = reference_features(sets, noise_images(noise, noise_size), clip, pretrained=pretrained, progress=progress)
    projection = ManifoldProjection().fit(*stack_features(groups))
    path = f2f_path(source, preset, seed=seed, cache=out / "cache", progress=progress)
    path_features = embed(path.frames, clip, pretrained=pretrained, progress=progress)
    edit = single_step_edit(source, preset, method=single_step, seed=seed, cache=out / "cache") if single_step else None
    edit_features = embed([edit.image], clip, pretrained=pretrained, progress=False)[0] if edit else None

    measures = path_measures(path_features, projection, edit=edit_features, chosen=path.chosen)
    figure = plot_manifold(
        projection, path_features, path.frames, edit=edit_features, edit_image=edit.image if edit else None,
        chosen=path.chosen, colours=sets.colours, subtitle=figure_subtitle(path, preset.is_tiny),
    )
    png, svg = save_figure(figure, out / "manifold")
    notice = {"notice": TINY_NOTICE} if preset.is_tiny else {}
    write_json_atomic(out / "measures.json", {**notice, "source": str(ai[source_index]), **measures.to_dict()})
    write_text_atomic(out / "measures.md", (f"> {TINY_NOTICE}\n\n" if preset.is_tiny else "") + measures.to_markdown() + "\n")
    return StudyResult(projection, path, path_features, edit, edit_features, measures, figure,
                       [png, svg, out / "measures.json", out / "measures.md"])
