"""A code location for the dead-run tests: a two-step job whose second step hangs on its first run.

Each step appends "<step> <run id>" to `$FAULTS_MARKER_FILE`, so a test sees which steps ran in
which run; the first attempt of `second` sleeps until it is killed, a retry finishes at once.
"""

import os
import time

import dagster as dg


def _mark(step: str, run_id: str) -> None:
    with open(os.environ["FAULTS_MARKER_FILE"], "a") as handle:
        handle.write(f"{step} {run_id}\n")


@dg.op
def first(context: dg.OpExecutionContext) -> int:
    _mark("first", context.run_id)
    return 1


@dg.op
def second(context: dg.OpExecutionContext, value: int) -> int:
    _mark("second", context.run_id)
    if context.run.parent_run_id is None:
        time.sleep(120)  # the run worker is killed here
    return value + 1


@dg.job(executor_def=dg.in_process_executor)
def hanging_job() -> None:
    second(first())


defs = dg.Definitions(jobs=[hanging_job])
