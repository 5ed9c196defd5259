"""Tables a person can read in a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Aligned columns under a header line; `-` for an empty cell."""
    cells = [["-" if value in (None, "") else value for value in row] for row in rows]
    return tabulate(cells, headers=list(headers), tablefmt="simple", disable_numparse=True)
