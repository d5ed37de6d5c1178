"""PCA of CLIP features to two dimensions, fitted as the paper did: on the image sets plus the noise images."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..errors import F2FError


def stack_features(groups: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """({label: (n_i, D)}) -> X of shape (sum n_i, D) and y, the label of each row, in order."""
    arrays = [np.asarray(v, dtype=np.float32).reshape(len(v), -1) for v in groups.values()]
    if not arrays or sum(len(a) for a in arrays) == 0:
        raise F2FError("No features to stack; every group is empty.")
    labels = np.concatenate([np.full(len(a), label, dtype=object) for label, a in zip(groups, arrays)])
    return np.concatenate(arrays), labels


class ManifoldProjection:
    """A 2-D view of CLIP space: scikit-learn PCA fitted on labelled reference features.

    `fit(X, y)` learns the projection from the reference images (the three sets plus the
    noise images, as in Sec. 4) and keeps, for the path measures, their features (`features_`),
    labels (`labels_`, `classes_`), 2-D coordinates (`embedding_`) and per-label centroids in
    both spaces (`centroids_`, `centroids_2d_`). `transform(X)` projects any features, e.g. the
    frames of a video.

    Example:
        X, y = stack_features({"AI": ai, "Heart Hands": heart, "Random noise": noise})
        projection = ManifoldProjection().fit(X, y)
        path_2d = projection.transform(frame_features)
    """

    def __init__(self, n_components: int = 2):
        self.n_components = n_components

    def fit(self, X, y: Sequence[str]) -> "ManifoldProjection":
        from sklearn.decomposition import PCA

        X = _check_features(X)
        y = np.asarray(y, dtype=object)
        if len(y) != len(X):
            raise F2FError(f"{len(X)} feature rows but {len(y)} labels; give one label per row.")
        if len(X) <= self.n_components:
            raise F2FError(f"PCA to {self.n_components} dimensions needs more than {self.n_components} images; got {len(X)}.")
        # The full SVD is exact and deterministic, so fitted coordinates are reproducible.
        self.pca_ = PCA(n_components=self.n_components, svd_solver="full").fit(X)
        self.features_ = X
        self.labels_ = y
        self.classes_ = list(dict.fromkeys(y.tolist()))
        self.embedding_ = self.pca_.transform(X)
        self.centroids_ = {c: X[y == c].mean(axis=0) for c in self.classes_}
        self.centroids_2d_ = {c: self.embedding_[y == c].mean(axis=0) for c in self.classes_}
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_
        return self

    def transform(self, X) -> np.ndarray:
        """(N, n_components) coordinates of features (N, D); a single vector (D,) is one row."""
        if not hasattr(self, "pca_"):
            raise F2FError("This ManifoldProjection is not fitted yet; call fit(X, y) first.")
        X = _check_features(X)
        if X.shape[1] != self.features_.shape[1]:
            raise F2FError(
                f"Features are {X.shape[1]}-d but the projection was fitted on {self.features_.shape[1]}-d ones; "
                "embed them with the same CLIP model."
            )
        return self.pca_.transform(X)

    def fit_transform(self, X, y: Sequence[str]) -> np.ndarray:
        return self.fit(X, y).embedding_

    def axis_label(self, k: int) -> str:
        """'PC 1 (23.4% of variance)'."""
        return f"PC {k + 1} ({self.explained_variance_ratio_[k]:.1%} of variance)"

    def __repr__(self) -> str:
        if not hasattr(self, "pca_"):
            return f"ManifoldProjection(n_components={self.n_components})"
        counts = ", ".join(f"{c}: {int((self.labels_ == c).sum())}" for c in self.classes_)
        variance = " + ".join(f"{v:.1%}" for v in self.explained_variance_ratio_)
        return f"ManifoldProjection(n_components={self.n_components}) fitted on {counts}; explained variance {variance}"


def _check_features(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[0] == 0:
        raise F2FError(f"Expected features of shape (N, D) with N >= 1; got {X.shape}.")
    if not np.isfinite(X).all():
        raise F2FError("The features contain NaN or infinite values.")
    return X
