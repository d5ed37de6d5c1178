"""The paper's metrics (Sec. 5.1-5.3): LPIPS, CLIP-I and CLIP score.

- LPIPS (Zhang et al. 2018; the `lpips` package, AlexNet trunk, v0.1): perceptual distance,
  lower = closer. Both images are resized to 512x512 (the paper's evaluation size; both
  benchmarks are square) and scaled to [-1, 1], as the package expects.
- CLIP-I: cosine similarity of the two images' CLIP embeddings, higher = closer.
- CLIP score: edit accuracy, from the cosine `cos` of the edit's CLIP embedding and the target
  caption's. By default the CLIPScore convention (Hessel et al. 2021):
  `clip_score = w * max(cos, 0)` with w = 2.5 (`clip_score="clipscore"`, `clip_score_scale=2.5`).

Against the source these measure preservation ("source LPIPS", "source CLIP-I"); against a
ground-truth target (PosEdit) they measure accuracy ("target LPIPS", "target CLIP-I").

Which CLIP gave the paper's numbers is not stated. Sec. 4 uses ViT-B/32, so that is the
default (`ViT-B-32` with `openai` weights through open_clip). Nor does the paper say how its
CLIP score is scaled, but its figures (0.56-0.64 in Tables 1 and 2) do not fit the raw
ViT-B/32 cosine of an image and a matching caption (about 0.25-0.3) and do fit CLIPScore's
2.5 x max(cos, 0). So the CLIP score is CLIPScore by default, the clamp included, and tables
label the column with the formula ("Target CLIP (2.5·max(cos,0)) ↑") so the convention is
never implicit. The alternatives:
    clip_score="clipscore", clip_score_scale=w   w * max(cos, 0) (default w = 2.5)
    clip_score="cosine"                          the raw cosine, no scale, no clamp

Every record stores the raw cosine too (`clip_score_cosine`), so a table can be rescaled
later without rerunning, and `Scorer.config()` (in run.json and every record) names the
convention that ran: "clip_score": "clipscore_w2.5" or "raw_cosine".

In tiny mode the same classes run with random weights and no download: CLIP is
`load_clip("tiny")`, LPIPS has a random AlexNet trunk (`pnet_rand=True`, seeded so that every
process gets the same one) and the package's shipped linear layers. Tiny numbers are noise.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from PIL import Image

from .clip import load_clip
from .errors import F2FError
from .imaging import ImageInput, load_image
from .loading import default_device
from .presets import Preset, get_preset

EVAL_SIZE = 512  # the paper's evaluation resolution (Sec. 5.1)
METRIC_NAMES = ("source_lpips", "source_clip_i", "clip_score", "target_lpips", "target_clip_i")
CLIP_SCORE_CONVENTIONS = ("clipscore", "cosine")  # w * max(cos, 0) (the default), or the raw cosine
CLIPSCORE_WEIGHT = 2.5  # CLIPScore's w (Hessel et al. 2021)


def clip_score_formula(config: dict | None = None) -> str:
    """The CLIP score's formula as a table labels it: "2.5·max(cos,0)", or "cos" for the raw cosine.

    `config` is a `Scorer.config()` (default: the default scorer's). Runs written before the
    convention was recorded scored `clip_score_scale x cos`, without a clamp.
    """
    config = config or {"clip_score": f"clipscore_w{CLIPSCORE_WEIGHT:g}", "clip_score_scale": CLIPSCORE_WEIGHT}
    name, scale = config.get("clip_score"), float(config.get("clip_score_scale") or 1.0)
    if name == "raw_cosine":
        return "cos"
    if name is None:  # an older run: scale x cosine, no clamp
        return "cos" if scale == 1.0 else f"{scale:g}·cos"
    return f"{scale:g}·max(cos,0)"


def clip_score_header(config: dict | None = None) -> str:
    """The CLIP-score column of a table: "Target CLIP (2.5·max(cos,0)) ↑" for the default scorer."""
    return f"Target CLIP ({clip_score_formula(config)}) ↑"


def _as_list(images) -> tuple[list[Image.Image], bool]:
    """Images as a list of RGB PIL images, and whether one image (not a list) was given."""
    if isinstance(images, (list, tuple)):
        return [load_image(im) for im in images], False
    return [load_image(images)], True


class Scorer:
    """LPIPS, CLIP-I and CLIP score, batched, on the GPU when there is one; models load once.

    Args:
        clip_model, clip_pretrained: open_clip model name and weights tag (paper: ViT-B-32,
            openai; see the module docstring), or "tiny" / None for the random offline CLIP.
        clip_score: "clipscore" (default): clip_score = clip_score_scale * max(cos, 0), the
            CLIPScore convention; "cosine": the raw image-text cosine (see the module docstring).
        clip_score_scale: CLIPScore's w (default 2.5); "cosine" takes none (or 1.0).
        lpips_backbone: "imagenet" (AlexNet ImageNet weights, as published; torchvision
            downloads them once) or "random" (tiny mode; no download).
        size: both images are resized to size x size before LPIPS (paper: 512).
        device: torch device; default cuda when available.
        batch_size: images per forward pass.

    Example:
        >>> scorer = Scorer.from_preset("paper")
        >>> sorted(scorer.score(source, edited, "A photo of a cat yawning."))
        ['clip_score', 'clip_score_cosine', 'source_clip_i', 'source_lpips']
    """

    def __init__(
        self,
        clip_model: str = "ViT-B-32",
        clip_pretrained: str | None = "openai",
        *,
        clip_score: str = "clipscore",
        clip_score_scale: float | None = None,
        lpips_backbone: str = "imagenet",
        size: int = EVAL_SIZE,
        device: str | None = None,
        batch_size: int = 8,
    ):
        if lpips_backbone not in ("imagenet", "random"):
            raise F2FError(f"Unknown LPIPS backbone '{lpips_backbone}'. Choose 'imagenet' or 'random'.")
        if clip_score not in CLIP_SCORE_CONVENTIONS:
            raise F2FError(f"Unknown CLIP score convention '{clip_score}'. Choose 'clipscore' (w * max(cos, 0)) or 'cosine'.")
        if clip_score == "cosine" and clip_score_scale not in (None, 1.0):
            raise F2FError(f"The raw cosine has no scale (got clip_score_scale={clip_score_scale}); "
                           "for w * max(cos, 0) choose clip_score='clipscore'.")
        scale = CLIPSCORE_WEIGHT if clip_score_scale is None else float(clip_score_scale)
        if not scale > 0:
            raise F2FError(f"clip_score_scale must be positive (CLIPScore's w, 2.5 by default), not {clip_score_scale}.")
        self.clip_model = clip_model
        self.clip_pretrained = clip_pretrained
        self.clip_score_convention = clip_score
        self.clip_score_scale = 1.0 if clip_score == "cosine" else scale
        self.lpips_backbone = lpips_backbone
        self.size = size
        self.device = device
        self.batch_size = batch_size
        self._lpips = None  # loaded on first use, then kept
        self._clip = None

    @classmethod
    def from_preset(cls, preset: str | Preset = "paper", **options) -> "Scorer":
        """The scorer of a preset: its CLIP model, and a random LPIPS trunk for the tiny preset."""
        preset = get_preset(preset)
        defaults = {
            "clip_model": preset.clip_model,
            "clip_pretrained": preset.clip_pretrained,
            "lpips_backbone": "random" if preset.is_tiny else "imagenet",
        }
        return cls(**{**defaults, **{k: v for k, v in options.items() if v is not None}})

    def config(self) -> dict:
        """What a number depends on; stored in every record, compared when a run resumes."""
        return {
            "lpips": "alex-v0.1", "lpips_backbone": self.lpips_backbone, "size": self.size,
            "clip_model": self.clip_model, "clip_pretrained": self.clip_pretrained,
            "clip_score": self.clip_score_name, "clip_score_scale": self.clip_score_scale,
        }

    @property
    def clip_score_name(self) -> str:
        """The CLIP score convention, as recorded: "clipscore_w2.5" (w * max(cos, 0)) or "raw_cosine"."""
        return "raw_cosine" if self.clip_score_convention == "cosine" else f"clipscore_w{self.clip_score_scale:g}"

    def clip_score_of(self, cosine: float) -> float:
        """The CLIP score of an image-text cosine under this scorer's convention."""
        if self.clip_score_convention == "cosine":
            return cosine
        return self.clip_score_scale * max(cosine, 0.0)

    # -- models ---------------------------------------------------------------------------

    def _device(self) -> str:
        return self.device or default_device()

    def _lpips_model(self):
        if self._lpips is None:
            import lpips
            import torch

            random_trunk = self.lpips_backbone == "random"
            try:
                with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
                    # lpips still calls torchvision's deprecated `pretrained=`; the warning is theirs.
                    warnings.simplefilter("ignore", UserWarning)
                    torch.manual_seed(0)  # a random trunk must be the same one in every process and run
                    model = lpips.LPIPS(net="alex", pnet_rand=random_trunk, verbose=False)
            except (OSError, RuntimeError) as exc:  # the AlexNet download failed
                raise F2FError(
                    f"Could not load LPIPS's AlexNet weights ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
                    "torchvision downloads them once on first use; offline, use the tiny preset."
                ) from None
            self._lpips = model.to(self._device()).eval()
        return self._lpips

    def _clip_encoder(self):
        if self._clip is None:
            self._clip = load_clip(self.clip_model, self.clip_pretrained, device=self._device())
        return self._clip

    def _to_lpips_tensor(self, images: list[Image.Image]):
        import torch

        arrays = [np.asarray(im.resize((self.size, self.size), Image.Resampling.BICUBIC), dtype=np.float32) for im in images]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        return (batch / 127.5 - 1.0).to(self._device())  # [0, 255] -> [-1, 1]

    # -- metrics --------------------------------------------------------------------------

    def lpips(self, a: ImageInput | Sequence[ImageInput], b: ImageInput | Sequence[ImageInput]):
        """LPIPS between images a and b (or lists of pairs): a float, or a list of floats."""
        import torch

        first, single = _as_list(a)
        second, _ = _as_list(b)
        _check_pairs(first, second)
        model = self._lpips_model()
        values = []
        with torch.inference_mode():
            for start in range(0, len(first), self.batch_size):
                x = self._to_lpips_tensor(first[start:start + self.batch_size])
                y = self._to_lpips_tensor(second[start:start + self.batch_size])
                values.extend(model(x, y).flatten().float().cpu().tolist())
        return values[0] if single else values

    def clip_image(self, a: ImageInput | Sequence[ImageInput], b: ImageInput | Sequence[ImageInput]):
        """CLIP-I: cosine similarity of the CLIP embeddings of a and b (or lists of pairs)."""
        first, single = _as_list(a)
        second, _ = _as_list(b)
        _check_pairs(first, second)
        encoder = self._clip_encoder()
        values = (encoder.encode_images(first, self.batch_size) * encoder.encode_images(second, self.batch_size)).sum(-1)
        values = values.tolist()
        return values[0] if single else values

    def clip_text(self, image: ImageInput | Sequence[ImageInput], text: str | Sequence[str], *, scaled: bool = True):
        """CLIP score of image and caption (w * max(cos, 0) by default); the raw cosine when not `scaled`."""
        images, single = _as_list(image)
        texts = [text] if isinstance(text, str) else list(text)
        if len(texts) != len(images):
            raise F2FError(f"Got {len(images)} images but {len(texts)} captions; give one caption per image.")
        encoder = self._clip_encoder()
        values = (encoder.encode_images(images, self.batch_size) * encoder.encode_texts(texts)).sum(-1)
        values = [self.clip_score_of(v) if scaled else v for v in values.tolist()]
        return values[0] if single else values

    def score(self, source: ImageInput, edited: ImageInput, text: str, target: ImageInput | None = None) -> dict[str, float]:
        """All of the paper's metrics for one edit.

        Returns source_lpips, source_clip_i, clip_score (and clip_score_cosine, the raw cosine);
        with a ground-truth `target` also target_lpips and target_clip_i.
        """
        return self.score_batch([source], [edited], [text], None if target is None else [target])[0]

    def score_batch(
        self,
        sources: Sequence[ImageInput],
        edits: Sequence[ImageInput],
        texts: Sequence[str],
        targets: Sequence[ImageInput] | None = None,
    ) -> list[dict[str, float]]:
        """`score` for many edits at once (batched through each model)."""
        sources, edits = [load_image(im) for im in sources], [load_image(im) for im in edits]
        cosines = self.clip_text(edits, list(texts), scaled=False)
        rows = [
            {"source_lpips": lp, "source_clip_i": ci, "clip_score": self.clip_score_of(cos), "clip_score_cosine": cos}
            for lp, ci, cos in zip(self.lpips(sources, edits), self.clip_image(sources, edits), cosines)
        ]
        if targets is not None:
            targets = [load_image(im) for im in targets]
            for row, lp, ci in zip(rows, self.lpips(targets, edits), self.clip_image(targets, edits)):
                row.update(target_lpips=lp, target_clip_i=ci)
        return rows


def _check_pairs(first: list, second: list) -> None:
    if len(first) != len(second):
        raise F2FError(f"Got {len(first)} and {len(second)} images; metrics compare them in pairs.")
