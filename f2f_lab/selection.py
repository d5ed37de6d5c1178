"""Step 3 of Frame2Frame: pick the frame where the edit is done (Sec. 3.3).

The paper shows a VLM every fourth frame (12 tiles for 49 frames), numbered 1..12 under
the source image, and asks for the lowest-numbered tile that completes the edit; 0 means
no frame does it and the source is kept. For any length the tiles are 12 evenly spaced
frames ending at the last one (`tile_frames`): every 4th of 49, every 10th of 121.

Selectors take (source, frames, target) and return a `Selection` whose `index` is a
frame of the video, 0 meaning the source itself:
- `VLMSelector`: the paper's way (C.1 instruction, numbered collage), with one retry and a
  fallback selector when the VLM cannot answer;
- `ClipSelector`: no VLM; CLIP scores against the target caption and the source;
- `LastFrameSelector`: the naive baseline of Table S5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from PIL import Image

from .clip import load_clip
from .errors import F2FError
from .imaging import collage
from .paper import C1_INSTRUCTION  # noqa: F401  (the paper's text lives in paper.py)
from .vlm import VLMClient, VLMError, assistant_turn, kept_answer, user_turn


@dataclass
class Selection:
    """The chosen frame: `index` into the video's frames (0 = keep the source)."""

    index: int
    selector: str
    tile: int | None = None  # the number the VLM saw, when tiles were shown
    record: dict[str, Any] = field(default_factory=dict)


