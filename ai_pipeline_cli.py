"""Entry point of the `ai-pipeline` console script.

The project installs no packages into site-packages (the generic names `assets`, `resources`, `sensors`
must not leak into other projects), only this one module, and in editable mode it stays in the
checkout: so it puts the checkout on `sys.path` and hands over to `pipeline_defs.cli`.
"""

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent


def main() -> int:
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from pipeline_defs.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
