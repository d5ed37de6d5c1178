"""The toy world's renderer: a cartoon person whose image manifold is known exactly.

A scene is fixed by its factors (`ToyFactors`):

    arms        continuous, 0..1   0 = arms down at the sides, 1 = the hands form a heart over the chest
    ai          discrete, bool     the letters "AI" on the shirt, or a plain shirt
    dx          discrete, int      horizontal position, whole pixels from the centre (-2..2)
    background, skin, hair, shirt  continuous, RGB in 0..1: the nuisance colours

Rendering has two steps, and the split is what makes the manifold exact:

1. geometry: `coverage(arms, ai, dx)` paints every shape (discs, boxes, strokes, a
   triangle), back to front, from its signed distance to each pixel's centre: for each
   pixel, the fraction covered by each region (background, skin, hair, shirt, trousers,
   letters, face), anti-aliased analytically over one pixel;
2. colour: the image is `coverage @ palette`, the regions' colours mixed by those
   fractions, rounded to 8 bits.

So the image is a continuous function of `arms` (shapes move smoothly, with no sub-pixel
staircase) and exactly linear in the colours, which lets `ExactManifold` fit the colours in
closed form. The manifold is the set of all renderings: for each `ai` and `dx` a
13-dimensional sheet (arms, plus 3 x 4 nuisance colour channels); its coordinates are the
factors. Letters, trousers and face have fixed colours, so an "AI" shirt cannot be faked by
recolouring. Arms sweep outward and over, so no pose covers the letters.
No weights, no fonts (the letters are strokes), no randomness outside `sample_factors`.
"""

from __future__ import annotations

import colorsys
import functools
import math
from dataclasses import asdict, dataclass, replace

import numpy as np
from PIL import Image

from ..errors import F2FError

SIZE = 64  # default image side in pixels
DX_RANGE = (-2, 2)  # horizontal positions, whole pixels (at any size)

# Region labels of the coverage maps. The first four have nuisance colours (free in a fit);
# the others have fixed colours.
BACKGROUND, SKIN, HAIR, SHIRT, TROUSERS, LETTERS, FACE = range(7)
REGIONS = ("background", "skin", "hair", "shirt", "trousers", "letters", "face")
FREE_REGIONS = (BACKGROUND, SKIN, HAIR, SHIRT)
FIXED_COLOURS = {TROUSERS: (0.20, 0.23, 0.31), LETTERS: (0.98, 0.98, 0.96), FACE: (0.14, 0.12, 0.12)}

# Rendering noise: an 8-bit rendering differs from the continuous one by its rounding, whose
# RMS is 1 / (255 sqrt 12) in 0..1 units. Distances to the manifold are measured against it.
QUANTISATION_RMS = 1.0 / (255.0 * math.sqrt(12.0))


@dataclass(frozen=True)
class ToyFactors:
    """The coordinates of one toy image (see the module docstring); colours are RGB in 0..1."""

    arms: float = 0.0
    ai: bool = True
    dx: int = 0
    background: tuple[float, float, float] = (0.92, 0.92, 0.90)
    skin: tuple[float, float, float] = (0.90, 0.74, 0.62)
    hair: tuple[float, float, float] = (0.25, 0.16, 0.10)
    shirt: tuple[float, float, float] = (0.18, 0.28, 0.55)

    def __post_init__(self):
        if not 0.0 <= float(self.arms) <= 1.0:
            raise F2FError(f"arms={self.arms}: the arm pose runs from 0 (down) to 1 (heart).")
        if not DX_RANGE[0] <= int(self.dx) <= DX_RANGE[1] or int(self.dx) != self.dx:
            raise F2FError(f"dx={self.dx}: the position is a whole number of pixels in {DX_RANGE[0]}..{DX_RANGE[1]}.")
        object.__setattr__(self, "arms", float(self.arms))
        object.__setattr__(self, "ai", bool(self.ai))
        object.__setattr__(self, "dx", int(self.dx))
        for name in ("background", "skin", "hair", "shirt"):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))

    def palette(self) -> np.ndarray:
        """(regions, 3) colours in region-label order."""
        colours = {BACKGROUND: self.background, SKIN: self.skin, HAIR: self.hair, SHIRT: self.shirt, **FIXED_COLOURS}
        return np.array([colours[k] for k in range(len(REGIONS))], dtype=np.float64)

    def replace(self, **changes) -> "ToyFactors":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ToyFactors":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


