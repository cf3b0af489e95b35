"""What every `hub` command prints with, and the one edge where an error becomes a message and an exit code.

Source text (column headers, sample values, record ids, a source's error messages, file names,
quarantine reasons) is data, not rich markup: a header `[/bold]` must print as itself, not crash
the printer, and `:x:` must not become an emoji. So the consoles here have emoji off, and every
piece of text that did not come from the hub's own code goes through `source_text` before it is
put into a markup string or a table cell.

An operator never reads a Python traceback unless asked (`hub -v`): `describe_failure` turns any
exception into one line that names what was wrong, where, and what to do, and an exit code:

    0  done
    1  the work failed: a source did not ingest, `hub mappings check` found errors (a mapping file
       that does not load included), a source could not be read for check or preview
    2  a usage or configuration mistake: a wrong option or argument, a HUB_ setting that is missing
       or malformed (HUB_SECRET_KEY not base64, HUB_BATCH_SIZE not a positive number), a missing
       connection, a record key that names no record
    3  the store cannot be used: HUB_DATABASE_URL names a server that does not answer, a database
       that does not exist, or refuses the credentials or the rights the hub needs
    4  an unexpected error (a bug, or a race between two writers): run again with -v and report the
       traceback; a store error of this kind (IntegrityError, DataError, ProgrammingError) is named by
       its type and place only, even with -v, because the driver's text may quote the value it refused
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import exc as sa_exc
from typer.core import TyperGroup

from hub.errors import ConnectorError, FormError, HubError, MappingError, RuleError
from hub.store.engine import driver_message


class ExitCode(IntEnum):
    """The documented exit codes of `hub` (README, docs/operator-guide.md)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    STORE = 3
    INTERNAL = 4
    INTERRUPTED = 130


def _console(stderr: bool = False) -> Console:
    """Emoji off, so `:x:` in a value stays `:x:`; piped output (make run, a log file) gets 160 columns
    instead of rich's 80-column default, so names are not cut."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, emoji=False)
    return Console(stderr=stderr, emoji=False, width=160)


console = _console()
err = _console(stderr=True)


def folding_table(*headers: str, **options: Any) -> Table:
    """A table whose cells fold onto further lines when space runs out, never cut with `…`: a source id,
    a field name or a count cut short misleads (`disability.sta…`)."""
    made = Table(**options)
    for header in headers:
        made.add_column(header, overflow="fold")
    return made


def source_text(value: object) -> str:
    """Text that came from outside the hub's code, escaped so that rich prints it exactly as it is."""
    return "" if value is None else escape(str(value))


@dataclass(frozen=True)
class Failure:
    message: str
    code: ExitCode


def _store_url() -> str:
    """HUB_DATABASE_URL as the operator set it, with the password hidden."""
    from sqlalchemy.engine import make_url

    from hub.settings import HubSettings

    try:
        url = HubSettings().database_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:   # the URL itself is what is wrong: do not echo it (it may hold a password)
        return "(as set)"


_INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE for a role without the rights the hub needs: psycopg raises it as a ProgrammingError,
but it is the store's setup, not the hub's code, that is wrong."""


def _store_unusable(exc: sa_exc.SQLAlchemyError) -> bool:
    """Errors that say the store cannot be used (server, database, credentials, rights, URL, driver); every
    other SQLAlchemy error (IntegrityError, DataError, ProgrammingError, …) is a bug or a race."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.ArgumentError,
                        sa_exc.NoSuchModuleError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and getattr(exc.orig, "sqlstate", None) == _INSUFFICIENT_PRIVILEGE


def _quotes_values(exc: BaseException) -> bool:
    """A statement's error other than the store being unusable: the driver's text may quote the value it
    refused (psycopg: `invalid input syntax for type bigint: "650102…"`, a key's DETAIL line), so it is
    never printed, not even in a traceback."""
    return isinstance(exc, sa_exc.StatementError) and not _store_unusable(exc)


def _store_failure(exc: sa_exc.SQLAlchemyError) -> Failure:
    where = f"HUB_DATABASE_URL={_store_url()}"
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)):
        # SQLAlchemy's own message quotes the whole URL, password included: it is not repeated
        return Failure("HUB_DATABASE_URL is not a SQLAlchemy URL of an installed driver; set it to e.g. "
                       "postgresql+psycopg://user@host/db or sqlite:///var/hub.db", ExitCode.USAGE)
    detail = driver_message(exc) if isinstance(exc, sa_exc.DBAPIError) else type(exc).__name__
    lowered = detail.lower()
    if any(w in lowered for w in ("password", "authentication", "access denied")) or (
            "role" in lowered and "does not exist" in lowered):
        hint = "fix the user or password in HUB_DATABASE_URL"
    elif any(w in lowered for w in ("does not exist", "unknown database", "unable to open database")):
        hint = "create the database (e.g. `createdb NAME`), or point HUB_DATABASE_URL at an existing one"
    elif any(w in lowered for w in ("refused", "could not connect", "timeout", "timed out", "resolve host",
                                    "connection failed")):
        hint = "start the database server, or fix host and port in HUB_DATABASE_URL"
    else:
        hint = "check the database server and HUB_DATABASE_URL"
    return Failure(f"the store cannot be used: {where}: {detail}; {hint}", ExitCode.STORE)