def tile_frames(num_frames: int = 49, num_tiles: int = 12) -> list[int]:
    """The frames shown for selection: `num_tiles` evenly spaced frames ending at the last one.

    Tile k (1-based) is frame round(k * (num_frames - 1) / num_tiles); tile 0 is the source
    image. For the paper's 49 frames and 12 tiles that is every 4th frame (4, 8, ..., 48);
    for 81 frames 7, 13, 20, ..., 80; for 121 every 10th. A video with fewer frames than
    tiles shows each of its frames after the first.
    """
    if num_tiles < 1:
        raise ValueError("num_tiles must be at least 1")
    tiles = min(num_tiles, num_frames - 1)
    # Integer rounding half up, so the spacing is the same on every platform.
    return [(2 * k * (num_frames - 1) + tiles) // (2 * tiles) for k in range(1, tiles + 1)]


def tile_of(index: int, tiles: Sequence[int]) -> int | None:
    """The tile number (1..n) of frame `index`, 0 for the source, None when that frame was not shown."""
    if index == 0:
        return 0
    return tiles.index(index) + 1 if index in tiles else None


class LastFrameSelector:
    """The naive baseline of Table S5: the video's last frame is the edit."""

    name = "last"

    def __call__(self, source: Image.Image, frames: Sequence[Image.Image], target: str, *,
                 tiles: Sequence[int] | None = None) -> Selection:
        index = len(frames) - 1
        return Selection(index=index, selector=self.name, tile=tile_of(index, list(tiles or tile_frames(len(frames)))))


def c1_instruction(target: str, num_tiles: int = 12) -> str:
    """The paper's C.1 instruction with CAPTION replaced by `target`.

    The paper always shows 12 tiles; for another count (shorter videos, another `num_tiles`)
    its two mentions of 12 become `num_tiles`, and nothing else changes.
    """
    text = C1_INSTRUCTION.replace("CAPTION", target)
    if num_tiles != 12:
        text = text.replace("collage of 12 edited", f"collage of {num_tiles} edited").replace("from 1 to 12", f"from 1 to {num_tiles}")
    return text


class ChoiceError(ValueError):
    """A VLM answer that names no frame, or one outside 0..n."""


# What may surround the number: spaces, markdown, quotes, brackets.
_OPENING = r"[\s*_`\"'“”‘’\[(]*"
_CLOSING = r"[\s*_`\"'“”‘’\])]*"
_STATEMENT = re.compile(
    r"selected\s+edit\s+is[\s*_`]*[:：=]?" + _OPENING
    + r"(?:(?:image|edit|frame|tile|number|no\.)\s*)?#?\s*(-?\d+)(?!\d)(?!\.\d)",
    re.IGNORECASE,
)
_MAX_DIGITS = 6  # a choice is a tile number: anything longer is read as "outside 0..n", never converted
_BARE_NUMBER = re.compile(_OPENING + r"#?(-?\d+)" + _CLOSING + r"\.?")


def parse_choice(text: str | None, n: int = 12) -> int:
    """The x of "The selected edit is:x" in a VLM's answer, checked to lie in 0..n.

    Decoration is ignored: spaces, markdown (`**The selected edit is:** 5`), quotes,
    "image 5" or "#5", a trailing period, text before or after. When the answer states a
    choice more than once, the last statement wins. An answer that is a number and nothing
    else counts too. Raises ChoiceError when there is no statement or x is outside 0..n.
    """
    text = str(text or "")
    statements = list(_STATEMENT.finditer(text))
    if statements:
        digits = statements[-1].group(1)
    else:
        bare = _BARE_NUMBER.fullmatch(text.strip())
        if bare is None:
            raise ChoiceError(f'no "The selected edit is:x" in the answer {_quote(text)}')
        digits = bare.group(1)
    if len(digits.lstrip("-").lstrip("0")) > _MAX_DIGITS:  # int() of thousands of digits raises; no tile has them
        raise ChoiceError(f"the answer chose a {len(digits.lstrip('-'))}-digit number, outside 0..{n}")
    choice = int(digits)
    if not 0 <= choice <= n:
        raise ChoiceError(f"the answer chose {choice}, outside 0..{n}")
    return choice


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text[: limit * 4].split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _reminder(problem: str, n: int) -> str:
    return (
        f"Your answer could not be used ({problem}). Respond only with: “The selected edit is:x” "
        f"where x is a number from 0 to {n}."
    )


class VLMSelector:
    """Frame selection by a VLM, as in the paper (Sec. 3.3, appendix C.1).

    The frames `tiles` (default `tile_frames`: 12 evenly spaced, every 4th of 49) are tiled
    under the source in one collage (`imaging.collage`, numbers a quarter of a tile high)
    and sent with the C.1 instruction. Tile k is frame `tiles[k - 1]`; 0 keeps the source.

    An answer without a valid choice gets one retry that reminds the VLM of the format. If
    that fails too, or the call itself fails (HTTP error, timeout, no connection), the
    `fallback` selector decides and `record["fallback"]` says which and why.

    Args:
        client: a `VLMClient`; when None one is built from `client_options` (model, api_key,
            base_url, timeout, max_retries, temperature, max_tokens); F2FError right away
            when no key or base URL is configured.
        fallback: "clip" (a `ClipSelector` built from `clip_options`, or the last frame when
            CLIP cannot be loaded), "last", or any selector object.
        clip_options: keyword arguments of `ClipSelector` for the "clip" fallback.
        tile_size: pixels per tile. 256 (numbers 64 px high) gives a 1064x1192 collage for
            12 tiles of a square source; GPT-4o scales its shorter side to 768 px, which
            leaves the numbers about 46 px high, and Qwen2.5-VL takes it as it is.
        columns: tiles per row (4, as in the paper's Figure S11).
        image_format: "JPEG" or "PNG" for the data URL.
    """

    name = "vlm"

    def __init__(
        self,
        client=None,
        *,
        fallback: str | Any = "clip",
        clip_options: dict[str, Any] | None = None,
        tile_size: int = 256,
        columns: int = 4,
        image_format: str = "JPEG",
        **client_options,
    ):
        if isinstance(fallback, str) and fallback not in ("clip", "last"):
            raise F2FError(f"Unknown fallback selector '{fallback}'; use \"clip\" or \"last\".")
        self.client = client if client is not None else VLMClient(**client_options)
        self.fallback = fallback
        self.clip_options = dict(clip_options or {})
        self.tile_size = tile_size
        self.columns = columns
        self.image_format = image_format
        self._fallback_selector = None
        self._fallback_note = None

    def collage(self, source: Image.Image, frames: Sequence[Image.Image], *, tiles: Sequence[int] | None = None) -> Image.Image:
        """The image the VLM sees: the source on top, frame tiles[k-1] numbered k beneath."""
        shown = [frames[i] for i in (tiles or tile_frames(len(frames)))]
        return collage(source, shown, tile_size=self.tile_size, columns=self.columns)

    def __call__(self, source: Image.Image, frames: Sequence[Image.Image], target: str, *,
                 tiles: Sequence[int] | None = None) -> Selection:
        indices = list(tiles or tile_frames(len(frames)))
        n = len(indices)
        record: dict[str, Any] = {"vlm": self.client.describe(), "tiles": indices, "answers": [], "calls": [], "retried": False}
        if n == 0:
            return self._fall_back(source, frames, target, indices, record, f"a {len(frames)}-frame video has no frame after the first to show")
        board = self.collage(source, frames, tiles=indices)
        record["instruction"] = "paper appendix C.1, verbatim" + ("" if n == 12 else f" with 12 -> {n} tiles")
        record["collage_size"] = list(board.size)
        messages = [user_turn(c1_instruction(target, n), [board], image_format=self.image_format)]
        problem = ""
        for attempt in range(2):  # the answer, then one retry with a reminder of the format
            try:
                reply = self.client.chat(messages)
            except VLMError as exc:
                return self._fall_back(source, frames, target, indices, record, f"the VLM call failed: {exc}")
            record["answers"].append(kept_answer(reply.text))
            record["calls"].append(reply.record)
            try:
                tile = parse_choice(reply.text, n)
            except ChoiceError as exc:
                problem = str(exc)
                if attempt == 0:
                    record["retried"] = True
                    messages = messages + [assistant_turn(kept_answer(reply.text)), user_turn(_reminder(problem, n))]
                continue
            record["fallback"] = None
            return Selection(index=0 if tile == 0 else indices[tile - 1], selector=self.name, tile=tile, record=record)
        return self._fall_back(source, frames, target, indices, record, f"no valid answer after one retry: {problem}")

    def fallback_selector(self):
        """The selector that decides when the VLM cannot (built on first use)."""
        if self._fallback_selector is None:
            if self.fallback == "last":
                self._fallback_selector = LastFrameSelector()
            elif self.fallback == "clip":
                try:
                    self._fallback_selector = ClipSelector(**self.clip_options).load()
                except F2FError as exc:  # e.g. no CLIP weights offline: the naive baseline still works
                    self._fallback_note = f"CLIP unavailable ({exc}); used the last frame"
                    self._fallback_selector = LastFrameSelector()
            else:
                self._fallback_selector = self.fallback
        return self._fallback_selector

    def _fall_back(self, source, frames, target, tiles, record, reason: str) -> Selection:
        import warnings

        selector = self.fallback_selector()
        chosen = selector(source, frames, target, tiles=tiles)
        record["fallback"] = {"selector": chosen.selector, "reason": reason, "note": self._fallback_note, **chosen.record}
        warnings.warn(f"VLM frame selection fell back to the '{chosen.selector}' selector: {reason}", stacklevel=3)
        return Selection(index=chosen.index, selector=chosen.selector, tile=chosen.tile, record=record)


def choose_by_clip(
    edit_scores: Sequence[float],
    source_scores: Sequence[float],
    source_edit_score: float,
    *,
    margin: float = 0.01,
    source_floor: float = 0.75,
) -> int:
    """The tile (1..n, or 0 for the source) that `ClipSelector`'s rule picks.

    edit_scores[k-1]: CLIP score of tile k against the target caption; source_scores[k-1]:
    CLIP-I of tile k against the source; source_edit_score: the source's own CLIP score
    against the target caption. Candidates are tiles that beat the source's edit score and
    keep CLIP-I >= source_floor; the earliest candidate within `margin` of the best
    candidate's edit score wins; no candidate -> 0.
    """
    candidates = [
        k for k, (edit, keep) in enumerate(zip(edit_scores, source_scores), 1)
        if edit > source_edit_score and keep >= source_floor
    ]
    if not candidates:
        return 0
    best = max(edit_scores[k - 1] for k in candidates)
    return next(k for k in candidates if edit_scores[k - 1] >= best - margin)


class ClipSelector:
    """Frame selection without a VLM, from CLIP (ViT-B/32 by default) similarities.

    For the tile frames (the ones the VLM would see, `tile_frames` by default), with all
    scores cosine similarities of unit-norm CLIP embeddings:

    - edit score: frame vs the target caption (the paper's CLIP score);
    - source similarity: frame vs the source image (the paper's CLIP-I);
    - a frame is a candidate when its edit score beats the source's own edit score and its
      source similarity is at least `source_floor` (it is still an edit of the source);
    - the earliest candidate whose edit score is within `margin` of the best candidate's
      wins, mirroring C.1's "lowest number" rule; with no candidate the source is kept (0).

    Args:
        model_name, pretrained, device: passed to `f2f_lab.clip.load_clip` ("tiny", None for
            the offline random-weight CLIP).
        margin: how far below the best edit score (in cosine) the earliest frame may stay.
            0.01 is a judgement call: about a sixth of what a finished edit typically adds
            with ViT-B/32, and above the frame-to-frame jitter of a still video.
        source_floor: the least CLIP-I to the source a frame may have. 0.75 keeps frames whose
            camera or content drifted away (the paper's edits average 0.89).
        encoder: an object with `encode_images` and `encode_texts` (unit-norm rows) to use
            instead of loading CLIP.
    """

    name = "clip"

    def __init__(
        self,
        model_name: str = "ViT-B-32",
        pretrained: str | None = "openai",
        device: str | None = None,
        *,
        margin: float = 0.01,
        source_floor: float = 0.75,
        encoder=None,
    ):
        self.model_name = model_name
        self.pretrained = pretrained
        self.device = device
        self.margin = margin
        self.source_floor = source_floor
        self.encoder = encoder

    def load(self) -> "ClipSelector":
        """Load CLIP now (F2FError when it cannot be), instead of at the first call."""
        if self.encoder is None:
            self.encoder = load_clip(self.model_name, self.pretrained, self.device)
        return self

    def scores(self, source: Image.Image, frames: Sequence[Image.Image], target: str, *,
               tiles: Sequence[int] | None = None) -> dict[str, Any]:
        """The tile frames' indices and their edit scores, source similarities, and the source's edit score."""
        self.load()
        indices = list(tiles or tile_frames(len(frames)))
        images = self.encoder.encode_images([source] + [frames[i] for i in indices])
        text = self.encoder.encode_texts([target])[0]
        edit = (images @ text).tolist()
        keep = (images[1:] @ images[0]).tolist()
        return {"tiles": indices, "edit_scores": edit[1:], "source_scores": keep, "source_edit_score": edit[0]}

    def __call__(self, source: Image.Image, frames: Sequence[Image.Image], target: str, *,
                 tiles: Sequence[int] | None = None) -> Selection:
        scores = self.scores(source, frames, target, tiles=tiles)
        tile = choose_by_clip(
            scores["edit_scores"], scores["source_scores"], scores["source_edit_score"],
            margin=self.margin, source_floor=self.source_floor,
        )
        record = {
            "clip": {"model": self.model_name, "pretrained": self.pretrained},
            "rule": "earliest tile within margin of the best edit score, CLIP-I >= source_floor, beating the source",
            "margin": self.margin,
            "source_floor": self.source_floor,
            "tiles": scores["tiles"],
            "edit_scores": [round(x, 5) for x in scores["edit_scores"]],
            "source_scores": [round(x, 5) for x in scores["source_scores"]],
            "source_edit_score": round(scores["source_edit_score"], 5),
        }
        index = 0 if tile == 0 else scores["tiles"][tile - 1]
        return Selection(index=index, selector=self.name, tile=tile, record=record)


def clip_options(preset, device: str | None = None) -> dict[str, Any]:
    """The `ClipSelector` options of a preset (its CLIP model), on `device`."""
    return {"model_name": preset.clip_model, "pretrained": preset.clip_pretrained, "device": device}


def _vlm_selector(*, client=None, clip=None, **options):
    return VLMSelector(client, clip_options=clip, **options)


def _clip_selector(*, client=None, clip=None, **options):
    return ClipSelector(**{**(clip or {}), **options}).load()


def _last_frame_selector(*, client=None, clip=None, **options):
    if options:
        raise F2FError(f"The last-frame selector takes no options; got {', '.join(sorted(options))}.")
    return LastFrameSelector()


# Selectors by name: factory(client=, clip=, **options). Add-ons register theirs
# (`register_selector`; the toy world's exact factor fit registers "toy").
SELECTORS: dict[str, Any] = {"vlm": _vlm_selector, "clip": _clip_selector, "last": _last_frame_selector}


def register_selector(name: str, factory) -> None:
    """Make `make_selector(name, ...)` call `factory(client=..., clip=..., **options)`."""
    SELECTORS[name] = factory


def make_selector(name: str, *, client=None, clip: dict[str, Any] | None = None, **options):
    """Build a selector by name: "vlm" (C.1), "clip" (no VLM), "last", or a registered one.

    client: the VLM client of a "vlm" selector (shared with the captioner); without one,
    `options` may carry the client's settings too (model, base_url, api_key, ...).
    clip: options of `ClipSelector` (model_name, pretrained, device), also used by the VLM
    selector's CLIP fallback. options: the named selector's own (fallback, tile_size, ...
    for "vlm"; margin, source_floor, encoder for "clip").
    A "clip" selector loads CLIP here, so a missing model fails before the video model loads.
    """
    if name not in SELECTORS:
        raise F2FError(f"Unknown selector '{name}'. Choose one of: {', '.join(SELECTORS)}.")
    return SELECTORS[name](client=client, clip=clip, **options)
