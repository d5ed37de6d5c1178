"""Temporal Latent Dropout (IF-Edit, arXiv 2511.19435, Sec. 4.2), as an option of any supported backend.

Once the denoising has fixed the video's global layout, IF-Edit keeps only every K-th latent
frame (the first, the source, always; the last too) and denoises the rest of the steps on
that shorter sequence. Its trigger is Wan 2.2 A14B's switch from the high-noise to the
low-noise expert (threshold 0.9, the model's own `boundary_ratio`: timesteps below 900);
for a single-expert model the same threshold is a point in the timestep schedule (t below
`at * num_train_timesteps`), so it applies to CogVideoX too.

How, without a new denoising loop: forward hooks on the transformer(s). From the first call
below the threshold on, the pre-hook slices the frame axis of the transformer's input (the
noisy latents with their image condition, already concatenated by the pipeline) to the kept
frames, so the transformer runs on fewer tokens; the post-hook spreads its prediction back
to every frame (a dropped frame takes its nearest kept frame's), so the pipeline and its
scheduler keep their shapes. The dropped frames are never decoded: the pipeline returns its
latents and only the kept ones go through the VAE, as one shorter video. Kept latent j of
the original video covers its frames 4j-3 .. 4j (frame 0 for j = 0), and the record says
which frames each returned frame is.

Positions: Wan builds its rotary embedding from the input's shape, so the kept frames are
renumbered 0..F'-1 (as a plain slice does in IF-Edit's setting); CogVideoX gets its rotary
rows for the kept frames, so they keep their original temporal positions.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import F2FError

# The backends whose transformer input has a plain frame axis (and how the pipeline's latent output is laid out).
FRAME_AXIS = {"cogvideox": 1, "wan2.1-480p": 2, "wan2.2-a14b": 2}
IFEDIT_STRIDE = 3  # K (IF-Edit Sec. 4.2)
IFEDIT_THRESHOLD = 0.9  # IF-Edit's dropout threshold: Wan 2.2 A14B's expert boundary


def kept_latents(num_latents: int, stride: int) -> list[int]:
    """Latent frames kept: 0, K, 2K, ... and the last one (it carries the final, edited state)."""
    if stride < 1:
        raise F2FError(f"latent_dropout={stride}: keep every K-th latent frame with K >= 1.")
    kept = list(range(0, num_latents, stride))
    if kept[-1] != num_latents - 1:
        kept.append(num_latents - 1)
    return kept


def frames_of_latents(kept: list[int], temporal_ratio: int = 4) -> list[int]:
    """The original frame indices of the frames decoded from the kept latents, in order.

    The VAE decodes latent 0 to one frame and each later latent to `temporal_ratio` frames, so
    kept latent j >= 1 gives the original frames temporal_ratio*(j-1)+1 .. temporal_ratio*j.
    """
    frames = []
    for j in kept:
        frames.extend([0] if j == 0 else range(temporal_ratio * (j - 1) + 1, temporal_ratio * j + 1))
    return frames


@dataclass
class DropoutState:
    """What happened during one generation: when the drop came and how many frames each call ran."""

    num_latents: int
    kept: list[int]
    threshold: float
    dropped_at_step: int | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)  # {"timestep", "frames"} per transformer call

    def record(self, temporal_ratio: int) -> dict[str, Any]:
        return {
            "method": "temporal latent dropout (IF-Edit, arXiv 2511.19435, Sec. 4.2)",
            "stride": None, "threshold_timestep": self.threshold, "latent_frames": self.num_latents,
            "kept_latents": self.kept, "dropped_latents": [j for j in range(self.num_latents) if j not in self.kept],
            "dropped_at_call": self.dropped_at_step,
            "frames_per_call": [call["frames"] for call in self.calls],
            "kept_frames": frames_of_latents(self.kept, temporal_ratio),
        }


def check_latent_dropout(backend: str, stride: int, at: float) -> None:
    """F2FError for a backend latent dropout does not support, or a stride or threshold out of range."""
    if backend not in FRAME_AXIS:
        raise F2FError(f"latent_dropout is implemented for {', '.join(FRAME_AXIS)}; {backend} is not one of them "
                       "(its transformer input has no plain frame axis, or its pipeline re-inserts the first frame).")
    if not isinstance(stride, int) or stride < 1:
        raise F2FError(f"latent_dropout={stride}: keep every K-th latent frame with an integer K >= 1 (IF-Edit: 3).")
    if not 0.0 < at <= 1.0:
        raise F2FError(f"latent_dropout_at={at}: give a fraction of the timestep range in (0, 1] (IF-Edit: 0.9).")


class LatentDropout:
    """Temporal latent dropout on one generator's pipeline (`install` while the pipeline runs)."""

    def __init__(self, generator, stride: int, at: float = IFEDIT_THRESHOLD):
        check_latent_dropout(generator.backend.key, stride, at)
        self.generator, self.stride, self.at = generator, stride, at
        self.axis = FRAME_AXIS[generator.backend.key]
        self.state: DropoutState | None = None

    @property
    def temporal_ratio(self) -> int:
        return self.generator.pipe.vae_scale_factor_temporal

    def num_latents(self, num_frames: int) -> int:
        return (num_frames - 1) // self.temporal_ratio + 1

    @contextmanager
    def install(self, num_frames: int) -> Iterator[DropoutState]:
        import torch

        pipe = self.generator.pipe
        latents = self.num_latents(num_frames)
        threshold = self.at * pipe.scheduler.config.num_train_timesteps
        state = self.state = DropoutState(latents, kept_latents(latents, self.stride), threshold)
        kept = torch.tensor(state.kept)
        # A dropped frame takes the prediction of its nearest kept frame (earlier on a tie); it is never decoded.
        nearest = torch.tensor([min(range(len(state.kept)), key=lambda i: (abs(state.kept[i] - f), i)) for f in range(latents)])
        axis = self.axis

        def before(module, args, kwargs):
            hidden = kwargs["hidden_states"]
            timestep = kwargs.get("timestep")
            t = float(timestep.flatten()[0]) if timestep is not None else None
            if state.dropped_at_step is None and t is not None and t < threshold:
                state.dropped_at_step = len(state.calls)
            dropping = state.dropped_at_step is not None and hidden.shape[axis] == latents
            if dropping:
                kwargs["hidden_states"] = hidden.index_select(axis, kept.to(hidden.device))
                rotary = kwargs.get("image_rotary_emb")
                if rotary is not None and isinstance(rotary, tuple):  # CogVideoX: rows per (frame, patch) token
                    kwargs["image_rotary_emb"] = tuple(self._rows_of_kept(r, latents, kept) for r in rotary)
            state.calls.append({"timestep": t, "frames": kwargs["hidden_states"].shape[axis], "dropping": dropping})
            return args, kwargs

        def after(module, args, kwargs, output):
            if not state.calls[-1]["dropping"]:
                return output
            sample = output[0] if isinstance(output, tuple) else output.sample
            spread = sample.index_select(axis, nearest.to(sample.device))
            if isinstance(output, tuple):
                return (spread, *output[1:])
            output.sample = spread
            return output

        handles = []
        for transformer in self.generator.transformers:
            handles.append(transformer.register_forward_pre_hook(before, with_kwargs=True))
            handles.append(transformer.register_forward_hook(after, with_kwargs=True))
        try:
            yield state
        finally:
            for handle in handles:
                handle.remove()

    @staticmethod
    def _rows_of_kept(rotary, latents: int, kept):
        per_frame = rotary.shape[0] // latents
        return rotary.reshape(latents, per_frame, *rotary.shape[1:]).index_select(0, kept.to(rotary.device)).reshape(
            -1, *rotary.shape[1:])

    def decode(self, latents) -> list:
        """The kept latent frames of the pipeline's latent output, decoded as one shorter video (PIL frames)."""
        import torch

        pipe = self.generator.pipe
        kept = torch.tensor(self.state.kept, device=latents.device)
        latents = latents.index_select(self.axis, kept)
        with torch.no_grad():
            if self.generator.family == "cogvideox":
                video = pipe.decode_latents(latents)
            else:  # Wan: undo the latent normalisation, as WanImageToVideoPipeline does before decoding
                vae = pipe.vae
                latents = latents.to(vae.dtype)
                mean = torch.tensor(vae.config.latents_mean).view(1, vae.config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
                std = 1.0 / torch.tensor(vae.config.latents_std).view(1, vae.config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
                video = vae.decode(latents / std + mean, return_dict=False)[0]
        return list(pipe.video_processor.postprocess_video(video=video, output_type="pil")[0])

    def record(self) -> dict[str, Any]:
        record = self.state.record(self.temporal_ratio)
        record["stride"] = self.stride
        record["at"] = self.at
        return record
