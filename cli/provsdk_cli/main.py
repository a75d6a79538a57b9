"""The ``provsdk`` entry point: the command group, shared options, and the error boundary.

Exit codes: 0 every file passes; 1 a verification or policy failure; 2 a usage error or an
unreadable/unsupported input; 3 a provider or network failure. Errors are one line on stderr
naming the file and the cause, followed by a ``hint:`` line when there is advice;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
import warnings
from typing import Any

import click

from provsdk._version import __version__
from provsdk.errors import ProvsdkError
from provsdk.inert import inert

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_OK", "EXIT_PROVIDER", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROVIDER = 0, 1, 2, 3

# Each command group, by name, with the short help `provsdk --help` shows. A command's module
# (``provsdk_cli.<name>``, defining the command ``<name>``) is imported only when the command
# runs, so `provsdk --version` and `provsdk verify` do not pay for what the others import. A
# test checks each short help against its command's own, so the two cannot drift apart.
COMMANDS: dict[str, str] = {
    "disclosure": "Training-data disclosures, signed by the model's provider.",
    "export": "Export verified files for distributors (DDEX).",
    "generate": "Generate PROMPT into OUT with a signed C2PA manifest, then verify it.",
    "grant": "Written rights grants (W3C ODRL agreements), signed by the licensor.",
    "inspect": "Show the C2PA manifest store of FILE as c2pa reads it (offline).",
    "keys": "Keys and certificates of the three signing roles.",
    "repo": "Manifest repositories: find a signed file's manifest again from its sound.",
    "serve": "Serve the licensed generator protocol with the local generator.",
    "sign": "Sign SOURCE into OUT with a C2PA manifest.",
    "trust": "The certificates each role's signatures are checked against (PROVSDK_HOME/trust).",
    "verify": "Verify the credentials of FILEs, or of the audio files in DIRs.",
}


def _error_line(message: object) -> str:
    # Only on the way out with an error: the renderer's imports are not paid on every start.
    from provsdk_cli.render import error_line

    return error_line(message)


class _Group(click.Group):
    """Loads each command on first use; turns every error into one line on stderr and the
    contract's exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = getattr(
            importlib.import_module(f"provsdk_cli.{cmd_name}"), cmd_name
        )
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The table, not the modules: `provsdk --help` imports none of them.
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        # A bare Command shortens the help exactly as the real one would.
        rows = [
            (name, click.Command(name, help=COMMANDS[name]).get_short_help_str(limit))
            for name in sorted(COMMANDS)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # One line, as every error: the command's --help has the rest.
            where = exc.ctx.command_path if exc.ctx else "provsdk"
            click.echo(_error_line(f"{exc.format_message()} (see '{where} --help')"), err=True)
            ctx.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except ProvsdkError as exc:
            _report(ctx, exc, str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("provsdk: interrupted; nothing was left half-written", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug of ours: still one line, the traceback on request
            _report(ctx, exc, f"internal error: {type(exc).__name__}: {exc}")
            ctx.exit(EXIT_USAGE)


def _report(ctx: click.Context, exc: BaseException, line: str) -> None:
    if (ctx.obj or {}).get("debug"):
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(_error_line(line), err=True)
    # The hint (what to do next) always follows the error line: it is the useful part.
    hint = getattr(exc, "hint", None)
    if hint:
        click.echo(f"hint: {' '.join(inert(hint).split())}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="provsdk")
@click.option("--debug", is_flag=True, help="Print tracebacks with errors.")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="PROVSDK_HOME",
    help="Folder of keys and trust stores (default: $PROVSDK_HOME or the user data folder).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, home: str | None) -> None:
    """AI-generated music that carries its own evidence: generate, sign, verify."""
    ctx.obj = {"debug": debug, "home": home}


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    # Warnings are for people here: one line, no source location.
    click.echo(_error_line(f"warning: {message}"), err=True)


def main() -> None:
    warnings.showwarning = _one_line_warning
    # c2pa logs a signer callback's failure itself; we report it once, as our one-line error.
    logging.getLogger("c2pa").addHandler(logging.NullHandler())
    logging.getLogger("c2pa").propagate = False
    cli(prog_name="provsdk")
