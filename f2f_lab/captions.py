"""Step 1 of Frame2Frame: the temporal editing caption (Sec. 3.1).

A target caption says what the edited image shows ("A photo of a cat yawning."); a
temporal editing caption says how a short video gets there from the source ("The cat
slowly opens its mouth wide in a big yawn."). The paper asks GPT-4o for it with the
instruction of appendix B.1 and nine in-context examples (`VLMCaptioner`).

Without a VLM, two captioners need nothing but the target caption:
- `TemplateCaptioner` wraps it in a fixed sentence about a slow change and a static camera;
- `TargetCaptioner` passes it through unchanged (the "Original Captions" row of Table S4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .errors import F2FError


@dataclass
class Caption:
    """A temporal editing caption and how it was made."""

    text: str
    captioner: str
    record: dict[str, Any] = field(default_factory=dict)


def check_caption(text: str | None, what: str = "target caption") -> str:
    """The caption stripped of surrounding whitespace, or F2FError when there is nothing in it."""
    if text is None or not str(text).strip():
        raise F2FError(f"The {what} is empty. Describe the edited image, e.g. \"A photo of a cat yawning.\"")
    return " ".join(str(text).split())


_PHOTO_PREFIX = re.compile(r"^(a|an)\s+(photo|picture|image)\s+of\s+", re.IGNORECASE)


class TemplateCaptioner:
    """A temporal caption from a fixed template: no VLM, no network.

    "A photo of a cat yawning." becomes "The scene slowly and smoothly changes until it
    shows a cat yawning. The camera remains static." The wording follows B.1's advice
    (simple, one main change, static camera).
    """

    name = "template"
    template = "The scene slowly and smoothly changes until it shows {subject}. The camera remains static."

    def __call__(self, image: Image.Image, target: str) -> Caption:
        target = check_caption(target)
        subject = _PHOTO_PREFIX.sub("", target).rstrip(" .!")
        if not subject[:2].isupper():  # keep acronyms such as "AI" as they are
            subject = subject[:1].lower() + subject[1:]
        return Caption(text=self.template.format(subject=subject), captioner=self.name, record={"template": self.template})


class TargetCaptioner:
    """The target caption itself drives the video (the Table S4 ablation)."""

    name = "target"

    def __call__(self, image: Image.Image, target: str) -> Caption:
        return Caption(text=check_caption(target), captioner=self.name)


CAPTIONERS = ("vlm", "template", "target")


def make_captioner(name: str, **vlm_options):
    """Build a captioner by name: "vlm" (B.1 with in-context examples), "template" or "target"."""
    if name == "template":
        return TemplateCaptioner()
    if name == "target":
        return TargetCaptioner()
    if name == "vlm":
        raise F2FError("The VLM captioner is not built yet; use --captioner template.")
    raise F2FError(f"Unknown captioner '{name}'. Choose one of: {', '.join(CAPTIONERS)}.")