# -- geometry --------------------------------------------------------------------------------
# Unit coordinates: x to the right, y down, the person centred on x = 0.5 (before dx).

SHOULDER = (0.13, 0.34)  # right shoulder, relative to the centre line (the left one mirrors it)
UPPER_ARM = 0.15
HEART_HAND = (0.038, 0.395)  # where the right hand ends: the heart's right lobe
ARM_WIDTH = 0.05
HAND_RADIUS = 0.036
# Joint angles from straight down, positive outward: (upper arm, forearm) at arms = 0 and 1.
# The forearm sweeps outward and over (8 -> ~248 degrees), so the hands never cover the letters.
DOWN_ANGLES = (12.0, 8.0)
HEART_UPPER = 50.0


@functools.lru_cache(maxsize=1)
def _heart_pose() -> tuple[float, float, float]:
    """Forearm length and the heart pose's angles, from the heart hand position (inverse kinematics)."""
    a = math.radians(HEART_UPPER)
    elbow = (SHOULDER[0] + UPPER_ARM * math.sin(a), SHOULDER[1] + UPPER_ARM * math.cos(a))
    vx, vy = HEART_HAND[0] - elbow[0], HEART_HAND[1] - elbow[1]
    forearm = math.hypot(vx, vy)
    angle = math.degrees(math.atan2(vx, vy)) % 360.0  # 0 = down, 90 = outward, 180 = up
    return forearm, HEART_UPPER, angle


def arm_joints(arms: float) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float], float]:
    """Right arm's shoulder, elbow, hand (relative to the centre line) and forearm angle (degrees) at pose `arms`."""
    forearm, upper_end, fore_end = _heart_pose()
    upper = math.radians(DOWN_ANGLES[0] + arms * (upper_end - DOWN_ANGLES[0]))
    fore_deg = DOWN_ANGLES[1] + arms * (fore_end - DOWN_ANGLES[1])
    fore = math.radians(fore_deg)
    elbow = (SHOULDER[0] + UPPER_ARM * math.sin(upper), SHOULDER[1] + UPPER_ARM * math.cos(upper))
    hand = (elbow[0] + forearm * math.sin(fore), elbow[1] + forearm * math.cos(fore))
    return SHOULDER, elbow, hand, fore_deg


def _fingers(arms: float, hand, fore_deg: float) -> list[tuple[float, float]]:
    """The right hand's finger triangle: grows in over the last 40% of the pose, closing the heart's point."""
    grow = min(1.0, max(0.0, (arms - 0.6) / 0.4))
    grow = grow * grow * (3 - 2 * grow)  # smoothstep: no kink where it starts
    if grow == 0.0:
        return []
    # The heart's lower right half, relative to the right hand at the heart pose, turned with the forearm.
    _, _, heart_deg = _heart_pose()
    turn = math.radians(fore_deg - heart_deg)
    c, s = math.cos(turn), math.sin(turn)
    shape = [(HAND_RADIUS * 0.95, 0.012), (-HEART_HAND[0], 0.0), (-HEART_HAND[0], 0.075)]
    return [(hand[0] + grow * (c * x + s * y), hand[1] + grow * (-s * x + c * y)) for x, y in shape]


