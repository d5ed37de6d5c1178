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
rows for the kept frames, so they keep their original temporal positions. CogVideoX-5B I2V
also adds a learned absolute positional embedding, learned for `sample_frames` (49) frames
only: for a shorter input diffusers' `CogVideoXPatchEmbed` silently computes an untrained
sin-cos one instead. On the dropped calls the patch embedding gets the rows of the embedding
the full-length calls add (the learned table, laid out as [text rows | frame x patch rows])
at the kept latents (`KeptPositions`): every call of a 49-frame run adds the learned
embedding, at the kept frames' own positions, exactly as the full-length calls do.

Decoding: the CogVideoX VAE decodes latents in pairs and decodes the first alone only when
their count is odd, so an even number of kept latents K decodes to 4K frames, not 4(K-1)+1;
`check_latent_dropout` refuses those strides before anything loads (Wan's VAE decodes any K).
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
TEMPORAL_RATIO = 4  # frames per latent frame of every backend in FRAME_AXIS (their VAEs' temporal compression)
# Backends whose VAE decodes K latents to 4(K-1)+1 frames only for odd K: AutoencoderKLCogVideoX decodes in
# chunks of two latents and keeps the first frame alone only when the count is odd (4K frames for even K).
ODD_KEPT_ONLY = {"cogvideox"}


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
    positional_embedding: str | None = None  # what a CogVideoX absolute positional embedding adds on the dropped calls
    calls: list[dict[str, Any]] = field(default_factory=list)  # {"timestep", "frames"} per transformer call

    def record(self, temporal_ratio: int) -> dict[str, Any]:
        return {
            "method": "temporal latent dropout (IF-Edit, arXiv 2511.19435, Sec. 4.2)",
            "stride": None, "threshold_timestep": self.threshold, "latent_frames": self.num_latents,
            "kept_latents": self.kept, "dropped_latents": [j for j in range(self.num_latents) if j not in self.kept],
            "dropped_at_call": self.dropped_at_step,
            "frames_per_call": [call["frames"] for call in self.calls],
            "kept_frames": frames_of_latents(self.kept, temporal_ratio),
            **({"positional_embedding": self.positional_embedding} if self.positional_embedding else {}),
        }


def valid_strides(backend: str, num_frames: int) -> list[int]:
    """The strides latent dropout can run with at `num_frames` frames on `backend` (every K >= 1 but those refused)."""
    latents = (num_frames - 1) // TEMPORAL_RATIO + 1
    if backend not in ODD_KEPT_ONLY:
        return list(range(1, latents + 1))
    return [k for k in range(1, latents + 1) if len(kept_latents(latents, k)) % 2 == 1]


def _check_settings(backend: str, stride: int, at: float) -> None:
    if backend not in FRAME_AXIS:
        raise F2FError(f"latent_dropout is implemented for {', '.join(FRAME_AXIS)}; {backend} is not one of them "
                       "(its transformer input has no plain frame axis, or its pipeline re-inserts the first frame).")
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise F2FError(f"latent_dropout={stride}: keep every K-th latent frame with an integer K >= 1 (IF-Edit: 3).")
    if not 0.0 < at <= 1.0:
        raise F2FError(f"latent_dropout_at={at}: give a fraction of the timestep range in (0, 1] (IF-Edit: 0.9).")


def check_latent_dropout(backend: str, stride: int, at: float, num_frames: int) -> None:
    """F2FError for a backend latent dropout does not support, or a stride or threshold out of range.

    On CogVideoX (`ODD_KEPT_ONLY`) a stride whose kept latent count is even is refused too: its
    VAE would decode the kept latents to 4K frames instead of 4(K-1)+1, after the whole
    generation. The message names the strides that work at `num_frames`.
    """
    _check_settings(backend, stride, at)
    latents = (num_frames - 1) // TEMPORAL_RATIO + 1
    kept = kept_latents(latents, stride)
    if backend in ODD_KEPT_ONLY and len(kept) % 2 == 0:
        valid = ", ".join(map(str, valid_strides(backend, num_frames)))
        raise F2FError(
            f"latent_dropout={stride} at {num_frames} frames keeps {len(kept)} of {latents} latent frames {kept}; "
            f"{backend}'s VAE decodes an even number of latents K to {TEMPORAL_RATIO}K frames instead of "
            f"{TEMPORAL_RATIO}(K-1)+1, so the video would not match its frames. Strides that keep an odd number at "
            f"{num_frames} frames: {valid} (IF-Edit: 3).")


class KeptPositions:
    """CogVideoX's absolute positional embedding on a dropped call: the full video's rows at the kept latents.

    `CogVideoXPatchEmbed` adds its table (learned for `sample_frames` frames on CogVideoX-5B I2V)
    only when the input has exactly that many frames; otherwise it computes a sin-cos embedding
    for the input's frame count, which the 5B model never saw, numbered 0..K-1. While a dropped
    call runs (`start` .. `stop`), the patch embedding takes its computed branch and that
    computation returns the rows the full-length calls add: the learned table's (or, for a frame
    count the table does not cover, the full-length sin-cos one's) text rows and the kept
    latents' frame x patch rows. The table is read inside the patch embedding's forward, so
    offloading hooks have put it on the device.
    """

    def __init__(self, patch_embed, num_frames: int, kept: list[int], temporal_ratio: int):
        self.embed, self.num_frames, self.kept = patch_embed, num_frames, kept
        self.kept_frames = (len(kept) - 1) * temporal_ratio + 1
        self.sample_frames = patch_embed.sample_frames
        self.computed = type(patch_embed)._get_positional_embeddings.__get__(patch_embed)
        self.active = False

    @staticmethod
    def applies(transformer) -> bool:
        embed = getattr(transformer, "patch_embed", None)
        return embed is not None and hasattr(type(embed), "_get_positional_embeddings") and bool(
            getattr(embed, "use_positional_embeddings", False) or getattr(embed, "use_learned_positional_embeddings", False))

    def describe(self) -> str:
        embed = self.embed
        if embed.use_learned_positional_embeddings and self.num_frames == self.sample_frames:
            return f"learned ({self.sample_frames} frames): the kept latents' rows on the dropped calls"
        return f"sin-cos for {self.num_frames} frames: the kept latents' rows on the dropped calls"

    def start(self) -> None:
        self.embed.sample_frames = -1  # never the input's count: forward takes the computed branch, answered below
        self.embed._get_positional_embeddings = self.rows
        self.active = True

    def stop(self) -> None:
        if self.active:
            self.embed.sample_frames = self.sample_frames
            del self.embed._get_positional_embeddings
            self.active = False

    def rows(self, height: int, width: int, frames: int, device=None):
        import torch

        embed = self.embed
        if frames != self.kept_frames:  # not the dropped input (cannot happen from forward): diffusers' own
            return self.computed(height, width, frames, device=device)
        if embed.use_learned_positional_embeddings and (height, width, self.num_frames) == (
                embed.sample_height, embed.sample_width, self.sample_frames):
            table = embed.pos_embedding
        else:  # what the full-length calls add: diffusers' substitute for the full frame count
            table = self.computed(height, width, self.num_frames, device=device)
        text = embed.max_text_seq_length
        patches = (height // embed.patch_size) * (width // embed.patch_size)
        video = table[:, text:].reshape(table.shape[0], -1, patches, table.shape[-1])
        video = video.index_select(1, torch.tensor(self.kept, device=table.device)).flatten(1, 2)
        joint = torch.cat([table[:, :text], video], dim=1)
        return joint if device is None else joint.to(device)


class LatentDropout:
    """Temporal latent dropout on one generator's pipeline (`install` while the pipeline runs)."""

    def __init__(self, generator, stride: int, at: float = IFEDIT_THRESHOLD):
        _check_settings(generator.backend.key, stride, at)
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
        check_latent_dropout(self.generator.backend.key, self.stride, self.at, num_frames)
        latents = self.num_latents(num_frames)
        threshold = self.at * pipe.scheduler.config.num_train_timesteps
        state = self.state = DropoutState(latents, kept_latents(latents, self.stride), threshold)
        positions = {id(t): KeptPositions(t.patch_embed, num_frames, state.kept, self.temporal_ratio)
                     for t in self.generator.transformers if KeptPositions.applies(t)}
        if positions:
            state.positional_embedding = next(iter(positions.values())).describe()
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
                if id(module) in positions:  # CogVideoX: its absolute embedding's rows of the kept latents
                    positions[id(module)].start()
            state.calls.append({"timestep": t, "frames": kwargs["hidden_states"].shape[axis], "dropping": dropping})
            return args, kwargs

        def after(module, args, kwargs, output):
            if id(module) in positions:
                positions[id(module)].stop()
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
            for kept_positions in positions.values():
                kept_positions.stop()

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
