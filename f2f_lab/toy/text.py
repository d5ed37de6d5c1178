"""The toy models' text encoding: a bag of known words, and what each caption means in the toy world.

The toy video and image models read a caption as a fixed vector, one entry per word of
`VOCABULARY`: 1.0 if the word occurs in the caption (lower-cased, split on anything that
is not a letter), else 0.0. Nothing is learned and word order is ignored; unknown words
count for nothing, so a caption with no known word is the zero vector, which is also what
the models see, in training, for a dropped caption (classifier-free guidance's
"unconditional"). The models take the vector as constant input channels.

What a caption asks for (`caption_motion`, used to make the training videos):

    "raise"  it names the heart ("heart"), and not a lowering: the arms rise to the heart
    "lower"  it names a lowering ("lowering", "lower", "down"): the arms go down to the sides
    "still"  otherwise: nothing moves

and the set a target description names (`caption_set`, used to train the image model) is
the one `f2f_lab.toy.DESCRIPTIONS` gives; the paper's target, which says nothing of the
shirt, names the heart-only set.
"""

from __future__ import annotations

import re

import numpy as np

from ..captions import TemplateCaptioner
from ..errors import F2FError
from ..paper import PAPER_CAPTION, PAPER_PROMPTS, PAPER_TARGET

VOCABULARY = ("heart", "raising", "forms", "lowering", "lower", "down", "sides", "still", "ai", "shirt")
_RAISE_WORDS, _LOWER_WORDS = {"heart"}, {"lowering", "lower", "down"}
MOTIONS = ("raise", "lower", "still")


def _template(target: str) -> str:
    return TemplateCaptioner()(None, target).text


# The temporal captions the video model is trained on, by motion. The template captioner's
# wording of each known description is among them, so the `toy` preset's captions are known.
VIDEO_CAPTIONS: dict[str, tuple[str, ...]] = {
    "raise": (
        PAPER_CAPTION,
        _template(PAPER_TARGET),
        _template(PAPER_PROMPTS[1].prompt),
        _template(PAPER_PROMPTS[2].prompt),
        "A person slowly forms a heart shape with their hands. The camera remains static.",
    ),
    "lower": (
        "A happy person very slowly lowering their hands down to their sides",
        _template("A happy person with their arms down at their sides"),
    ),
    "still": (
        "A happy person standing still. The camera remains static.",
        _template(PAPER_PROMPTS[0].prompt),
    ),
}

# The target descriptions the image model is trained on, and the set each names.
IMAGE_CAPTIONS: dict[str, str] = {PAPER_TARGET: "heart", **{p.prompt: p.key for p in PAPER_PROMPTS}}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", str(text).lower()))


def encode(text: str | None) -> np.ndarray:
    """(len(VOCABULARY),) float32: 1 for each known word in `text`; None (a dropped caption) is all zeros."""
    present = words(text) if text is not None else set()
    return np.array([w in present for w in VOCABULARY], dtype=np.float32)


def caption_motion(text: str) -> str:
    """What a temporal caption asks of the arms: "raise", "lower" or "still" (see the module docstring)."""
    present = words(text)
    if present & _LOWER_WORDS:
        return "lower"
    if present & _RAISE_WORDS:
        return "raise"
    return "still"


def caption_set(text: str) -> str:
    """The toy set a target description names (as `toy.DESCRIPTIONS`), or F2FError."""
    if text not in IMAGE_CAPTIONS:
        raise F2FError(f"The toy image model does not know the description {text!r}; it knows:\n  "
                       + "\n  ".join(IMAGE_CAPTIONS))
    return IMAGE_CAPTIONS[text]
