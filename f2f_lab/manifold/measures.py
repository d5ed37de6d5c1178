"""Numbers for a path, beyond the paper (which argues from the picture alone).

For every frame: its distance to each cluster's centroid, which cluster is closest, its
distance to the nearest natural (set) image against its distance to the noise cluster's
centroid (below 1: closer to natural images than to noise, i.e. on the manifold), and the
step from the previous frame. For the path: its length against the straight line from
start to end. The same numbers for a single-step edit, whose "step" is its one jump from
the source (frame 0).

Distances are Euclidean, in CLIP space by default (unit vectors, so they order like the
cosine distance) or in the 2-D PCA plane (`space="pca"`) to match what the figure shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..pages import path_measures_html

from ..errors import F2FError
from .projection import ManifoldProjection
from .sets import NOISE_LABEL


@dataclass(repr=False)
class PathMeasures:
    """Per-frame rows, a path summary and the single-step edit's row (None without one)."""

    frames: list[dict[str, Any]]
    summary: dict[str, Any]
    edit: dict[str, Any] | None = None
    space: str = "features"
    columns: list[str] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        """Frame rows, then the edit's row."""
        return self.frames + ([self.edit] if self.edit else [])

    def to_dict(self) -> dict:
        return {"space": self.space, "summary": self.summary, "frames": self.frames, "edit": self.edit}

    def _cells(self, digits: int) -> tuple[list[str], list[list[str]]]:
        rows = []
        for row in self.table():
            cells = []
            for c in self.columns:
                value = row.get(c, "")
                if c == "frame" and row.get("chosen"):
                    value = f"{value} (chosen)"
                cells.append(f"{value:.{digits}f}" if isinstance(value, float) else str(value))
            rows.append(cells)
        return self.columns, rows

    def summary_text(self) -> str:
        return "\n".join(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}" for k, v in self.summary.items())

    def to_markdown(self, digits: int = 3) -> str:
        header, rows = self._cells(digits)
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return self.summary_text() + "\n\n" + "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        header, rows = self._cells(3)
        return path_measures_html(self.space, self.summary, header, rows)


def path_measures(
    path,
    projection: ManifoldProjection,
    *,
    edit=None,
    chosen: int | None = None,
    space: str = "features",
    noise_label: str = NOISE_LABEL,
    edit_name: str = "single-step edit",
) -> PathMeasures:
    """Measure a path of frame features (T, D) against the reference images of a fitted projection.

    Args:
        path: CLIP features of the video's frames in order (frame 0 = the source).
        projection: a fitted ManifoldProjection (its reference sets and noise define the clusters).
        edit: features (D,) of a single-step edit of the same source, or None.
        chosen: the frame Frame2Frame selected, marked in the table.
        space: "features" (CLIP space) or "pca" (the 2-D plane of the figure).
    """
    if not hasattr(projection, "pca_"):
        raise F2FError("Fit the ManifoldProjection before measuring paths.")
    if space == "features":
        points, reference, centroids = np.asarray(path, dtype=np.float64), projection.features_, projection.centroids_
        edit_point = None if edit is None else np.asarray(edit, dtype=np.float64).reshape(-1)
        if points.ndim != 2 or points.shape[1] != reference.shape[1]:
            raise F2FError(f"Path features must be (T, {reference.shape[1]}); got {points.shape}.")
    elif space == "pca":
        points, reference, centroids = projection.transform(path), projection.embedding_, projection.centroids_2d_
        edit_point = None if edit is None else projection.transform(edit)[0]
    else:
        raise F2FError(f"space must be 'features' or 'pca'; got '{space}'.")
    if len(points) < 2:
        raise F2FError("A path needs at least two frames.")
    natural = reference[projection.labels_ != noise_label]
    if len(natural) == 0:
        raise F2FError("The projection was fitted without any natural (non-noise) images.")
    has_noise = noise_label in centroids

    def row(point: np.ndarray) -> dict[str, Any]:
        to_centroid = {label: float(np.linalg.norm(point - c)) for label, c in centroids.items()}
        nearest_natural = float(np.min(np.linalg.norm(natural - point, axis=1)))
        values: dict[str, Any] = {"closest cluster": min(to_centroid, key=to_centroid.get)}
        values.update({f"d({label})": d for label, d in to_centroid.items()})
        values["nearest natural image"] = nearest_natural
        if has_noise:
            values["natural / noise"] = nearest_natural / max(to_centroid[noise_label], 1e-12)
        return values

    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    frames = []
    for t, point in enumerate(points):
        frames.append({"frame": t, **row(point), "step": float(steps[t - 1]) if t else 0.0, "chosen": t == chosen})
    length, straight = float(steps.sum()), float(np.linalg.norm(points[-1] - points[0]))
    visited = [frames[0]["closest cluster"]]
    for f in frames[1:]:
        if f["closest cluster"] != visited[-1]:
            visited.append(f["closest cluster"])
    summary: dict[str, Any] = {
        "frames": len(points),
        "path length": length,
        "straight line (start to end)": straight,
        "length / straight line": length / straight if straight > 0 else float("inf"),
        "largest step": float(steps.max()),
        "clusters visited": " → ".join(visited),
    }
    if has_noise:
        on = sum(f["natural / noise"] < 1.0 for f in frames)
        summary["frames closer to natural images than to noise"] = f"{on} of {len(frames)}"
        summary["largest natural / noise"] = max(f["natural / noise"] for f in frames)
    if chosen is not None:
        summary["chosen frame"] = chosen
        summary["chosen frame's cluster"] = frames[chosen]["closest cluster"]

    edit_row = None
    if edit_point is not None:
        edit_row = {"frame": edit_name, **row(edit_point), "step": float(np.linalg.norm(edit_point - points[0])), "chosen": False}
        summary[f"{edit_name}: jump from source"] = edit_row["step"]
    columns = list(frames[0].keys())
    columns.remove("chosen")
    return PathMeasures(frames=frames, summary=summary, edit=edit_row, space=space, columns=columns)
