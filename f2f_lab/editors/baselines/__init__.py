"""Single-step editors the paper compares Frame2Frame with (Tables 1 and 2, Figure 2).

| method         | model (paper preset)                        | pipeline                              |
|----------------|---------------------------------------------|---------------------------------------|
| `sdedit`       | stable-diffusion-v1-5/stable-diffusion-v1-5 | StableDiffusionImg2ImgPipeline        |
| `ledits`       | stable-diffusion-v1-5/stable-diffusion-v1-5 | LEditsPPPipelineStableDiffusion       |
| `flowedit`     | black-forest-labs/FLUX.1-dev                | FlowEdit loop over FluxPipeline parts |
| `pix2pix-zero` | CompVis/stable-diffusion-v1-4               | StableDiffusionPix2PixZeroPipeline    |

Imagic, also in Table 1, has no public implementation (the paper quotes its numbers).
"""

from .flowedit import FlowEditEditor, FlowEditSettings, flowedit
from .ledits import LeditsEditor, LeditsSettings
from .pix2pix_zero import Pix2PixZeroEditor, Pix2PixZeroSettings
from .prompts import GENERIC_SOURCE_DESCRIPTION, POSEDIT_SOURCE_DESCRIPTION, source_description
from .sdedit import SDEditEditor, SDEditSettings

# In the order of the CLI's choices and the tables.
BASELINES = (SDEditEditor, LeditsEditor, FlowEditEditor, Pix2PixZeroEditor)

__all__ = [
    "BASELINES", "SDEditEditor", "SDEditSettings", "LeditsEditor", "LeditsSettings", "FlowEditEditor",
    "FlowEditSettings", "flowedit", "Pix2PixZeroEditor", "Pix2PixZeroSettings", "source_description",
    "POSEDIT_SOURCE_DESCRIPTION", "GENERIC_SOURCE_DESCRIPTION",
]
