"""The figure of Sec. 4 (Figure 2 in the paper): clusters, noise, the video's path, the single-step edit.

Every scatter in the figure carries a gid ("set:<label>", "path", "edit", "highlight"), so
tests and other code can find the points that were drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageOps

from ..errors import F2FError
from ..records import atomic_path
from .projection import ManifoldProjection
from .sets import NOISE_COLOUR, NOISE_LABEL, PAPER_PROMPTS

PATH_COLOUR = "#111111"
EDIT_COLOUR = "#ff8c00"
CHOSEN_COLOUR = "#1f77b4"
DEFAULT_COLOURS = {**{p.label: p.colour for p in PAPER_PROMPTS}, NOISE_LABEL: NOISE_COLOUR}


def path_points(num_frames: int, every: int = 4, chosen: int | None = None) -> list[int]:
    """The frames drawn on the path: 0, every, 2*every, ..., the last one, and the chosen one."""
    points = set(range(0, num_frames, max(1, every))) | {num_frames - 1}
    if chosen is not None:
        points.add(chosen)
    return sorted(points)


def _thumbnail(image: Image.Image, size: int) -> np.ndarray:
    return np.asarray(ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS))


def _colour_of(label: str, colours: Mapping[str, str], k: int) -> str:
    if label in colours:
        return colours[label]
    from matplotlib import colormaps

    r, g, b = colormaps["tab10"].colors[(k + 3) % 10]
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def plot_manifold(
    projection: ManifoldProjection,
    path=None,
    frames: Sequence[Image.Image] | None = None,
    *,
    edit=None,
    edit_image: Image.Image | None = None,
    chosen: int | None = None,
    path_every: int = 4,
    thumbnails: int = 4,
    colours: Mapping[str, str] | None = None,
    path_label: str = "Frame2Frame path",
    edit_label: str = "LEDITS++ (single step)",
    title: str = "Editing manifold pathway",
    subtitle: str | None = None,
    highlight: int | None = None,
    noise_label: str = NOISE_LABEL,
    figsize: tuple[float, float] = (12, 8),
    save_to: str | Path | None = None,
    dpi: int = 150,
):
    """Draw the reference clusters, the noise cluster, a video's path with arrows and a single-step edit.

    Args:
        projection: a fitted ManifoldProjection (its reference points are drawn, one colour per label).
        path: CLIP features (T, D) of the video's frames, in order; None for the clusters only.
        frames: the T frames themselves, for thumbnails beside the path.
        edit: CLIP features (D,) of a single-step edit (LEDITS++ in the paper); edit_image its picture.
        chosen: the frame Frame2Frame selected (drawn as a star, with a thumbnail).
        path_every: draw every n-th frame on the path (4 = the frames the selector sees), plus the last.
        thumbnails: how many path frames get a thumbnail (spread from first to last).
        colours: {label: colour}; the paper's green/purple/red and grey for noise by default.
        highlight: a frame to ring (the interactive explorer moves it).
        save_to: a file stem or .png/.svg path; writes both PNG and SVG.

    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib import patheffects

    if not hasattr(projection, "pca_"):
        raise F2FError("Fit the ManifoldProjection before plotting.")
    colours = {**DEFAULT_COLOURS, **(colours or {})}
    outline = [patheffects.withStroke(linewidth=3.5, foreground="white")]

    fig = plt.figure(figsize=figsize, dpi=dpi, layout="constrained")
    # Closed at once: pyplot keeps no reference (no leak over many plots, no second copy shown
    # at the end of a notebook cell); the returned figure still displays and saves.
    plt.close(fig)
    ax = fig.subplots()
    ax.set_facecolor("#fbfbfb")
    ax.grid(True, color="#e6e6e6", linewidth=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    for k, label in enumerate(projection.classes_):
        xy = projection.embedding_[projection.labels_ == label]
        colour = _colour_of(label, colours, k)
        is_noise = label == noise_label
        ax.scatter(xy[:, 0], xy[:, 1], s=26 if is_noise else 22, c=colour, marker="s" if is_noise else "o",
                   alpha=0.55 if is_noise else 0.6, edgecolors="white", linewidths=0.4,
                   label=f"{label} ({len(xy)})", gid=f"set:{label}", zorder=2)

    coords = None
    if path is not None:
        coords = projection.transform(path)
        if frames is not None and len(frames) != len(coords):
            raise F2FError(f"{len(frames)} frames but {len(coords)} path features; give one feature row per frame.")
        if chosen is not None and not 0 <= chosen < len(coords):
            raise F2FError(f"chosen={chosen} is not a frame of this {len(coords)}-frame path.")
        shown = path_points(len(coords), path_every, chosen)
        pts = coords[shown]
        ax.scatter(pts[:, 0], pts[:, 1], s=30, c=PATH_COLOUR, edgecolors="white", linewidths=0.8,
                   label=f"{path_label} (every {path_every}th frame)" if path_every > 1 else path_label,
                   gid="path", zorder=5)
        for a, b in zip(pts[:-1], pts[1:]):
            ax.annotate("", xy=b, xytext=a, zorder=4,
                        arrowprops=dict(arrowstyle="-|>", color=PATH_COLOUR, lw=1.6, mutation_scale=14, shrinkA=4, shrinkB=4))
        if chosen is not None:
            ax.scatter(*coords[chosen], s=260, marker="*", c=CHOSEN_COLOUR, edgecolors="white", linewidths=1.0,
                       label=f"Frame2Frame edit (frame {chosen})", zorder=7)

    edit_xy = None
    if edit is not None:
        edit_xy = projection.transform(edit)[0]
        ax.scatter(*edit_xy, s=150, marker="D", c=EDIT_COLOUR, edgecolors="black", linewidths=1.0,
                   label=edit_label, gid="edit", zorder=7)
        if coords is not None:
            ax.annotate("", xy=edit_xy, xytext=coords[0], zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color=EDIT_COLOUR, lw=1.8, linestyle=(0, (4, 3)),
                                        mutation_scale=14, shrinkA=4, shrinkB=6))

    if highlight is not None and coords is not None:
        ax.scatter(*coords[highlight], s=420, facecolors="none", edgecolors=CHOSEN_COLOUR, linewidths=2.5,
                   gid="highlight", zorder=8)

    ax.set_xlabel(projection.axis_label(0), fontsize=12)
    ax.set_ylabel(projection.axis_label(1), fontsize=12)
    lines = subtitle.count("\n") + 1 if subtitle else 0
    ax.set_title(title, fontsize=17, fontweight="bold", loc="left", pad=8 + 16 * lines)
    if subtitle:  # outside the layout, so a long line never squeezes the axes
        ax.text(0, 1.012, subtitle, transform=ax.transAxes, fontsize=11, color="#444444", va="bottom",
                linespacing=1.3).set_in_layout(False)
    # Outside the plot, so it never hides points or thumbnails.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10.5, frameon=False, markerscale=1.2,
              borderaxespad=0.0)

    labelled = []
    if coords is not None and frames is not None and thumbnails > 0:
        last = len(coords) - 1
        picks = set(np.linspace(0, last, max(2, thumbnails)).round().astype(int).tolist())
        picks |= {chosen} if chosen is not None else set()
        for t in sorted(picks):
            caption = "source" if t == 0 else f"frame {t}" + (" (F2F edit)" if t == chosen else "")
            labelled.append((coords[t], frames[t], CHOSEN_COLOUR if t == chosen else PATH_COLOUR, caption))
    elif coords is not None:
        ax.annotate("source", coords[0], xytext=(-10, -16), textcoords="offset points", ha="right", fontsize=11,
                    fontweight="bold", color=PATH_COLOUR, path_effects=outline, zorder=6)
    if edit_xy is not None and edit_image is not None:
        labelled.append((edit_xy, edit_image, EDIT_COLOUR, "single step"))
    _freeze_limits(ax, margin=0.22 if labelled else 0.08)
    fig.draw_without_rendering()  # runs the layout, so the axes' real size in points is known
    names = _label_clusters(ax, fig, projection, colours, outline)
    _place_thumbnails(ax, fig, labelled, projection, coords, names)

    if save_to is not None:
        save_figure(fig, save_to)
    return fig


