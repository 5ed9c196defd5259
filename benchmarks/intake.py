"""Benchmark of the documents stage against plain single-process pymupdf text extraction.

Generates a corpus (PDFs plus some DOCX, VTT, Markdown and e-mail files) in a temporary folder, then
measures, in this one process:

  baseline   open each PDF with pymupdf and call get_text() on every page, one process
  cold       ingest_project() on a LocalObjectStore with no previous snapshot (lists, reads, hashes,
             parses in parallel, stores every parsed version as JSON, builds the snapshot)
  PDFs only  the same cold stage on a project holding only the baseline's PDFs: the like-for-like
             speed-up (baseline seconds / stage seconds), which the intake goal is stated in
  re-run     ingest_project() again with nothing changed

Run from the repository root:  .venv/bin/python -m benchmarks.intake [--pdfs 200] [--pages 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.documents.intake import IntakeResult, ingest_project, resolve_workers  # noqa: E402
from resources.object_store import LocalObjectStore  # noqa: E402
from tests.support.corpus import (  # noqa: E402
    MARKDOWN,
    docx_bytes,
    eml_bytes,
    pdf_bytes,
    vtt_text,
    write_files,
)

PROJECT = "bench"
PDF_PROJECT = "bench-pdfs"  # the same PDFs alone, for the like-for-like speed-up


def page_text(document: int, page: int) -> str:
    lines = [
        f"Document {document}, page {page}: requirement {line}. The system shall keep order {line} "
        f"for customer {document * 100 + line} and notify the account manager."
        for line in range(40)
    ]
    return "\n".join(lines)


def build_corpus(root: Path, pdfs: int, pages: int, others: int) -> list[Path]:
    files: dict[str, bytes] = {}
    for number in range(pdfs):
        files[f"pdf/spec-{number:04d}.pdf"] = pdf_bytes(
            [page_text(number, p) for p in range(pages)], f"Spec {number}"
        )
    for number in range(others):
        files[f"docx/plan-{number:03d}.docx"] = docx_bytes(
            [("heading1", f"Plan {number}")] + [("paragraph", page_text(number, p)) for p in range(3)]
        )
        cues = [
            (f"00:00:{s:02d}.000", f"00:00:{s + 1:02d}.000", f"<v Alice>Point {s} of meeting {number}.</v>")
            for s in range(50)
        ]
        files[f"meetings/meeting-{number:03d}.vtt"] = vtt_text(cues).encode()
        files[f"notes/notes-{number:03d}.md"] = MARKDOWN.encode()
        files[f"mail/mail-{number:03d}.eml"] = eml_bytes(subject=f"Mail {number}", body=page_text(number, 0))
    write_files(root / "inbox" / PROJECT, files)
    write_files(
        root / "inbox" / PDF_PROJECT, {name: data for name, data in files.items() if name.startswith("pdf/")}
    )
    return sorted((root / "inbox" / PROJECT / "pdf").glob("*.pdf"))


def baseline(paths: list[Path]) -> int:
    import pymupdf

    characters = 0
    for path in paths:
        with pymupdf.open(path) as doc:
            for page in doc:
                characters += len(page.get_text())
    return characters


def ceiling(paths: list[Path], workers: int) -> int:
    """The baseline split over `workers` plain forked processes, nothing else: what the cores allow.

    On a machine whose cores are hyperthreads of fewer physical cores (or are shared with other
    work), this is well below `workers` times the baseline; the stage cannot beat it.
    """
    import multiprocessing

    shares = [paths[index::workers] for index in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.map(baseline, shares))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (the parser pool's)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(function, *args, **kwargs) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds, return value)"""
    cpu, start = cpu_seconds(), time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - start, cpu_seconds() - cpu, value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pdfs", type=int, default=200, help="number of PDFs (default 200)")
    parser.add_argument("--pages", type=int, default=10, help="pages per PDF (default 10)")
    parser.add_argument(
        "--others", type=int, default=10, help="DOCX, VTT, Markdown and e-mail files of each kind"
    )
    parser.add_argument("--workers", type=int, default=0, help="parser processes (0: one per core)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        print(f"building corpus: {args.pdfs} PDFs x {args.pages} pages + {4 * args.others} other files ...")
        pdf_paths = build_corpus(root, args.pdfs, args.pages, args.others)
        inbox = LocalObjectStore(root=str(root / "inbox"))
        total_files = args.pdfs + 4 * args.others
        workers = resolve_workers(args.workers)

        # Measurements alternate so that load from other processes on the machine hits them alike.
        runs: dict[str, list[tuple[float, float]]] = {
            "baseline": [],
            "ceiling": [],
            "cold": [],
            "pdfs": [],
            "rerun": [],
        }
        for attempt in range(args.repeat):
            wall, cpu, _ = timed(baseline, pdf_paths)
            runs["baseline"].append((wall, cpu))
            wall, cpu, _ = timed(ceiling, pdf_paths, workers)
            runs["ceiling"].append((wall, cpu))
            artifacts_root = root / f"artifacts-{attempt}"
            artifacts = LocalObjectStore(root=str(artifacts_root))
            wall, cpu, result = timed(
                ingest_project, PROJECT, inbox, artifacts, None, 50 * 1024 * 1024, args.workers, "bench"
            )
            assert isinstance(result, IntakeResult)
            assert result.parsed == total_files and result.rejected == 0, result.rejected
            runs["cold"].append((wall, cpu))
            previous = result.snapshot
            wall, cpu, again = timed(
                ingest_project, PROJECT, inbox, artifacts, previous, 50 * 1024 * 1024, args.workers, "bench"
            )
            assert isinstance(again, IntakeResult) and again.parsed == 0 and again.unchanged == total_files
            assert again.snapshot.data_version() == result.snapshot.data_version()
            runs["rerun"].append((wall, cpu))
            wall, cpu, alone = timed(
                ingest_project, PDF_PROJECT, inbox, artifacts, None, 50 * 1024 * 1024, args.workers, "bench"
            )
            assert isinstance(alone, IntakeResult) and alone.parsed == args.pdfs and alone.rejected == 0
            runs["pdfs"].append((wall, cpu))
            shutil.rmtree(artifacts_root)

        best = {name: min(values) for name, values in runs.items()}  # the run least disturbed by others
        rows = [
            ("baseline: pymupdf get_text, 1 process", args.pdfs, best["baseline"]),
            (f"ceiling: the baseline split over {workers} processes", args.pdfs, best["ceiling"]),
            (f"documents stage, cold ({workers} workers)", total_files, best["cold"]),
            ("documents stage, re-run, nothing changed", total_files, best["rerun"]),
            (f"documents stage, cold, the {args.pdfs} PDFs only", args.pdfs, best["pdfs"]),
        ]
        base, cold, rerun, pdfs = best["baseline"][0], best["cold"][0], best["rerun"][0], best["pdfs"][0]
        print(f"\ncores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, best of {args.repeat} runs")
        print(f"(first cold run, which also imports the parser libraries: {runs['cold'][0][0]:.3f} s)\n")
        print(f"{'measurement':<44} {'files':>6} {'seconds':>9} {'files/s':>9} {'CPU s':>7}")
        for name, files, (seconds, cpu) in rows:
            print(f"{name:<44} {files:>6} {seconds:>9.3f} {files / seconds:>9.1f} {cpu:>7.2f}")
        others = total_files - args.pdfs
        print(
            f"\nratio stage cold / baseline:  {cold / base:.2f}  (the stage also parses {others} other files)"
        )
        print(f"ratio re-run / stage cold:    {rerun / cold:.4f}")
        print(f"ratio re-run / baseline:      {rerun / base:.4f}")
        print(f"speed-up on the same {args.pdfs} PDFs (baseline / stage): {base / pdfs:.2f}x")
        top = best["ceiling"][0]
        print(
            f"what {workers} processes allow here (baseline / ceiling): {base / top:.2f}x; "
            f"the stage reaches {top / pdfs:.0%} of it"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
