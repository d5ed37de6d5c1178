"""`f2f edit`, `f2f demo` and `f2f models`: one edit from the command line, the bundled demo, the video models."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ..captions import Caption, check_caption
from ..editors import PEER_METHODS, make_editor
from ..editors.base import BASELINE_RUN_FILES
from ..errors import F2FError
from ..imaging import image_hash, load_image, to_canvas
from ..presets import TINY_NOTICE
from ..records import check_writable_dir, recover_folder, scrub, write_json_atomic
from ..results import REFINED_FILES, RUN_FILES, check_writable, recorded_files, save_or_recover
from ..samples import SAMPLES_DIR
from ..toy.demo import ToyDemoResult
from ..video.backends import backends_table
from .options import add_editor_options, add_preset_option, editor_options, preset_overrides
from .toy import run_toy_demo

DEMO_IMAGE = SAMPLES_DIR / "cat.jpg"
DEMO_TARGET = "A photo of a cat yawning."
DEMO_IMAGE_ARG = "data/samples/cat.jpg"  # as the README writes it, from the repository's root
DEMO_TOY = "toy"  # the toy edit's folder inside the demo's --out


def add_parser(subparsers) -> None:
    """Register `edit`, `demo` and `models` on the `f2f` subcommands."""
    edit = subparsers.add_parser("edit", help="edit an image toward a target caption")
    edit.add_argument("image", help="the source image file")
    edit.add_argument("target", help='what the edit shows, e.g. "A photo of a cat yawning."')
    edit.add_argument("--out", help="run folder (default: runs/<image name>)")
    _add_edit_options(edit, "paper")
    edit.set_defaults(run=run_edit_command)

    demo = subparsers.add_parser("demo", help="edit a bundled sample image and write a report; then one real toy edit in OUT/toy")
    demo.add_argument("--out", default="runs/demo", help="run folder (default: %(default)s); the toy edit goes to OUT/toy")
    demo.add_argument("--no-toy", action="store_true", help="skip the toy edit (the learned toy models, a few seconds)")
    _add_edit_options(demo, "tiny")
    demo.set_defaults(run=run_demo_command)

    models = subparsers.add_parser("models", help="the image-to-video models (--video-model) and what their cards publish")
    models.add_argument("--markdown", action="store_true", help="print a Markdown table")
    models.set_defaults(run=run_models_command)


def _add_edit_options(parser: argparse.ArgumentParser, preset_default: str) -> None:
    add_preset_option(parser, preset_default)
    add_editor_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the video's noise (default: 0)")
    parser.add_argument("--seeds", type=int, nargs="+", help="several seeds, one run folder each (seed-N)")
    parser.add_argument("--caption", help="use this temporal caption instead of asking the captioner")
    parser.add_argument("--instruction", choices=("template", "vlm"),
                        help="how chronoedit, kontext and qwen-edit get their instruction from the target caption: a "
                             "fixed template (their default) or a VLM rewrite (f2f_lab.instructions)")
    parser.add_argument("--overwrite", action="store_true", help="replace the files of an earlier run in --out")


def run_edit_command(args) -> None:
    out = Path(args.out) if args.out else Path("runs") / Path(args.image).stem
    run_edit(args, args.image, args.target, out)


def run_demo_command(args) -> None:
    """The bundled photo with --preset (tiny: noise, plumbing only), then one real toy edit in OUT/toy."""
    out = Path(args.out)
    toy_out = out / DEMO_TOY
    if not args.no_toy:  # both refusals before either edit runs
        check_writable(toy_out, args.overwrite, files=ToyDemoResult.files)
    outs = run_edit(args, DEMO_IMAGE, DEMO_TARGET, out)
    for folder in outs if args.method == "f2f" else []:  # baselines write no report
        print(f"report: {folder / 'report.html'}")
    if args.preset.is_tiny:
        print(TINY_NOTICE)
    if not args.no_toy:
        run_toy_demo(toy_out, seed=(args.seeds or [args.seed])[0], overwrite=args.overwrite)
        print(f"toy report: {toy_out / 'report.html'}")
    noise = " (tiny preset: noise)" if args.preset.is_tiny else ""
    print(f"\nThe photo edit{noise}: {out}" + ("" if args.no_toy else f"; the toy edit (real, toy size): {toy_out}") + ".")
    print(f'A real photo edit needs a GPU: f2f edit {DEMO_IMAGE_ARG} "{DEMO_TARGET}" --preset paper '
          "(GPT-4o; OPENAI_API_KEY) or --preset open (local Qwen2.5-VL); see README.md, \"Real edits on a GPU\".")


def run_models_command(args) -> None:
    print(backends_table(markdown=args.markdown))


def run_edit(args, image, target: str, out: Path) -> list[Path]:
    """Edit `image` toward `target` as the parsed options say; one run folder per seed.

    With several seeds each seed's folder is saved as soon as that seed is done, and a rerun of the
    same command (same image, target and settings, recorded in OUT/seeds.json) keeps the finished
    seeds and computes only the others, with the temporal caption the finished ones used.
    """
    # Everything a user can get wrong is checked before minutes of model loading.
    options = editor_options(args)
    if args.instruction is not None:
        if args.method not in PEER_METHODS:
            raise F2FError(f"--instruction applies to the instruction editors ({', '.join(PEER_METHODS)}), not {args.method}.")
        options["instruction"] = args.instruction
    # The video model and geometry change the preset's numbers: apply them before any check.
    preset = args.preset.with_options(**preset_overrides(args, ("video_backend", "geometry")))
    options.pop("video_backend", None), options.pop("geometry", None)
    image = load_image(image)
    if preset.geometry == "letterbox":
        to_canvas(image, preset.canvas)  # an aspect ratio too extreme for the canvas fails here
    target = check_caption(target)
    seeds = args.seeds or [args.seed]
    if len(set(seeds)) != len(seeds):
        raise F2FError(f"--seeds repeats a seed ({' '.join(map(str, seeds))}); give each seed once.")
    if any(not 0 <= seed < 2**63 for seed in seeds):
        raise F2FError(f"Seeds must be integers from 0 to 2**63 - 1; got {' '.join(map(str, seeds))}.")
    if args.caption is not None:
        check_caption(args.caption, "temporal caption (--caption)")
    check_writable_dir(out)
    files = RUN_FILES + REFINED_FILES if args.method == "f2f" else BASELINE_RUN_FILES
    several = len(seeds) > 1
    folders = {seed: out / f"seed-{seed}" if several else out for seed in seeds}
    config = scrub(json.loads(json.dumps(
        {"image_sha256": image_hash(image), "target": target, "method": args.method, "preset": preset.to_dict(),
         "options": {k: v for k, v in options.items() if k not in PLACEMENT_OPTIONS}, "caption": args.caption},
        sort_keys=True, default=str)))
    done, replace = _earlier_seeds(out, folders, config, files, args.overwrite) if several else ({}, {})
    for seed, folder in folders.items():  # never lose an earlier run, nor a file no run wrote
        if seed not in done:
            check_writable(folder, replace.get(seed, args.overwrite), files=files)
    for seed, record in done.items():
        print(f"seed {seed}: already done -> {folders[seed]} (kept, not recomputed)")
    todo = [seed for seed in seeds if seed not in done]
    if not todo:
        return list(folders.values())
    caption = args.caption
    if caption is None and done and args.method == "f2f":  # one temporal caption for every seed, as before
        caption = _caption_of(next(iter(done.values())))
    if several:
        write_json_atomic(out / SEEDS_FILE, config)
    if preset.is_tiny:
        print(TINY_NOTICE, file=sys.stderr)
    start = time.perf_counter()
    editor = make_editor(args.method, preset, **options)
    print(f"models ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if args.method == "f2f":
        results = editor.iter_seeds(image, target, todo, caption=caption, **_test_hold_at_step())
    else:
        results = (editor.edit(image, target, seed=seed) for seed in todo)
    saved = list(done)
    try:
        for seed, result in zip(todo, results):  # each seed is saved before the next is computed
            save_or_recover(result, folders[seed], overwrite=replace.get(seed, args.overwrite))
            saved.append(seed)
            if args.method != "f2f":
                print(f"seed {seed}: {args.method} -> {folders[seed]}")
                continue
            chosen = "kept the source (no frame completes the edit)" if result.index == 0 else f"frame {result.index} of {len(result.frames)}"
            print(f"seed {seed}: {chosen} -> {folders[seed]}")
            print(f"  temporal caption: {result.caption}")
    except BaseException:
        if several:
            left = [seed for seed in seeds if seed not in saved]
            print(f"f2f: seeds saved in {out}: {' '.join(map(str, sorted(saved))) or 'none'}; not done: "
                  f"{' '.join(map(str, left))}. Rerun the same command to compute only those.", file=sys.stderr)
        raise
    return list(folders.values())


SEEDS_FILE = "seeds.json"  # what a --seeds run edits, so that a rerun of the same command resumes it
PLACEMENT_OPTIONS = ("device", "offload", "vlm_options")  # where it runs, not what it computes: a resume may change them


def _earlier_seeds(out: Path, folders: dict[int, Path], config: dict, files, overwrite: bool):
    """({seed: record} of seeds a rerun keeps, {seed: overwrite} for the others) for a --seeds run into `out`.

    A seed is kept when OUT/seeds.json says the same edit and its folder is complete and readable;
    a damaged folder of that edit is recomputed (and replaced), saying so. A folder of another edit
    is refused unless `overwrite`.
    """
    try:
        earlier = json.loads((out / SEEDS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = None
    if overwrite or earlier != config:
        if earlier is not None and not overwrite and any((f / "record.json").exists() for f in folders.values()):
            different = sorted(k for k in config if not isinstance(earlier, dict) or earlier.get(k) != config[k])
            raise F2FError(f"'{out}' holds seeds of another edit (different {', '.join(different)}); "
                           "choose another --out, or pass --overwrite to recompute them.")
        return {}, {}
    done, replace = {}, {}
    for seed, folder in folders.items():
        recover_folder(folder)
        if not (folder / "record.json").exists():
            continue
        record, problem = _finished_seed(folder, config, seed)
        if record is not None:
            done[seed] = record
        else:
            print(f"seed {seed}: {folder} is damaged ({problem}); computing it again", file=sys.stderr)
            replace[seed] = True
    return done, replace


def _finished_seed(folder: Path, config: dict, seed: int):
    """(record, None) when `folder` holds this seed of this edit, whole and readable; else (None, what is wrong)."""
    try:
        record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "record.json is unreadable"
    if not isinstance(record, dict):
        return None, "record.json is not a record"
    inputs = record.get("inputs") or {}
    recorded_seed = (record.get("video") or {}).get("seed", (record.get("parameters") or {}).get("seed"))
    if inputs.get("image_sha256") != config["image_sha256"] or inputs.get("target") != config["target"] or recorded_seed != seed:
        return None, "its record.json is of another image, target or seed"
    missing = sorted(name for name in recorded_files(folder) if not (folder / name).is_file())
    if missing:
        return None, f"{', '.join(missing)} missing"
    try:
        load_image(folder / "edited.png")
    except (F2FError, OSError, ValueError):
        return None, "edited.png is unreadable"
    return record, None


def _caption_of(record: dict) -> Caption | None:
    """The temporal caption a finished seed used (None when its record has none)."""
    caption = record.get("caption") or {}
    if not isinstance(caption.get("text"), str):
        return None
    return Caption(text=caption["text"], captioner=str(caption.get("captioner", "given")),
                   record={k: v for k, v in caption.items() if k not in ("text", "captioner")})


def _test_hold_at_step() -> dict:
    """A test hook, off unless F2F_TEST_HOLD_AT_STEP names a file: at the first denoising step the
    edit creates that file and waits (at most 60 s) until the test deletes it, so that a test can
    signal the process at a known point whatever the machine's speed (tests/test_cli.py)."""
    flag = os.environ.get("F2F_TEST_HOLD_AT_STEP")
    if not flag:
        return {}

    def hold(pipe, step, timestep, callback_kwargs):
        if step == 0:
            Path(flag).touch()
            deadline = time.monotonic() + 60
            while Path(flag).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return callback_kwargs

    return {"callback_on_step_end": hold}
