"""`ai-pipeline`: the one command-line tool for people (drop, status, backfill, review, page, serve,
stop, urls, promote).

Installed as a console script by `pip install -e .`; `ai-pipeline --help` lists the commands.
"""

from pipeline_defs.cli.app import cli, main
from pipeline_defs.cli.drop import drop_folder

__all__ = ["cli", "drop_folder", "main"]
