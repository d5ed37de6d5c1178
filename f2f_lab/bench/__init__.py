"""Benchmarks: TEdBench and PosEdit tasks, the resumable seed-sweep runner, Tables 1 and 2.

    from f2f_lab.bench import tedbench, posedit, runner, tables
    tasks = tedbench.load("tedbench/")
    runner.run_benchmark(tasks, "runs/bench/tedbench/f2f-paper", benchmark="tedbench")
    print(tables.build_table(["runs/bench/tedbench/f2f-paper"]).to_markdown())

The same from a shell: `f2f bench tedbench|posedit|table` (see `f2f_lab.cli.bench`).
"""

from .tasks import BenchTask  # noqa: F401