def _settings_failure(exc: ValidationError) -> Failure:
    """A HUB_ setting that does not validate, named as the environment variable the operator sets.
    The value is not repeated: it may be a key or a URL holding a password."""
    problems = []
    for error in exc.errors():
        name = "HUB_" + "_".join(str(part) for part in error["loc"][:1]).upper() if error["loc"] else "a HUB_ setting"
        problems.append(f"{name} is not valid: {error['msg']}")
    fix = "set it to a valid value or unset it (README, Configuration)"
    return Failure("; ".join(problems) + f"; {fix}", ExitCode.USAGE)


_PROJECT = Path(__file__).resolve().parents[1]


def _innermost(exc: BaseException) -> str:
    """Where the error arose: the innermost frame of the hub's own code (a store error's innermost frame is
    deep in SQLAlchemy or the driver, which says nothing about which of the hub's statements failed)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_PROJECT)
            and "site-packages" not in Path(f.filename).parts]
    last = (ours or frames)[-1]
    return f" in {Path(last.filename).name}:{last.lineno}"


def describe_failure(exc: BaseException) -> Failure:
    """One line and an exit code for any error that reaches the command line (see the module text)."""
    if isinstance(exc, KeyboardInterrupt):
        return Failure("interrupted: batches committed so far are kept; the next run resumes after them",
                       ExitCode.INTERRUPTED)
    if isinstance(exc, (MappingError, RuleError, FormError, ConnectorError)):
        return Failure(str(exc), ExitCode.FAILED)
    if isinstance(exc, HubError):   # ConfigurationError, ReviewError, …: what the operator asked or set
        return Failure(str(exc), ExitCode.USAGE)
    if isinstance(exc, ValidationError) and exc.title == "HubSettings":
        return _settings_failure(exc)
    if isinstance(exc, sa_exc.SQLAlchemyError) and _store_unusable(exc):
        return _store_failure(exc)
    # A bug: the message of an unexpected exception may quote a value, so only its type and place are shown.
    return Failure(f"unexpected error {type(exc).__name__}{_innermost(exc)}; run again with -v for the traceback "
                   "and report it", ExitCode.INTERNAL)


_verbose = False
"""`hub -v` was given: failures print their traceback too (set by HubGroup for the running command)."""


def report_failure(exc: BaseException, *, verbose: bool | None = None) -> ExitCode:
    """Print the failure's line on standard error (the traceback before it with -v); returns its exit code."""
    failure = describe_failure(exc)
    if verbose if verbose is not None else _verbose:
        _print_traceback(exc)
    err.print(f"[red]error:[/red] {source_text(failure.message)}", highlight=False, soft_wrap=True)
    return failure.code


def _print_traceback(exc: BaseException) -> None:
    """The traceback on standard error; of an error whose text may quote a value (`_quotes_values`), and of
    the driver's errors chained to it, the frames and types only."""
    if not _quotes_values(exc):
        traceback.print_exception(exc, file=sys.stderr)
        return
    chain: list[tuple[BaseException, str]] = []   # innermost last, each with how the next one followed it
    here: BaseException | None = exc
    link = ""
    while here is not None and all(here is not seen for seen, _ in chain):
        chain.append((here, link))
        link = ("The above exception was the direct cause of the following exception:" if here.__cause__ else
                "During handling of the above exception, another exception occurred:")
        here = here.__cause__ or (None if here.__suppress_context__ else here.__context__)
    for error, followed in reversed(chain):
        sys.stderr.write("Traceback (most recent call last):\n")
        sys.stderr.writelines(traceback.format_tb(error.__traceback__))
        sys.stderr.write(f"{type(error).__module__}.{type(error).__qualname__}: (text withheld: it may quote "
                         "a stored value)\n")
        if followed:
            sys.stderr.write(f"\n{followed}\n\n")


def fail(exc: BaseException) -> typer.Exit:
    """For a command that catches an error itself: report it and give the Exit to raise."""
    return typer.Exit(code=int(report_failure(exc)))


class HubGroup(TyperGroup):
    """The `hub` command group: every error a command lets through is reported by `report_failure`.

    Typer's own exceptions (usage errors, Exit, Abort) pass untouched: typer prints and exits for them.
    """

    def invoke(self, ctx: Any) -> Any:   # typer's (vendored) click Context; typer exports no public name for it
        global _verbose
        _verbose = bool(ctx.params.get("verbose"))
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            raise typer.Exit(int(report_failure(exc))) from None
