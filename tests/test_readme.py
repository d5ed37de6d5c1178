"""Every `f2f ...` command in README.md's code blocks runs as written from a clean clone, or is
listed here with why it cannot run on a CPU offline.

The commands are read from the README itself (fenced blocks and 4-space indented blocks; a line
starting `f2f ` or `.venv/bin/f2f `, backslash continuations joined, comments dropped) and run
in-process through `f2f_lab.cli.main`, in README order, in a temporary folder laid out as the
repository's root (`data/` is this checkout's), offline (HF_HUB_OFFLINE=1). A new README command
must either run here or get an entry in NOT_HERE; an entry that matches no command fails too.
"""

from __future__ import annotations

import re
import shlex

import pytest

from conftest import REPO
from f2f_lab.cli import build_parser, main

README = REPO / "README.md"

# Commands that cannot run here: a fragment of the command (exactly one entry matches each) -> why.
NOT_HERE = {
    "--preset open": "GPU: CogVideoX-5B and Qwen2.5-VL-7B weights (about 40 GB download)",
    "--preset paper": "GPU and an OpenAI API key (GPT-4o)",
    "--vlm-base-url http://localhost": "a local OpenAI-compatible server (vLLM, Ollama, LM Studio) and a GPU",
    "--method sdedit": "the paper preset's Stable Diffusion 1.5 weights (download) and a GPU",
    "--method ledits": "the paper preset's Stable Diffusion 1.5 weights (download) and a GPU",
    "--method pix2pix-zero": "the paper preset's Stable Diffusion 1.4 weights (download) and a GPU",
    "--method flowedit": "FLUX.1-dev (gated download) and a GPU",
    "--methods f2f,chronoedit": "the peer editors' weights (downloads) and a GPU",
    "--captioner cot --latent-dropout 3": "the paper preset on a GPU with a VLM",
    "--preset ifedit": "Wan 2.2 A14B weights (download) and a GPU",
    "--data tedbench/": "TEdBench (download) and an OpenAI API key",
    "--utd-mhad UTD-MHAD/": "UTD-MHAD (download), a GPU and an OpenAI API key",
    "table runs/bench/tedbench/f2f-paper": "the results of the TEdBench run above",
    "table runs/bench/posedit/f2f-paper": "the results of the PosEdit run above",
    "manifold features --sets runs/manifold/sets": "the FLUX.1-dev image sets (GPU)",
    "manifold plot --sets runs/manifold/sets": "the FLUX.1-dev image sets and CogVideoX-5B (GPU)",
}

# Options appended to a runnable command to keep this test cheap, each one the README documents
# (the options table: `--steps`, `--caption`; the benchmark's `--limit`, `--seeds`, `--light`).
FEWER_STEPS = ["--steps", "1"]
CHEAPER = {
    "f2f demo": FEWER_STEPS,
    "--preset tiny-ifedit": FEWER_STEPS + ["--caption", "The cat slowly opens its mouth in a wide yawn."],  # no tiny VLM
    "bench tedbench --data data/samples/tedbench_sample": FEWER_STEPS + ["--limit", "1", "--seeds", "1", "--light", "--no-progress"],
}


def readme_commands(text: str) -> list[str]:
    """The `f2f` command lines of the README's code blocks, in order."""
    commands, fenced, pending = [], False, None
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if not (fenced or line.startswith("    ")):
            continue
        code = line.strip()
        if pending is not None:
            code = pending + " " + code
        elif not re.match(r"(\.venv/bin/)?f2f ", code):
            continue
        if code.endswith("\\"):
            pending = code[:-1].strip()
            continue
        pending = None
        commands.append(code)
    return commands


def argv_of(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    assert words[0] in ("f2f", ".venv/bin/f2f"), command
    return words[1:]


def matches(fragments, command: str) -> list[str]:
    return [fragment for fragment in fragments if fragment in command]


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
RUNNABLE = [command for command in COMMANDS if not matches(NOT_HERE, command)]


def test_every_readme_command_is_run_here_or_says_why_not():
    assert COMMANDS, "no f2f commands found in README.md"
    for command in COMMANDS:
        assert len(matches(NOT_HERE, command)) <= 1, f"more than one NOT_HERE entry matches: {command}"
    # What a newcomer tries first must stay runnable: the demo, an offline edit, a benchmark, the toy world.
    for kind in ("f2f demo", "--preset tiny-ifedit", "f2f bench tedbench", "f2f manifold plot --toy"):
        assert any(kind in command for command in RUNNABLE), f"no runnable README command with {kind!r}"
    stale = [fragment for fragment in NOT_HERE if not any(fragment in command for command in COMMANDS)]
    assert not stale, f"NOT_HERE entries that match no README command (remove them): {stale}"
    stale = [fragment for fragment in CHEAPER if not any(fragment in command for command in RUNNABLE)]
    assert not stale, f"CHEAPER entries that match no runnable README command (remove them): {stale}"


def test_every_readme_command_parses_and_names_files_a_clone_has():
    # The ones that cannot run here too: their options exist, and the images they name are bundled
    # or written by an earlier README command (its --out, as `f2f toy source --out runs/person.png`).
    written = set()
    for command in COMMANDS:
        argv = argv_of(command)
        try:
            build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"README command does not parse: {command}")
        written |= {argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "--out"}
        for word in argv:
            if re.search(r"\.(jpe?g|png)$", word, re.IGNORECASE) and word not in written:
                assert (REPO / word).is_file(), f"README command names '{word}', which a clone lacks: {command}"


def test_readme_commands_that_need_no_gpu_run_as_written(tmp_path, monkeypatch, capsys, one_torch_thread):
    (tmp_path / "data").symlink_to(REPO / "data", target_is_directory=True)  # the clone's root, as the README assumes
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for command in RUNNABLE:
        argv = argv_of(command) + [option for fragment in matches(CHEAPER, command) for option in CHEAPER[fragment]]
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 0, f"README command failed ({code}): {command}\n{err[-3000:]}"
        assert "Traceback" not in err, f"{command}\n{err[-3000:]}"
    # What the README says these commands write (the edit's default --out is runs/<image name>).
    for written in ("runs/demo/report.html", "runs/cat/edited.png", "runs/bench/tedbench/f2f-tiny/table.md",
                    "runs/manifold-toy/manifold.png", "runs/demo/toy/exact_path.png", "runs/person.png",
                    "runs/person-heart/edited.png"):
        assert (tmp_path / written).is_file(), f"{written} missing; wrote: {sorted(map(str, tmp_path.glob('runs/*/*')))}"
