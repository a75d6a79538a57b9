"""The ``provsdk`` entry point: the command group, shared options, and the error boundary.

Exit codes: 0 every file passes; 1 a verification or policy failure; 2 a usage error or an
unreadable/unsupported input; 3 a provider or network failure. Errors are one line on stderr
naming the file and the cause, followed by a ``hint:`` line when there is advice;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from typing import Any

import click

from provsdk import __version__
from provsdk.errors import ProvsdkError
from provsdk.inert import inert
from provsdk_cli import disclosure, generate, grant, inspect, keys, serve, sign, trust, verify
from provsdk_cli.render import error_line

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_PROVIDER", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROVIDER = 0, 1, 2, 3


class _Group(click.Group):
    """Turns every error into one line on stderr and the contract's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # One line, as every error: the command's --help has the rest.
            where = exc.ctx.command_path if exc.ctx else "provsdk"
            click.echo(error_line(f"{exc.format_message()} (see '{where} --help')"), err=True)
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
    click.echo(error_line(line), err=True)
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


cli.add_command(keys.keys)
cli.add_command(generate.generate)
cli.add_command(sign.sign)
cli.add_command(verify.verify)
cli.add_command(inspect.inspect)
cli.add_command(disclosure.disclosure)
cli.add_command(grant.grant)
cli.add_command(serve.serve)
cli.add_command(trust.trust)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    # Warnings are for people here: one line, no source location.
    click.echo(error_line(f"warning: {message}"), err=True)


def main() -> None:
    warnings.showwarning = _one_line_warning
    # c2pa logs a signer callback's failure itself; we report it once, as our one-line error.
    logging.getLogger("c2pa").addHandler(logging.NullHandler())
    logging.getLogger("c2pa").propagate = False
    cli(prog_name="provsdk")
