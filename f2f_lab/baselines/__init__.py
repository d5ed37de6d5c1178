"""Single-step editors the paper compares Frame2Frame with (Tables 1 and 2, Figure 2), and today's peers.

Every editor has Frame2Frame's call, so that benchmarks, metrics and notebooks treat them alike:

    editor = SDEditEditor.from_preset("paper")        # or make_editor("sdedit", preset="paper")
    result = editor.edit(image, "A photo of a cat yawning.", seed=0)
    result.image, result.seed, result.record; result.save("runs/cat-sdedit")

| method         | model (paper preset)                       | pipeline                              |
|----------------|--------------------------------------------|---------------------------------------|
| `sdedit`       | stable-diffusion-v1-5/stable-diffusion-v1-5 | StableDiffusionImg2ImgPipeline        |
| `ledits`       | stable-diffusion-v1-5/stable-diffusion-v1-5 | LEditsPPPipelineStableDiffusion       |
| `pix2pix-zero` | CompVis/stable-diffusion-v1-4               | StableDiffusionPix2PixZeroPipeline    |
| `flowedit`     | black-forest-labs/FLUX.1-dev                | FlowEdit loop over FluxPipeline parts |
| `chronoedit`   | nvidia/ChronoEdit-14B-Diffusers             | ChronoEditPipeline                    |
| `kontext`      | black-forest-labs/FLUX.1-Kontext-dev        | FluxKontextPipeline                   |
| `qwen-edit`    | Qwen/Qwen-Image-Edit-2509                   | QwenImageEditPlusPipeline             |

Imagic, also in Table 1, has no public implementation (the paper quotes its numbers). The
last three are not in the paper: instruction editors newer than it, which take an edit
instruction derived from the target caption (`f2f_lab.instructions`).
"""

from .common import (
    GENERIC_SOURCE_DESCRIPTION,
    POSEDIT_SOURCE_DESCRIPTION,
    BaselineEditor,
    ImageEditResult,
    output_size,
    source_description,
)
from .chronoedit import ChronoEditEditor, ChronoEditSettings
from .flowedit import FlowEditEditor, FlowEditSettings, flowedit
from .instruction_editors import (
    InstructionEditor,
    KontextEditor,
    KontextSettings,
    QwenImageEditEditor,
    QwenImageEditSettings,
)
from .stable_diffusion import (
    LeditsEditor,
    LeditsSettings,
    Pix2PixZeroEditor,
    Pix2PixZeroSettings,
    SDEditEditor,
    SDEditSettings,
)

BASELINES: dict[str, type[BaselineEditor]] = {
    editor.method: editor for editor in (SDEditEditor, LeditsEditor, FlowEditEditor, Pix2PixZeroEditor,
                                         ChronoEditEditor, KontextEditor, QwenImageEditEditor)
}

__all__ = [
    "BASELINES", "BaselineEditor", "ImageEditResult", "SDEditEditor", "SDEditSettings", "LeditsEditor",
    "LeditsSettings", "Pix2PixZeroEditor", "Pix2PixZeroSettings", "FlowEditEditor", "FlowEditSettings", "flowedit",
    "source_description", "output_size", "POSEDIT_SOURCE_DESCRIPTION", "GENERIC_SOURCE_DESCRIPTION",
    "InstructionEditor", "ChronoEditEditor", "ChronoEditSettings", "KontextEditor", "KontextSettings",
    "QwenImageEditEditor", "QwenImageEditSettings",
]