THUMB_PIXELS = 150
THUMB_POINTS = 64.0  # drawn size of a thumbnail


def _freeze_limits(ax, margin: float) -> None:
    """Widen the limits to leave room for thumbnails and names, then fix them (placement depends on them)."""
    ax.margins(margin)
    ax.autoscale_view()
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())


def _label_clusters(ax, fig, projection, colours, outline, fontsize: float = 13) -> list:
    """Each cluster's name above its centroid, stacked upwards where names would overlap.

    Returns the names' boxes as (centre, half size) in axes fractions, for the thumbnails to avoid.
    """
    extent = ax.get_window_extent()
    scale = np.array([extent.width, extent.height]) * 72 / fig.dpi  # axes size in points
    inv = ax.transAxes.inverted()
    placed, boxes = [], []
    order = sorted(range(len(projection.classes_)), key=lambda k: projection.centroids_2d_[projection.classes_[k]][1])
    for k in order:
        label = projection.classes_[k]
        centroid = projection.centroids_2d_[label]
        anchor = inv.transform(ax.transData.transform(centroid)) * scale  # points from the axes' corner
        width, height = 0.62 * fontsize * len(label) + 6, fontsize + 6
        lift = 12.0
        for _ in range(12):
            box = (anchor[0] - width / 2, anchor[1] + lift, anchor[0] + width / 2, anchor[1] + lift + height)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
            lift += height
        placed.append(box)
        ax.annotate(label, centroid, xytext=(0, lift), textcoords="offset points", ha="center", va="bottom",
                    fontsize=fontsize, fontweight="bold", color=_colour_of(label, colours, k), path_effects=outline,
                    zorder=6, arrowprops=dict(arrowstyle="-", color="#999999", lw=0.6) if lift > 12 else None)
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]) / scale
        boxes.append((centre, np.array([width, height]) / 2 / scale))
    return boxes


