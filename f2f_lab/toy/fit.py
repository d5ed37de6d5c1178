"""The exact measure the real study can only estimate: an image's distance to the toy manifold.

`ExactManifold().fit()` renders the geometry of a grid of poses; `distance(images)` then
finds, for each image, the nearest rendering and returns how far it is (RMS over pixels and
channels, in 0..1 units; `QUANTISATION_RMS`, about 0.0011, is the floor that 8-bit rounding
alone leaves). How the nearest rendering is found, and how exact that is:

- colours: for a given geometry the image is linear in the four nuisance colours, so the
  best colours are a linear least-squares solution, exact and in closed form. They are
  left free (any RGB, even outside 0..1), so the manifold measured against is "every pose,
  letters and position in any colours": a superset of what the sets sample.
- `ai` and `dx` (discrete): every value is tried.
- `arms` (continuous): a grid (`arms_grid` poses, 0.05 apart by default), then, for the
  `candidates` best (ai, dx, pose) cells, a bounded Brent search between the neighbouring
  grid poses (to `xatol`). This is a local search: for a rendering it finds the true pose
  (to about 1e-5, distance at or below the rounding floor: about 0.0005 for the sets); for
  any other image it is the distance to a rendering that was found, so an upper bound on
  the true distance, tight unless the nearest rendering lies in a cell the grid ranked
  below the candidates or the distance has two minima within one cell.

Speed: about 0.3 s to fit and 50 ms per image on one CPU core.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from ..errors import F2FError
from ..imaging import load_image
from .world import (
    DX_RANGE,
    FIXED_COLOURS,
    FREE_REGIONS,
    QUANTISATION_RMS,
    REGIONS,
    SIZE,
    ToyFactors,
    coverage,
    render,
    shift,
)

_FIXED = tuple(sorted(FIXED_COLOURS))
_FIXED_PALETTE = np.array([FIXED_COLOURS[k] for k in _FIXED])
_RIDGE = 1e-9  # keeps the colour solve defined when a region covers nothing


@dataclass(frozen=True)
class FactorFit:
    """The rendering nearest to an image: its factors and the image's distance to it (RMS, 0..1)."""

    factors: ToyFactors
    distance: float

    def rendering(self, size: int = SIZE) -> Image.Image:
        return render(self.factors, size)

    @property
    def on_manifold(self) -> bool:
        """Within 3x the 8-bit rounding noise of a rendering."""
        return self.distance <= 3 * QUANTISATION_RMS


class ExactManifold:
    """Fit the toy renderer's factors to images: distance to the manifold, and its coordinates.

    scikit-learn's shape: nothing is computed in `__init__`; `fit()` renders the pose grid
    (state in `bank_*_` attributes; the images it is given, if any, are not used: the
    manifold is known); `transform(images)` gives each image's fitted coordinates as a row
    (`feature_names_out_`), `project` the fits themselves, `distance` the distances.

    Args:
        size: the image side the renderer draws (images of another size are refused).
        arms_grid: poses on the grid, evenly from 0 to 1.
        candidates: grid cells refined by the continuous search.
        xatol: the pose tolerance of that search.
    """

    def __init__(self, size: int = SIZE, arms_grid: int = 21, candidates: int = 3, xatol: float = 1e-4):
        self.size = size
        self.arms_grid = arms_grid
        self.candidates = candidates
        self.xatol = xatol

    def fit(self, X=None, y=None) -> "ExactManifold":
        if self.arms_grid < 2 or self.candidates < 1:
            raise F2FError("ExactManifold needs arms_grid >= 2 and candidates >= 1.")
        self.arms_ = np.linspace(0.0, 1.0, self.arms_grid)
        keys, covers = [], []
        for ai in (True, False):
            for arms in self.arms_:
                base = coverage(arms, ai, 0, self.size)
                for dx in range(DX_RANGE[0], DX_RANGE[1] + 1):
                    keys.append((float(arms), ai, dx))
                    covers.append(shift(base, dx))
        self.bank_keys_ = keys
        self.bank_ = _Geometry(np.stack(covers))
        return self

    # -- what a user calls -----------------------------------------------------------------

    def project(self, images: Sequence) -> list[FactorFit]:
        """The nearest rendering of each image (PIL images, files or arrays)."""
        from threadpoolctl import threadpool_limits

        self._check_fitted()
        pixels = [self._pixels(im) for im in images]
        if not pixels:
            return []
        # The products here are small: one BLAS thread is several times faster than many.
        with threadpool_limits(1, user_api="blas"):
            return [self._refine(x, r) for x, r in zip(pixels, self.bank_.residuals(np.stack(pixels)))]

    def distance(self, images: Sequence) -> np.ndarray:
        """(N,) distance of each image to the manifold: RMS over pixels and channels, 0..1 units."""
        return np.array([f.distance for f in self.project(images)])

    def transform(self, images: Sequence) -> np.ndarray:
        """(N, 15) fitted coordinates: arms, ai, dx and the four nuisance colours (see `feature_names_out_`)."""
        return np.array([_coordinates(f.factors) for f in self.project(images)])

    @property
    def feature_names_out_(self) -> list[str]:
        return ["arms", "ai", "dx"] + [f"{REGIONS[r]}_{c}" for r in FREE_REGIONS for c in "rgb"]

    def __repr__(self) -> str:
        fitted = f", {len(self.bank_keys_)} geometries rendered" if hasattr(self, "bank_") else ""
        return (f"ExactManifold(size={self.size}, arms_grid={self.arms_grid}, candidates={self.candidates}, "
                f"xatol={self.xatol}){fitted}")

    # -- inside ----------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "bank_"):
            raise F2FError("This ExactManifold is not fitted yet; call fit() first (it renders the pose grid).")

    def _pixels(self, image) -> np.ndarray:
        image = load_image(image)
        if image.size != (self.size, self.size):
            raise F2FError(f"A {image.width}x{image.height} image; this ExactManifold fits {self.size}x{self.size} "
                           "toy images (make it with ExactManifold(size=...)).")
        return np.asarray(image, dtype=np.float64).reshape(-1, 3) / 255.0

    def _refine(self, x: np.ndarray, residuals: np.ndarray) -> FactorFit:
        from scipy.optimize import minimize_scalar

        step = 1.0 / (self.arms_grid - 1)
        best = None
        for g in np.argsort(residuals)[: self.candidates]:
            arms, ai, dx = self.bank_keys_[g]
            lo, hi = max(0.0, arms - step), min(1.0, arms + step)

            def loss(a, ai=ai, dx=dx):
                return _Geometry(coverage(a, ai, dx, self.size)[None]).residuals(x[None])[0, 0]

            found = minimize_scalar(loss, bounds=(lo, hi), method="bounded", options={"xatol": self.xatol})
            # The search never returns worse than the grid pose it started from.
            a, r = (found.x, found.fun) if found.fun <= residuals[g] else (arms, residuals[g])
            if best is None or r < best[1]:
                best = ((a, ai, dx), r)
        (arms, ai, dx), residual = best
        colours = _Geometry(coverage(arms, ai, dx, self.size)[None]).colours(x)
        factors = ToyFactors(arms=float(np.clip(arms, 0.0, 1.0)), ai=ai, dx=dx,
                             **{REGIONS[r]: tuple(colours[k]) for k, r in enumerate(FREE_REGIONS)})
        return FactorFit(factors, float(np.sqrt(max(residual, 0.0) / x.size)))


