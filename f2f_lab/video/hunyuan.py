"""HunyuanVideo 1.5 image-to-video over `HunyuanVideo15ImageToVideoPipeline`.

The pipeline takes no height or width: it picks the bucket of about `target_size`² pixels
(640² at 480p) nearest the image's aspect ratio, in multiples of 16, and centre-crops the
image to it (`calculate_default_height_width`). Here the canvas is that same bucket, so
the image arrives at the size the pipeline keeps and nothing is cropped unseen. Guidance
lives in the pipeline's guider, not in its call (diffusers' hunyuan_video15 notes).
"""

from __future__ import annotations

from typing import Any, Callable

from PIL import Image

from ..errors import F2FError
from .base import VideoGenerator


class HunyuanVideo15Generator(VideoGenerator):
    """Image-to-video over diffusers' `HunyuanVideo15ImageToVideoPipeline`."""

    family = "hunyuan"

    def bucket(self, size: tuple[int, int]) -> tuple[int, int]:
        """The (width, height) bucket the pipeline generates for an image of `size`."""
        height, width = self.pipe.video_processor.calculate_default_height_width(
            height=size[1], width=size[0], target_size=self.pipe.target_size
        )
        return int(width), int(height)

    def canvas_for(self, source_size, *, geometry: str, canvas: tuple[int, int]) -> tuple[int, int]:
        # The pixel budget is the transformer's target_size, whatever the preset's canvas says:
        # "aspect" takes the source's bucket, "letterbox" the bucket of the canvas's shape.
        if geometry == "aspect":
            return self.bucket(source_size)
        if geometry == "letterbox":
            return self.bucket(canvas)
        return super().canvas_for(source_size, geometry=geometry, canvas=canvas)

    def pipeline_arguments(self, image: Image.Image, prompt: str, *, num_frames: int, num_inference_steps: int,
                           guidance_scale: float, guidance_scale_2: float | None = None) -> dict[str, Any]:
        if image.size != self.bucket(image.size):
            raise ValueError(f"image is {image.size}; HunyuanVideo 1.5 would crop it to {self.bucket(image.size)}")
        if self.pipe.guider.guidance_scale != guidance_scale:
            self.pipe.guider = self.pipe.guider.new(guidance_scale=guidance_scale)
        arguments = {"num_frames": num_frames, "num_inference_steps": num_inference_steps}
        if self.backend.negative_prompt is not None:
            arguments["negative_prompt"] = self.backend.negative_prompt
        return arguments

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        guider = self.pipe.guider
        return {"guider": type(guider).__name__, "guidance_scale": guider.guidance_scale,
                "target_size": self.pipe.target_size}

    def step_callback(self, callback: Callable) -> Callable:
        raise F2FError("HunyuanVideo15ImageToVideoPipeline takes no callback_on_step_end (diffusers 0.42.1); "
                       "run without a step callback.")
