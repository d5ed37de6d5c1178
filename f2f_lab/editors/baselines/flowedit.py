"""FlowEdit (Kulikov et al., ICCV 2025, arXiv 2412.08629): inversion-free editing with a flow model.

A rectified-flow model maps noise to images along z_t = (1 - t) x_0 + t noise, with a
velocity V(z_t, t, c) = dz_t/dt that depends on the text c. Editing by inversion would run
the source back to noise and forward again with the target text; FlowEdit instead moves
the image directly. At each time t it noises the *source* image afresh,
z_src = (1 - t) x_src + t n, places the current edit at the same offset,
z_tar = z_edit + (z_src - x_src), and steps the edit by the difference of the two
velocities, V(z_tar, t, c_tar) - V(z_src, t, c_src). Where source and target texts agree,
the difference vanishes and the image stays put; averaging over the noise (n_avg draws)
makes the path smoother. Only the last n_max of the T steps run (the noisiest are
skipped, so coarse structure is kept); the last n_min may instead sample plainly from the
target (the paper's option for style edits).

`flowedit` below is that loop, written to be read beside the paper's Algorithm 1, for any
velocity function; `FlowEditEditor` supplies the velocity of FLUX.1-dev, which the F2F
paper used ("FLUX-based FlowEdit", Sec. 5), with its authors' FLUX hyper-parameters:
T = 28, n_max = 24, n_min = 0, n_avg = 1, source guidance 1.5, target guidance 5.5
(their SD3 setting would be T = 50, n_max = 33, guidance 3.5 and 13.5).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Sequence

from tqdm.auto import tqdm

from ...errors import F2FError
from ..base import BaselineEditor, ImageEditResult, timed, with_options
from .prompts import source_description

FLUX_DEV = "black-forest-labs/FLUX.1-dev"

# velocity(z, t, which) -> V(z, t, c_which), where which is "source" or "target"
Velocity = Callable[["torch.Tensor", float, str], "torch.Tensor"]  # noqa: F821


def flowedit(
    velocity: Velocity,
    x_src,
    sigmas: Sequence[float],
    *,
    n_max: int,
    n_min: int = 0,
    n_avg: int = 1,
    generator=None,
    progress: bool = False,
):
    """Edit the clean latents `x_src` with FlowEdit; returns the edited clean latents.

    Args:
        velocity: the model's velocity for the source or the target text (see `Velocity`).
        x_src: the source image's latents (a float tensor; the loop runs in float32).
        sigmas: the T + 1 times t_0 = 1 (noise) > ... > t_T = 0 (data) of the sampler.
        n_max: how many of the T steps run; the first T - n_max (noisiest) are skipped.
        n_min: how many of the last steps sample from the target instead (0: none).
        n_avg: noise draws averaged per step.
        generator: a torch.Generator for the noise draws.
    """
    import torch

    steps = len(sigmas) - 1
    if not 0 <= n_min <= n_max <= steps:
        raise F2FError(f"FlowEdit needs 0 <= n_min <= n_max <= steps; got n_min={n_min}, n_max={n_max}, steps={steps}.")
    if n_avg < 1:
        raise F2FError(f"FlowEdit needs n_avg >= 1, got {n_avg}.")
    x_src = x_src.float()

    def noise():
        return torch.randn(x_src.shape, generator=generator, dtype=torch.float32).to(x_src.device)

    z_edit = x_src.clone()  # the ODE starts at the source image itself: no inversion
    z_sample = None
    for i in tqdm(range(steps - n_max, steps), desc="FlowEdit", leave=False, disable=not progress):
        t, t_next = float(sigmas[i]), float(sigmas[i + 1])
        if i < steps - n_min:
            v_delta = torch.zeros_like(x_src)
            for _ in range(n_avg):
                z_src = (1 - t) * x_src + t * noise()
                z_tar = z_edit + z_src - x_src
                v_delta += (velocity(z_tar, t, "target") - velocity(z_src, t, "source")) / n_avg
            z_edit = z_edit + (t_next - t) * v_delta
        else:  # the last n_min steps: ordinary sampling from the target, started at the edit's offset
            if z_sample is None:
                z_sample = z_edit + (1 - t) * x_src + t * noise() - x_src
            z_sample = z_sample + (t_next - t) * velocity(z_sample, t, "target")
    return z_edit if z_sample is None else z_sample


@dataclass(frozen=True)
class FlowEditSettings:
    """FlowEdit with FLUX.1-dev and its authors' FLUX hyper-parameters.

    Prompts. FlowEdit needs a source and a target text. The target is the benchmark's
    caption; the source is `source_prompt` when given, else `source_description(target)`
    (the target's subject: "A photo of a cat yawning." -> "A photo of a cat").
    """

    model: str = FLUX_DEV
    working_size: int = 1024  # FLUX.1-dev's resolution; the authors recommend 1024x1024 inputs
    num_inference_steps: int = 28  # T
    n_max: int = 24
    n_min: int = 0
    n_avg: int = 1
    source_guidance_scale: float = 1.5  # FLUX.1-dev's distilled guidance (an input, not classifier-free)
    target_guidance_scale: float = 5.5
    max_sequence_length: int = 512  # T5 tokens (FLUX.1-dev's maximum)
    source_prompt: str | None = None


class FlowEditEditor(BaselineEditor):
    """FlowEdit over diffusers' FLUX components (transformer, VAE, text encoders, scheduler)."""

    method = "flowedit"
    title = "FlowEdit"
    paper = FlowEditSettings()
    tiny = FlowEditSettings(model="tiny", working_size=64, num_inference_steps=4, n_max=3, max_sequence_length=32)
    pipeline_class = "FluxPipeline"  # its components; the loop is `flowedit` above
    stand_in = "flux"
    description = "FlowEdit"
    uses_source_description = True
    size_multiple = 16  # VAE 8x, then 2x2 patches

    def edit(
        self,
        image,
        target: str,
        *,
        seed: int = 0,
        source_prompt: str | None = None,
        num_inference_steps: int | None = None,
        n_max: int | None = None,
        n_min: int | None = None,
        n_avg: int | None = None,
        source_guidance_scale: float | None = None,
        target_guidance_scale: float | None = None,
    ) -> ImageEditResult:
        """Edit `image` from `source_prompt` (else derived from the target) toward `target`."""
        import torch

        params = with_options(
            self.settings, source_prompt=source_prompt, num_inference_steps=num_inference_steps, n_max=n_max,
            n_min=n_min, n_avg=n_avg, source_guidance_scale=source_guidance_scale,
            target_guidance_scale=target_guidance_scale,
        )
        source, target, work = self._prepare(image, target)
        source_text = params.source_prompt or source_description(target)
        timings: dict[str, float] = {}
        with self._out_of_memory():
            with torch.inference_mode():
                with timed(timings, "encode"):
                    x_src = self.encode_image(work)
                    velocity = self.velocity_field(
                        {"source": source_text, "target": target},
                        {"source": params.source_guidance_scale, "target": params.target_guidance_scale},
                        work.size, params.max_sequence_length,
                    )
                    sigmas = self.sigmas(params.num_inference_steps, x_src.shape[1])
                with timed(timings, "edit"):
                    x_edit = flowedit(velocity, x_src, sigmas, n_max=params.n_max, n_min=params.n_min,
                                      n_avg=params.n_avg, generator=self._generator(seed), progress=self.progress)
                with timed(timings, "decode"):
                    edited = self.decode_latents(x_edit, work.size)
        prompts = {"target": target, "source_prompt": source_text,
                   "rule": "given" if params.source_prompt else "source_description(target)"}
        parameters = {**asdict(params), "sigmas": [round(s, 6) for s in sigmas]}
        return self._result(source, target, edited, seed, parameters=parameters, prompts=prompts, timings=timings)

    # -- FLUX plumbing: pixels <-> packed latents, texts -> velocity, the time grid -------------

    def encode_image(self, image):
        """Clean packed latents of an RGB image whose sides are multiples of 16: shape (1, h/16 * w/16, 4C)."""
        pipe = self.pipe
        pixels = pipe.image_processor.preprocess(image).to(pipe._execution_device, pipe.vae.dtype)
        latents = pipe.vae.encode(pixels).latent_dist.mode()  # the mode, as the authors do: no sampling noise
        latents = (latents - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor
        batch, channels, height, width = latents.shape
        return pipe._pack_latents(latents, batch, channels, height, width).float()

    def decode_latents(self, latents, size: tuple[int, int]):
        pipe = self.pipe
        width, height = size
        latents = pipe._unpack_latents(latents.to(pipe.vae.dtype), height, width, pipe.vae_scale_factor)
        latents = latents / pipe.vae.config.scaling_factor + pipe.vae.config.shift_factor
        pixels = pipe.vae.decode(latents, return_dict=False)[0]
        return pipe.image_processor.postprocess(pixels, output_type="pil")[0]

    def velocity_field(self, texts: dict[str, str], guidance_scales: dict[str, float], size: tuple[int, int],
                       max_sequence_length: int) -> Velocity:
        """V(z, t, c) of the FLUX transformer for the "source" and "target" texts (one pass each)."""
        import torch

        pipe = self.pipe
        device, dtype = pipe._execution_device, pipe.transformer.dtype
        width, height = size
        image_ids = pipe._prepare_latent_image_ids(
            1, height // (pipe.vae_scale_factor * 2), width // (pipe.vae_scale_factor * 2), device, dtype
        )
        conditions = {}
        for which, text in texts.items():
            embeds, pooled, text_ids = pipe.encode_prompt(
                prompt=text, prompt_2=text, device=device, max_sequence_length=max_sequence_length
            )
            guidance = None
            if pipe.transformer.config.guidance_embeds:  # FLUX.1-dev: guidance is an input of the model
                guidance = torch.full([1], guidance_scales[which], device=device, dtype=torch.float32)
            conditions[which] = dict(encoder_hidden_states=embeds, pooled_projections=pooled, txt_ids=text_ids,
                                     guidance=guidance)

        def velocity(z, t: float, which: str):
            timestep = torch.full([z.shape[0]], t, device=device, dtype=dtype)
            return pipe.transformer(
                hidden_states=z.to(device, dtype), timestep=timestep, img_ids=image_ids, return_dict=False,
                **conditions[which],
            )[0].float()

        return velocity

    def sigmas(self, num_inference_steps: int, image_seq_len: int) -> list[float]:
        """The FLUX sampler's times: linear from 1 to 1/T, shifted for the resolution, then 0."""
        import numpy as np
        from diffusers.pipelines.flux.pipeline_flux import calculate_shift

        scheduler = self.pipe.scheduler
        mu = calculate_shift(
            image_seq_len,
            scheduler.config.get("base_image_seq_len", 256),
            scheduler.config.get("max_image_seq_len", 4096),
            scheduler.config.get("base_shift", 0.5),
            scheduler.config.get("max_shift", 1.15),
        )
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / num_inference_steps, num_inference_steps), mu=mu,
                                device="cpu")
        return [float(s) for s in scheduler.sigmas]
