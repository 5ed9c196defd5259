"""The `ai-pipeline` command group: settings for every command, one-line errors, a closed pipe."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from pipeline_core.partitions import InvalidProjectName
from pipeline_core.settings import Settings
from resources.forge.base import ForgeError


class CliError(click.ClickException):
    """Bad input or a missing thing, said in one line (exit code 1)."""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.pass_context
def cli(context: click.Context) -> None:
    """Drop documents, follow and backfill projects, review their pull requests, open their pages and
    the deployed applications.

    Reads the same environment variables as the code location (README, "Settings"); run it from the
    checkout, where `./var` is the default data folder.
    """
    context.obj = Settings()


def _register() -> None:
    from pipeline_defs.cli import backfill, drop, hosting, page, review, status

    for command in (
        drop.drop,
        status.status,
        backfill.backfill,
        review.review,
        page.page,
        hosting.serve,
        hosting.stop,
        hosting.urls,
        hosting.promote,
    ):
        cli.add_command(command)


_register()


def _quiet_stdout() -> None:
    """After the reader of our output went away: send what is still buffered nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 bad usage)."""
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None, prog_name="ai-pipeline", standalone_mode=False
        )
        sys.stdout.flush()
    except BrokenPipeError:
        # Like click's own handling of a closed pipe: no traceback, exit status 1.
        _quiet_stdout()
        return 1
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        print("error: aborted", file=sys.stderr)
        return 1
    except click.UsageError as error:
        where = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        print(f"error: {error.format_message()}{where}", file=sys.stderr)
        return 2
    except click.ClickException as error:
        print(f"error: {error.format_message()}", file=sys.stderr)
        return error.exit_code
    except (ForgeError, InvalidProjectName) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0