class _Painter:
    """Paints shapes, in order, as region coverage: analytic anti-aliasing from signed distances.

    A shape covers a pixel by `clip(0.5 - d, 0, 1)`, d the signed distance in pixels from the
    pixel's centre to the shape's edge (negative inside), and is laid over what is there, so
    coverage stays a continuous function of the shapes' coordinates: moving an arm a little
    changes the image a little, which is what makes the pose a manifold coordinate. Each
    shape is computed only over the pixels of its bounding box.
    """

    def __init__(self, size: int, cover: np.ndarray | None = None):
        self.size = size
        self.centres = (np.arange(size) + 0.5) / size
        if cover is None:
            cover = np.zeros((size, size, len(REGIONS)))
            cover[..., BACKGROUND] = 1.0
        self.cover = cover

    def _window(self, x0, y0, x1, y1):
        """Pixel slices around a unit-coordinate box (x relative to the centre line), and their centres."""
        pad = 1.0 / self.size
        c0, c1 = (np.searchsorted(self.centres, [x0 + 0.5 - pad, x1 + 0.5 + pad]))
        r0, r1 = (np.searchsorted(self.centres, [y0 - pad, y1 + pad]))
        rows, cols = slice(r0, r1), slice(c0, c1)
        return rows, cols, self.centres[cols][None, :] - 0.5, self.centres[rows][:, None]

    def _paint(self, rows, cols, distance, label) -> None:
        alpha = np.clip(0.5 - distance * self.size, 0.0, 1.0)[..., None]
        window = self.cover[rows, cols]
        window *= 1.0 - alpha
        window[..., label] += alpha[..., 0]

    def box(self, x0, y0, x1, y1, label, radius=0.0):
        rows, cols, x, y = self._window(x0, y0, x1, y1)
        cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 - radius, (y1 - y0) / 2 - radius
        qx, qy = np.abs(x - cx) - hx, np.abs(y - cy) - hy
        outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
        self._paint(rows, cols, outside + np.minimum(np.maximum(qx, qy), 0) - radius, label)

    def disc(self, cx, cy, r, label, upper_half=False):
        rows, cols, x, y = self._window(cx - r, cy - r, cx + r, cy + r)
        d = np.hypot(x - cx, y - cy) - r
        self._paint(rows, cols, np.maximum(d, y - cy) if upper_half else d, label)

    @staticmethod
    def _segment(x, y, a, b):
        (ax, ay), (bx, by) = a, b
        vx, vy = bx - ax, by - ay
        t = np.clip(((x - ax) * vx + (y - ay) * vy) / max(vx * vx + vy * vy, 1e-12), 0.0, 1.0)
        return np.hypot(x - ax - t * vx, y - ay - t * vy)

    def stroke(self, points, width, label):  # a polyline with round joints and ends
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        rows, cols, x, y = self._window(min(xs) - width, min(ys) - width, max(xs) + width, max(ys) + width)
        d = np.min([self._segment(x, y, a, b) for a, b in zip(points[:-1], points[1:])], axis=0)
        self._paint(rows, cols, d - width / 2, label)

    def triangle(self, points, label):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        rows, cols, x, y = self._window(min(xs), min(ys), max(xs), max(ys))
        edges = list(zip(points, points[1:] + points[:1]))
        d = np.min([self._segment(x, y, a, b) for a, b in edges], axis=0)
        cross = np.array([(bx - ax) * (y - ay) - (by - ay) * (x - ax) for (ax, ay), (bx, by) in edges])
        inside = np.all(cross >= 0, axis=0) | np.all(cross <= 0, axis=0)
        self._paint(rows, cols, np.where(inside, -d, d), label)


@functools.lru_cache(maxsize=8)
def _body(ai: bool, size: int) -> np.ndarray:
    """Everything but the arms, back to front (unit coordinates relative to the centre line); read-only."""
    painter = _Painter(size)
    # Legs and shoes.
    painter.box(-0.11, 0.64, -0.015, 0.90, TROUSERS)
    painter.box(0.015, 0.64, 0.11, 0.90, TROUSERS)
    painter.box(-0.125, 0.89, -0.005, 0.94, FACE, radius=0.02)
    painter.box(0.005, 0.89, 0.125, 0.94, FACE, radius=0.02)
    # Shirt.
    painter.box(-0.14, 0.31, 0.14, 0.67, SHIRT, radius=0.05)
    if ai:  # the letters "AI" as strokes, on the lower shirt (the heart never covers them)
        stroke = 0.034
        painter.stroke([(-0.095, 0.635), (-0.05, 0.495), (-0.005, 0.635)], stroke, LETTERS)
        painter.stroke([(-0.075, 0.585), (-0.025, 0.585)], stroke * 0.8, LETTERS)
        painter.stroke([(0.06, 0.495), (0.06, 0.635)], stroke, LETTERS)
        painter.stroke([(0.03, 0.495), (0.09, 0.495)], stroke * 0.8, LETTERS)
        painter.stroke([(0.03, 0.635), (0.09, 0.635)], stroke * 0.8, LETTERS)
    # Neck, head, hair, face.
    painter.box(-0.03, 0.26, 0.03, 0.32, SKIN)
    painter.disc(0.0, 0.20, 0.08, SKIN)
    painter.disc(0.0, 0.175, 0.088, HAIR, upper_half=True)
    painter.disc(-0.03, 0.20, 0.012, FACE)
    painter.disc(0.03, 0.20, 0.012, FACE)
    smile = [(0.036 * math.cos(math.radians(a)), 0.2175 + 0.0275 * math.sin(math.radians(a))) for a in range(25, 156, 26)]
    painter.stroke(smile, 0.012, FACE)
    painter.cover.setflags(write=False)
    return painter.cover


