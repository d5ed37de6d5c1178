"""The source description that Pix2Pix-Zero and FlowEdit need, derived from the target caption."""

from __future__ import annotations

import re

# The paper's source description for every PosEdit task (Sec. 5.3, quoted verbatim); pass
# it as `source_prompt` to Pix2Pix-Zero or FlowEdit when reproducing Table 2.
POSEDIT_SOURCE_DESCRIPTION = "A person standing naturally with his arms relaxed at his sides."
GENERIC_SOURCE_DESCRIPTION = "a photo"

_AUXILIARIES = {"is", "are", "was", "were", "be", "being", "who", "that", "which", "while", "and", "slowly"}
# Words ending in -ing that are things, not actions (so "a dog in front of a building" is not cut).
_ING_NOUNS = {
    "building", "buildings", "painting", "paintings", "clothing", "ceiling", "morning", "evening", "thing",
    "things", "something", "nothing", "anything", "everything", "spring", "string", "swing", "earring",
    "earrings", "wedding", "pudding", "icing", "frosting", "dumpling", "dumplings", "sibling", "siblings",
    "railing", "lighting", "landing", "parking", "setting", "stocking", "stockings", "awning", "bedding",
    "topping", "toppings", "duckling", "ducklings", "seedling", "king", "ring", "rings", "wing", "wings",
}


def source_description(target: str) -> str:
    """A description of the source image derived from the target caption alone.

    Pix2Pix-Zero and FlowEdit need a caption of the source. The paper captioned sources with
    BLIP-2 (Sec. 5.1) and used one fixed sentence for PosEdit (`POSEDIT_SOURCE_DESCRIPTION`);
    without a captioner we use this rule instead: the target's subject, i.e. the words
    before its first action verb (the first word ending in "-ing" that is not a common noun
    such as "building"), without trailing auxiliaries ("is", "who", ...).
    "A photo of a cat yawning." -> "A photo of a cat"; "A person is raising their hands"
    -> "A person". A target without such a verb gives the generic "a photo".
    Pass `source_prompt=` to an editor to use a real caption instead.
    """
    words = target.strip().rstrip(".!").split()
    for index, word in enumerate(words[1:], start=1):
        bare = re.sub(r"[^a-z]", "", word.lower())
        if len(bare) > 4 and bare.endswith("ing") and bare not in _ING_NOUNS:
            subject = words[:index]
            while subject and subject[-1].lower().strip(",") in _AUXILIARIES:
                subject = subject[:-1]
            if subject:
                return " ".join(subject).rstrip(",")
            break
    return GENERIC_SOURCE_DESCRIPTION
