"""The paper's constants, verbatim (Rotstein et al., "Pathways on the Image Manifold", arXiv 2411.16819).

A leaf: it imports nothing of the package, so every stage, stand-in and add-on can take the
paper's text from here without importing the stage that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER_ICL_COUNT = 9  # in-context examples in the paper's caption requests (appendix B.1)

# The paper's instruction for temporal editing captions, verbatim (appendix B.1, arXiv
# 2411.16819); CAPTION is replaced by the target caption.
B1_INSTRUCTION = (
    "Write a one-sentence description of a short video that begins with the provided image and smoothly "
    "transitions into a scene of a “CAPTION”, highlighting how elements in the image undergo changes or "
    "movement over time. Keep the description simple, concise and short, focusing only on essential changes and "
    "actions without altering unnecessary details. Avoid mentioning elements that do not contribute to the main "
    "change needed, and focus the description on the main transitions. Do not add objects that are not in the "
    "original image or described in the final scene. The camera should remain static unless movement is "
    "absolutely necessary. Ensure all transitions happen within a few second duration without mentioning the "
    "length or using the word “video”."
)

# The paper's frame-selection instruction, verbatim (appendix C.1, arXiv 2411.16819);
# CAPTION is replaced by the target caption.
C1_INSTRUCTION = (
    "The image displays the source photo at the top, with a collage of 12 edited versions beneath it. The target "
    "edit image caption was: “CAPTION”. Your task is to choose the image from 1 to 12 that best follows this edit "
    "fully and naturally. If none of the images follows the edit, select image 0. If multiple images follow the "
    "edit equally, prioritize the one with the lowest number possible. Avoid selecting images that appear to "
    "follow the edit but are not edits of the original image. Additionally, avoid images where camera motion, "
    "zoom, or image quality differs significantly, or where the content does not appear stable relative to the "
    "original source. Respond with: “The selected edit is:x” where x is the number of your chosen edit."
)


@dataclass(frozen=True)
class SetPrompt:
    """One image set: folder name, label in plots and tables, the text-to-image prompt, its colour."""

    key: str
    label: str
    prompt: str
    colour: str


# The paper's three prompts (Sec. 4), verbatim, and the cluster colours of its Figure 2
# (green AI, purple AI + Heart Hands, red Heart Hands).
PAPER_PROMPTS: tuple[SetPrompt, ...] = (
    SetPrompt("ai", "AI", "Full-body portrait of a happy person wearing a shirt with the word 'AI' on it", "#2ca02c"),
    SetPrompt(
        "ai_heart", "AI + Heart Hands",
        "Full-body portrait of a happy person wearing a shirt with the word 'AI' on it and making a heart shape "
        "with their hands",
        "#8e44ad",
    ),
    SetPrompt("heart", "Heart Hands", "Full-body portrait of a happy person making a heart shape with their hands", "#d62728"),
)

# The paper's edit for Figure 2 (Sec. 4), verbatim: the target caption and the temporal
# editing caption that drove the video.
PAPER_TARGET = "A happy person making a heart shape with their hands"
PAPER_CAPTION = "A happy person very slowly raising their hands to form a heart shape"
