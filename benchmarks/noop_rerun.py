"""No-op re-run: wall time and model calls of re-materialising an unchanged project.

Baseline: the first (cold) run of the same project in the same process. Prints both, and the ratio.

    .venv/bin/python benchmarks/noop_rerun.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.pipeline import example_harness, materialization_metadata  # noqa: E402

PROJECT = "acme-tasks"


def _model_calls(result: dg.ExecuteInProcessResult) -> int:
    return sum(
        int(materialization_metadata(result, asset)["llm_model_calls"])
        for asset in ("requirements", "architecture", "story_builds")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, example_harness(Path(tmp) / "var", PROJECT) as harness:
        started = time.perf_counter()
        cold = harness.run(PROJECT)
        cold_seconds = time.perf_counter() - started
        rows = [("cold run (baseline)", cold_seconds, _model_calls(cold))]
        for attempt in range(args.repeats):
            started = time.perf_counter()
            rerun = harness.run(PROJECT)
            rows.append((f"no-op re-run #{attempt + 1}", time.perf_counter() - started, _model_calls(rerun)))
    print(f"{'run':<24}{'seconds':>10}{'model calls':>14}{'ratio to cold':>16}")
    for name, seconds, calls in rows:
        print(f"{name:<24}{seconds:>10.2f}{calls:>14}{seconds / cold_seconds:>16.2f}")


if __name__ == "__main__":
    main()