def coverage(arms: float, ai: bool, dx: int = 0, size: int = SIZE) -> np.ndarray:
    """(size, size, regions) float64: the fraction of each pixel covered by each region (sums to 1)."""
    painter = _Painter(size, _body(bool(ai), size).copy())
    # Arms (in front of the shirt) and hands, mirrored.
    shoulder, elbow, hand, fore_deg = arm_joints(float(arms))
    fingers = _fingers(float(arms), hand, fore_deg)
    for sign in (-1, 1):
        flip = lambda p: (sign * p[0], p[1])  # noqa: E731
        painter.stroke([flip(shoulder), flip(elbow), flip(hand)], ARM_WIDTH, SKIN)
        painter.disc(*flip(hand), HAND_RADIUS, SKIN)
        if fingers:  # they grow out of the hand, so their first appearance changes nothing
            painter.triangle([flip(p) for p in fingers], SKIN)
    return shift(painter.cover, dx)


def shift(cover: np.ndarray, dx: int) -> np.ndarray:
    """Coverage moved `dx` whole pixels to the right (negative: left); the uncovered columns are background."""
    if dx == 0:
        return cover
    moved = np.zeros_like(cover)
    moved[..., BACKGROUND] = 1.0
    if dx > 0:
        moved[:, dx:] = cover[:, :-dx]
    else:
        moved[:, :dx] = cover[:, -dx:]
    return moved


def colourise(cover: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 image: coverage mixed with the palette, rounded to 8 bits."""
    return np.clip(np.rint(cover @ (np.asarray(palette) * 255.0)), 0, 255).astype(np.uint8)


def render(factors: ToyFactors, size: int = SIZE) -> Image.Image:
    """The image of `factors`: deterministic, `size` x `size` RGB."""
    if size < 16:
        raise F2FError(f"size={size}: the toy world draws at least 16 x 16 pixels.")
    return Image.fromarray(colourise(coverage(factors.arms, factors.ai, factors.dx, size), factors.palette()))


# -- sampling --------------------------------------------------------------------------------
# The nuisance distribution every set shares: light pastel backgrounds, a range of skin and
# hair tones, saturated mid-dark shirts (so white letters show), any position in DX_RANGE.


def _hsv(h, s, v) -> tuple[float, float, float]:
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def _lerp(a, b, u) -> tuple[float, float, float]:
    return tuple(float(x + u * (y - x)) for x, y in zip(a, b))


def sample_nuisances(rng: np.random.Generator) -> dict:
    """Colours and position drawn from the shared nuisance distribution."""
    return {
        "dx": int(rng.integers(DX_RANGE[0], DX_RANGE[1] + 1)),
        "background": _hsv(rng.uniform(), rng.uniform(0.03, 0.10), rng.uniform(0.90, 0.97)),
        "skin": _lerp((0.96, 0.80, 0.68), (0.55, 0.36, 0.25), rng.uniform()),
        "hair": _lerp((0.10, 0.07, 0.05), (0.55, 0.36, 0.16), rng.uniform()),
        "shirt": _hsv(rng.uniform(), rng.uniform(0.55, 0.75), rng.uniform(0.42, 0.55)),
    }


def sample_factors(rng: np.random.Generator, *, arms: tuple[float, float], ai: bool) -> ToyFactors:
    """Factors with `arms` uniform in the given range, the given `ai`, and sampled nuisances."""
    return ToyFactors(arms=float(rng.uniform(*arms)), ai=ai, **sample_nuisances(rng))
