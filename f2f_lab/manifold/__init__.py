"""The manifold-pathway study of Sec. 4 (the paper's Figure 2), one small step per function.

    sets = generate_sets("runs/manifold/sets")             # 3 x 200 FLUX.1-dev images, resumable
    noise = noise_images(25)                                # uniform per-pixel noise
    groups = reference_features(sets, noise)                # CLIP ViT-B/32, cached by image hash
    projection = ManifoldProjection().fit(*stack_features(groups))   # PCA to 2-D on sets + noise
    path = f2f_path(sets.files("ai")[0])                    # the paper's edit, every frame kept
    frames = embed(path.frames)
    path_measures(frames, projection, chosen=path.chosen)   # numbers the paper does not give
    plot_manifold(projection, frames, path.frames, chosen=path.chosen, save_to="manifold")

`run_study` does all of it (the `f2f manifold plot` command); `filter_grid` and
`path_explorer` are the notebook's widgets.
"""

from .features import embed
from .measures import PathMeasures, path_measures
from .paths import SingleStepEdit, VideoPath
from .plot import plot_manifold, save_figure
from .projection import ManifoldProjection, stack_features
from .sets import (
    FLUX_MODELS,
    NOISE_LABEL,
    PAPER_PROMPTS,
    ImageSets,
    SetPrompt,
    generate_sets,
    load_sets,
    noise_images,
)
from .study import (
    PAPER_CAPTION,
    PAPER_TARGET,
    StudyResult,
    f2f_path,
    figure_subtitle,
    reference_features,
    run_study,
    single_step_available,
    single_step_edit,
)
from .widgets import filter_grid as _filter_grid
from .widgets import path_explorer as _path_explorer


def filter_grid(sets, **options):
    """Thumbnails with reject toggles and a Save button (ipywidgets); see `widgets.filter_grid`."""
    return _filter_grid(sets, **options)


def path_explorer(projection, path, frames, **options):
    """A slider along the video beside the plot (ipywidgets); see `widgets.path_explorer`."""
    return _path_explorer(projection, path, frames, **options)


__all__ = [
    "FLUX_MODELS", "NOISE_LABEL", "PAPER_CAPTION", "PAPER_PROMPTS", "PAPER_TARGET", "ImageSets", "ManifoldProjection",
    "PathMeasures", "SetPrompt", "SingleStepEdit", "StudyResult", "VideoPath", "embed", "f2f_path", "figure_subtitle", "filter_grid",
    "generate_sets", "load_sets", "noise_images", "path_explorer", "path_measures", "plot_manifold",
    "reference_features", "run_study", "save_figure", "single_step_available", "single_step_edit", "stack_features",
]