def _place_thumbnails(ax, fig, items, projection, coords, boxes: list) -> None:
    """Put each thumbnail near its point where it covers the fewest points and no other thumbnail or name.

    Works in axes fractions (the limits are already frozen): each thumbnail greedily takes
    the best of a ring of candidate positions around its point.
    """
    if not items:
        return
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()

    def frac(xy):
        xy = np.atleast_2d(xy)
        return np.column_stack([(xy[:, 0] - x0) / (x1 - x0), (xy[:, 1] - y0) / (y1 - y0)])

    extent = ax.get_window_extent()
    width_pts, height_pts = extent.width * 72 / fig.dpi, extent.height * 72 / fig.dpi
    half = np.array([THUMB_POINTS / width_pts, (THUMB_POINTS + 16) / height_pts]) / 2 + 0.015  # + caption
    obstacles = frac(projection.embedding_)
    weights = np.ones(len(obstacles))
    if coords is not None:  # covering the path (points and arrows) costs more than a cluster's edge
        along = np.vstack([a + (b - a) * s for a, b in zip(coords[:-1], coords[1:]) for s in np.linspace(0, 1, 6)])
        obstacles = np.vstack([obstacles, frac(along)])
        weights = np.concatenate([weights, np.full(len(along), 4.0)])
    boxes = list(boxes)
    angles = np.deg2rad(np.arange(0, 360, 22.5))
    for xy, image, colour, caption in items:
        anchor = frac(xy)[0]
        best, best_score = None, np.inf
        for radius in (0.10, 0.14, 0.19, 0.25):
            for a in angles:
                centre = anchor + radius * np.array([np.cos(a) * height_pts / width_pts, np.sin(a)])
                low, high = centre - half, centre + half
                outside = np.clip(half - centre, 0, None).sum() + np.clip(centre + half - 1, 0, None).sum()
                covered = weights[np.all((obstacles > low) & (obstacles < high), axis=1)].sum()
                overlap = sum(np.prod(np.clip(np.minimum(high, c + h) - np.maximum(low, c - h), 0, None)) for c, h in boxes)
                score = 1e4 * outside + 1e5 * overlap + 2.0 * covered + 10 * radius
                if score < best_score:
                    best, best_score = centre, score
        boxes.append((best, half))
        _add_thumbnail(ax, xy, image, best, colour, caption)


def _add_thumbnail(ax, xy, image, centre, colour, caption: str | None = None) -> None:
    from matplotlib import patheffects
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    zoom = THUMB_POINTS / THUMB_PIXELS
    ax.add_artist(AnnotationBbox(
        OffsetImage(_thumbnail(image, THUMB_PIXELS), zoom=zoom), xy, xybox=(centre[0], centre[1]),
        xycoords="data", boxcoords="axes fraction", pad=0.12,
        bboxprops=dict(edgecolor=colour, linewidth=2.0, boxstyle="round,pad=0.1"),
        arrowprops=dict(arrowstyle="-", color=colour, lw=1.1, alpha=0.85, shrinkA=0, shrinkB=3), zorder=9,
    ))
    if caption:
        ax.annotate(caption, (centre[0], centre[1]), xycoords="axes fraction", xytext=(0, -THUMB_POINTS / 2 - 5),
                    textcoords="offset points", ha="center", va="top", fontsize=9.5, color=colour, fontweight="bold",
                    path_effects=[patheffects.withStroke(linewidth=3, foreground="white")], zorder=10)


def save_figure(fig, path: str | Path) -> tuple[Path, Path]:
    """Write `fig` as PNG and SVG next to each other (`path` with or without a suffix), atomically."""
    stem = Path(path)
    if stem.suffix.lower() in (".png", ".svg"):
        stem = stem.with_suffix("")
    written = []
    for suffix in (".png", ".svg"):
        target = stem.with_name(stem.name + suffix)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=suffix[1:], bbox_inches="tight", facecolor="white")
        written.append(target)
    return written[0], written[1]
