"""Benchmark of the install cache: validations of an unchanged project, cold versus cached.

The project has a Python component (the FastAPI fixture: fastapi, uvicorn, httpx, pytest from the
package index) and a Node component (the Express fixture: express from the npm registry). Each
round is what validations do per component: install (`install_and_test`, which reuses the cached
environment when the dependency files are unchanged), run the tests in the sandbox, and start the
backends by their manifest for the contract check.

  cold     an empty install cache (nothing downloaded, nothing installed)
  cached   the same project again: the environments come from the cache

Needs the package registries (PyPI, npm). Run from the repository root:
  .venv/bin/python -m benchmarks.install_cache [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.validations.backend_check import check_backend_contract  # noqa: E402
from assets.validations.components import InstallAndTestResult, install_and_test  # noqa: E402
from assets.validations.install import environment_for  # noqa: E402
from pipeline_core.repository.manifest import MANIFEST_PATH, Manifest, render_manifest  # noqa: E402
from tests.fixtures.components.trees import (  # noqa: E402
    EXPRESS,
    FASTAPI,
    HERE,
    TASKS_OPENAPI,
    folder_tree,
)


def project_tree() -> tuple[dict[str, str], Manifest]:
    tree = {**folder_tree(HERE / "fastapi_backend"), **folder_tree(HERE / "express_backend")}
    manifest = Manifest(generator="bench-1", project="bench", components=[FASTAPI, EXPRESS])
    tree[MANIFEST_PATH] = render_manifest(manifest)
    return tree, manifest


def validate(tree: dict[str, str], manifest: Manifest, cache: Path) -> tuple[float, InstallAndTestResult]:
    started = time.monotonic()
    result = install_and_test(tree, manifest, cache_dir=cache)
    if not result.ok:
        raise SystemExit(f"the project does not pass its tests:\n{result.output()}")
    for component in manifest.components:
        outcome = result.outcome(component.name)
        assert outcome is not None and outcome.install is not None
        contract = check_backend_contract(
            tree, TASKS_OPENAPI, component, environment_for(component, Path(outcome.install.environment)), 60
        )
        if not contract.ok:
            raise SystemExit(f"{component.name} does not match its contract: {contract.mismatches}")
    return time.monotonic() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="cached rounds after the cold one")
    args = parser.parse_args()
    tree, manifest = project_tree()
    cache = Path(tempfile.mkdtemp(prefix="install-cache-bench-"))
    try:
        cold, result = validate(tree, manifest, cache)
        installs = {
            item.component: (item.install.status, item.install.duration_s) for item in result.components
        }
        cached_runs, cached_installs = [], []
        for _ in range(args.rounds):
            seconds, again = validate(tree, manifest, cache)
            assert all(item.install.status == "cached" for item in again.components)
            cached_runs.append(seconds)
            cached_installs.append(sum(item.install.duration_s for item in again.components))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    cached = statistics.median(cached_runs)
    print("validations of an unchanged project (FastAPI backend + Express backend): install, tests, contract")
    for name, (status, seconds) in installs.items():
        print(f"  cold install of {name:<8} {status:<10} {seconds:7.1f} s")
    rounds = ", ".join(f"{seconds:.1f}" for seconds in cached_runs)
    print(f"  cold     {cold:7.1f} s")
    print(f"  cached   {cached:7.1f} s   (median of {len(cached_runs)}: {rounds})")
    print(f"  ratio    {cold / cached:7.1f}x  (cold / cached)")
    cold_install = sum(seconds for _, seconds in installs.values())
    print(
        f"  the install step alone: cold {cold_install:.1f} s, cached "
        f"{statistics.median(cached_installs):.3f} s (a cache hit is a lookup of the key)"
    )


if __name__ == "__main__":
    main()
