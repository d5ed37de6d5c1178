"""A toy world whose image manifold is known exactly: the idea of Figure 2 on a laptop, in seconds.

A cartoon person, drawn by a small procedural renderer (numpy, no weights), whose arms move
continuously from down at the sides to a heart over the chest, on a shirt with or without
the letters "AI", in nuisance colours and positions. Every image is a function of known
factors, so what the real study can only estimate is exact here:

    from f2f_lab import manifold as mf, toy

    sets = toy.make_sets("runs/toy/sets")                   # the three sets, as generate_sets lays them out
    noise = mf.noise_images(25, size=64)
    groups = toy.set_features(sets, noise, "thumbnail")     # or "pixels", or "clip" with weights
    projection = mf.ManifoldProjection().fit(*mf.stack_features(groups))
    path = toy.f2f_path(sets.files("ai")[0])                # the video: the pose rises, the shirt stays
    edit = toy.single_step_edit(sets.files("ai")[0])        # rendered from the target alone: "AI" lost
    fade = toy.crossfade(path.frames[0], path.frames[-1])   # the straight pixel line
    manifold = toy.ExactManifold().fit()
    manifold.distance(path.frames), manifold.distance(fade) # ~0 along the video; not so in the fade

`run_toy_study(out)` does all of it and draws the study's figure; `as_edit_result(path)` feeds
the frame-strip player (`f2f_lab.show`).
"""

from .features import PixelFeatures, clip_available, toy_encoder
from .fit import ExactManifold, FactorFit
from .paths import (
    DESCRIPTIONS,
    as_edit_result,
    crossfade,
    f2f_path,
    frames_factors,
    single_step_edit,
    source_factors,
    video_path,
)
from .sets import SET_FACTORS, factors_of, make_sets, sample_set
from .study import (
    TOY_NOTICE,
    ToyStudyResult,
    figure_labels,
    load_off_manifold,
    off_manifold_markdown,
    off_manifold_summary,
    plot_distances,
    run_toy_study,
    set_features,
    toy_subtitle,
)
from .world import QUANTISATION_RMS, REGIONS, SIZE, ToyFactors, coverage, render, sample_factors

__all__ = [
    "DESCRIPTIONS", "QUANTISATION_RMS", "REGIONS", "SET_FACTORS", "SIZE", "TOY_NOTICE", "ExactManifold", "FactorFit",
    "PixelFeatures", "ToyFactors", "ToyStudyResult", "as_edit_result", "clip_available", "coverage", "crossfade",
    "f2f_path", "factors_of", "figure_labels", "frames_factors", "load_off_manifold", "make_sets", "off_manifold_markdown",
    "off_manifold_summary", "plot_distances", "render", "run_toy_study", "sample_factors", "sample_set", "set_features",
    "single_step_edit", "source_factors", "toy_encoder", "toy_subtitle", "video_path",
]

# The learned toy models (issue 18, second step): a diffusers image-to-video model and an
# SDEdit image model trained on toy videos and images, a CLIP-free selector, and the table.
from .evaluate import evaluate_edits, load_table, source_image, table_markdown
from .registration import TOY_PRESET
from .sdedit import ToySDEdit
from .selection import ToyFactorSelector
from .video_model import ToyVideoGenerator

__all__ += ["TOY_PRESET", "ToyFactorSelector", "ToySDEdit", "ToyVideoGenerator", "evaluate_edits", "load_table", "source_image",
            "table_markdown"]
