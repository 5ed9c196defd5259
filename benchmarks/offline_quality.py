"""Offline quality: the offline provider on requirement text nobody tuned for, against what a person expects.

Runs every project of `tests/quality_corpus/` and of `../shared/corpus/` through documents ->
requirements -> architecture -> story_builds -> validations in one process, starts each generated
backend in the sandbox and exercises it over HTTP, and prints per project: stories expected /
found / matched (and spurious, and texts that must not be stories), entities expected / matched,
field recall, operations matched, criteria covered by passing tests, whether the generated tests
pass, and per expected entity how many of the HTTP checks held (create, read, update, list, delete,
a create without a required field refused with 4xx, an unknown id answered 404), and, where the
contract has them, transitions (each reachable one moves the state; one not allowed from the
current state answers 409), filters and text search, and summaries. Then the totals.

    .venv/bin/python -m benchmarks.offline_quality [--projects todo-brief,helpdesk] [--no-http] [--details]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.quality import HTTP_CHECKS, ProjectScore, load_projects, measure  # noqa: E402

BEHAVIOUR_COLUMNS = ("transitions", "transition_refused", "search", "summaries")

COLUMNS = (
    ("project", 20),
    ("stories e/f/m", 14),
    ("recall", 7),
    ("spur", 5),
    ("bad", 4),
    ("entities e/m", 13),
    ("fields", 7),
    ("ops m/e", 8),
    ("criteria c/t", 13),
    ("tests", 6),
    ("http ok/e", 10),
    ("checks", 8),
    ("trans", 6),
    ("refuse", 7),
    ("search", 7),
    ("summ", 6),
    ("ui", 7),
    ("s", 6),
)


def _http_checks(score: ProjectScore) -> tuple[int, int]:
    held = total = 0
    for entity in score.entities:
        for check in HTTP_CHECKS:
            value = entity.http.get(check)
            if check == "refuses_missing_field" and value is None and entity.http:
                continue
            total += 1
            held += bool(value)
    return held, total


def _behaviour(scores: list[ProjectScore], check: str) -> tuple[int, int]:
    """(held, tried) over the matched entities: transitions counted one by one, the others per entity."""
    held = tried = 0
    for score in scores:
        for entity in score.entities:
            if check in entity.behaviour_counts:
                done, total = entity.behaviour_counts[check]
                held, tried = held + done, tried + total
            elif entity.behaviour.get(check) is not None:
                held, tried = held + bool(entity.behaviour[check]), tried + 1
    return held, tried


def _behaviour_cells(scores: list[ProjectScore]) -> list[str]:
    cells = []
    for check in BEHAVIOUR_COLUMNS:
        held, tried = _behaviour(scores, check)
        cells.append(f"{held}/{tried}" if tried else "-")
    return cells


def row(score: ProjectScore) -> list[str]:
    held, total = _http_checks(score)
    return [
        score.slug + ("*" if score.shared else "") + ("+" if score.held_out else ""),
        f"{score.stories_expected}/{score.stories_found}/{score.stories_matched}",
        f"{score.story_recall:.2f}",
        str(len(score.stories_spurious)),
        str(len(score.not_story_violations)),
        f"{len(score.entities)}/{score.entities_matched}",
        f"{score.field_recall:.2f}",
        f"{score.operations_matched}/{score.operations_expected}",
        f"{score.criteria_covered}/{score.criteria_total}",
        "pass" if score.app_tests_pass else "FAIL",
        f"{score.http_entities_ok}/{len(score.entities)}",
        f"{held}/{total}",
        *_behaviour_cells([score]),
        f"{score.frontend.shown}/{score.frontend.total}",
        f"{score.seconds:.0f}",
    ]


def totals(scores: list[ProjectScore], label: str = "TOTAL") -> list[str]:
    stories = [
        sum(getattr(s, name) for s in scores)
        for name in ("stories_expected", "stories_found", "stories_matched")
    ]
    fields_expected = sum(e.fields_expected for s in scores for e in s.entities)
    fields_found = sum(len(e.fields_found) for s in scores for e in s.entities)
    checks = [_http_checks(s) for s in scores]
    return [
        f"{label} ({len(scores)})",
        "/".join(map(str, stories)),
        f"{stories[2] / stories[0]:.2f}" if stories[0] else "-",
        str(sum(len(s.stories_spurious) for s in scores)),
        str(sum(len(s.not_story_violations) for s in scores)),
        f"{sum(len(s.entities) for s in scores)}/{sum(s.entities_matched for s in scores)}",
        f"{fields_found / fields_expected:.2f}" if fields_expected else "-",
        f"{sum(s.operations_matched for s in scores)}/{sum(s.operations_expected for s in scores)}",
        f"{sum(s.criteria_covered for s in scores)}/{sum(s.criteria_total for s in scores)}",
        f"{sum(s.app_tests_pass for s in scores)}/{len(scores)}",
        f"{sum(s.http_entities_ok for s in scores)}/{sum(len(s.entities) for s in scores)}",
        f"{sum(h for h, _ in checks)}/{sum(t for _, t in checks)}",
        *_behaviour_cells(scores),
        f"{sum(s.frontend.shown for s in scores)}/{sum(s.frontend.total for s in scores)}",
        f"{sum(s.seconds for s in scores):.0f}",
    ]


def print_table(scores: list[ProjectScore]) -> None:
    print("".join(f"{name:<{width}}" for name, width in COLUMNS))
    groups = [
        ("written here", [s for s in scores if not s.shared and not s.held_out]),
        ("held out", [s for s in scores if s.held_out]),
        ("real", [s for s in scores if s.shared]),
    ]
    subtotals = [totals(group, label) for label, group in groups if group and len(group) < len(scores)]
    for values in [*(row(score) for score in scores), *subtotals, totals(scores)]:
        print("".join(f"{value:<{width}}" for value, (_, width) in zip(values, COLUMNS, strict=True)))
    print(
        "\nstories e/f/m: expected / found / matched; spur: found stories matching no expected one;"
        " bad: stories holding an out-of-scope text or filler;"
        " fields: recall of expected fields on matched entities;"
        " ops: expected operations in the contract; criteria: covered by passing tests / all; tests: the"
        " generated tests pass; http ok/e: expected entities whose CRUD and refusals all held over HTTP;"
        " checks: HTTP checks held; trans: transitions that moved the state over HTTP / transitions in"
        " the contract; refuse: entities whose not-allowed transition got 409; search: list filters and"
        " text searches that found the record and left it out for other values; summ: summary"
        " operations answering rows of {group, value}; ui: entities, transitions and summaries of the"
        " contract the generated page offers;"
        " * = ../shared/corpus (real documents); + = held out (kept off main"
        " until the final measurement, so no rule could have been written against it)."
    )


def print_details(score: ProjectScore) -> None:
    print(f"\n## {score.slug}  (run success: {score.run_success}; failed checks: {score.failed_checks})")
    if score.stories_missing:
        print("  missing stories:", "; ".join(score.stories_missing[:15]))
    if score.stories_spurious:
        print("  spurious:", "; ".join(score.stories_spurious[:10]))
    for violation in score.not_story_violations[:10]:
        print("  must not be a story:", violation)
    if score.priorities_expected:
        print(f"  priorities right: {score.priorities_right}/{score.priorities_expected}")
    for entity in score.entities:
        print(
            f"  {entity.expected} -> {entity.matched}: fields {entity.fields_found}"
            f" missing {entity.fields_missing} wrong types {entity.types_wrong};"
            f" operations missing {entity.operations_missing}; http {entity.http};"
            f" beyond CRUD {entity.behaviour_counts or entity.behaviour}"
        )
        for check, why in entity.http_detail.items():
            print(f"      {check}: {why}")
    if score.http_problem:
        print("  http:", score.http_problem)
    if score.frontend.missing:
        print("  not on the page:", ", ".join(score.frontend.missing[:10]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="", help="comma-separated slugs (default: all)")
    parser.add_argument("--no-http", action="store_true", help="skip starting the generated backends")
    parser.add_argument("--details", action="store_true", help="what was missed, per project")
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    args = parser.parse_args()
    wanted = {slug for slug in args.projects.split(",") if slug}
    projects = [project for project in load_projects() if not wanted or project.slug in wanted]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="offline-quality-") as tmp:
        scores = [score for _, score in measure(projects, Path(tmp), http=not args.no_http)]
    print_table(scores)
    if args.details:
        for score in scores:
            print_details(score)
    print(f"\n{len(scores)} projects in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([score.model_dump(mode="json") for score in scores], indent=2))


if __name__ == "__main__":
    main()