class _Geometry:
    """Coverage maps of some geometries, with what the closed-form colour fit needs precomputed.

    For geometry g, image x (P, 3): x ~ F_g + C_g Q, with F_g the fixed-colour part and C_g
    the coverage of the free regions; the best Q solves (C_g' C_g) Q = C_g' (x - F_g).
    """

    def __init__(self, covers: np.ndarray):
        n, h, w, _ = covers.shape
        flat = covers.reshape(n, h * w, len(REGIONS))
        self.free = np.ascontiguousarray(flat[:, :, list(FREE_REGIONS)])          # (G, P, 4)
        self.fixed = flat[:, :, list(_FIXED)] @ _FIXED_PALETTE                      # (G, P, 3)
        self.gram = np.einsum("gpi,gpj->gij", self.free, self.free) + _RIDGE * np.eye(len(FREE_REGIONS))
        self.free_fixed = np.einsum("gpi,gpc->gic", self.free, self.fixed)         # (G, 4, 3)
        self.fixed_sq = np.einsum("gpc,gpc->g", self.fixed, self.fixed)

    def residuals(self, X: np.ndarray) -> np.ndarray:
        """(N, G) least-squares residual (sum of squares) of N images (N, P, 3) against every geometry."""
        g, p, k = self.free.shape
        n = len(X)
        free_x = (self.free.transpose(0, 2, 1).reshape(g * k, p) @ X.transpose(1, 0, 2).reshape(p, n * 3))
        free_x = free_x.reshape(g, k, n, 3).transpose(2, 0, 1, 3)                  # (N, G, 4, 3)
        fixed_x = self.fixed.reshape(g, p * 3) @ X.reshape(n, p * 3).T              # (G, N)
        b = free_x - self.free_fixed[None]                                          # C'(x - F)
        q = np.linalg.solve(self.gram[None], b)
        residual = (np.einsum("npc,npc->n", X, X)[:, None] - 2 * fixed_x.T + self.fixed_sq[None]
                    - np.einsum("ngkc,ngkc->ng", q, b))
        return np.maximum(residual, 0.0)

    def colours(self, x: np.ndarray) -> np.ndarray:
        """(4, 3) best free colours of one image for the first geometry."""
        b = self.free[0].T @ x - self.free_fixed[0]
        return np.linalg.solve(self.gram[0], b)


def _coordinates(f: ToyFactors) -> list[float]:
    return [f.arms, float(f.ai), float(f.dx), *f.background, *f.skin, *f.hair, *f.shirt]


# How far a source may lie from the toy world for the toy models to edit it (RMS, 0..1). Measured (32 px
# canvases): toy renderings fit at <= 0.0007; the same images after resizing or JPEG at quality 30 at
# <= 0.056, at quality 10 at <= 0.080; the bundled photos at 0.12 (cat), 0.24 (coffee), 0.28 (astronaut),
# uniform noise at 0.30. 0.1 lies between the most damaged toy image and the nearest photo: the toy video
# model, trained on renderings only, then never "edits" a photo into a pose the selector reads off a fit.
TOY_SOURCE_MAX_DISTANCE = 0.1


@functools.cache
def fitted_manifold(size: int = SIZE) -> ExactManifold:
    """The `ExactManifold` of `size` px, fitted once per process (about 0.3 s)."""
    return ExactManifold(size=size).fit()


def check_toy_source(image, size: int = SIZE) -> float:
    """The source's distance to the toy manifold; F2FError when it is no toy-world image (a photo)."""
    distance = fitted_manifold(size).project([image])[0].distance
    if distance > TOY_SOURCE_MAX_DISTANCE:
        raise F2FError(
            f"This image is not a toy-world image (its distance to the toy manifold is {distance:.3f}; toy images "
            f"are below {TOY_SOURCE_MAX_DISTANCE}), so the toy models cannot edit it: use --preset paper (GPU) or "
            "tiny, or a toy image (f2f_lab.toy.render).")
    return distance
