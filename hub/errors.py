"""Errors of the hub, typed by what the caller should do about them.

HubError
 ├── MappingError            a mapping file is wrong: fix the file (carries every problem with file:line)
 ├── ConnectorError          something about one source: that source's run fails, the others go on
 │    ├── SourceUnavailable    transient (unreachable, timeout, 429/5xx): retried with backoff, then fails
 │    ├── SourceSchemaChanged  the source no longer has what the mapping reads: fail that source, do not retry
 │    └── SourceDataError      the source sent something unreadable as a whole (truncated page, bad file)
 ├── RuleError               a rule file (rules/) is wrong: fix the file (every problem with file:line)
 ├── FormError               a form template (forms/) is wrong or unknown: fix the file (every problem with file:line)
 ├── ConfigurationError      settings or credentials are missing or wrong
 └── ReviewError             a review or explain request names no record, or records it cannot compare
A single bad record is not an exception: it becomes a quarantine row (hub.statements).
"""

from __future__ import annotations

from dataclasses import dataclass


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigurationError(HubError):
    """A setting, credential or key is missing or malformed."""


@dataclass(frozen=True)
class MappingProblem:
    """One thing wrong in a mapping file, located for the operator."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{loc}: {self.where}: {self.message}" if self.where else f"{loc}: {self.message}"


class MappingError(HubError):
    """A mapping file cannot be used; lists every problem found, not only the first."""

    def __init__(self, problems: list[MappingProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RuleError(HubError):
    """A rule file cannot be used; lists every problem found (MappingProblem: any YAML file's located problem)."""

    def __init__(self, problems: list[MappingProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FormError(HubError):
    """A form template cannot be used (forms/), or no form has the id asked for; lists every problem found."""

    def __init__(self, problems: list[MappingProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConnectorError(HubError):
    """A failure that concerns one source as a whole."""

    def __init__(self, source: str, message: str):
        self.source = source
        self.message = message
        super().__init__(f"source {source!r}: {message}")


class SourceUnavailable(ConnectorError):
    """Transient: the source could not be reached or asked us to slow down; retrying may help."""


class SourceSchemaChanged(ConnectorError):
    """The source's shape no longer matches its mapping (a column renamed or gone)."""


class SourceDataError(ConnectorError):
    """The source answered with data that cannot be read as a whole (truncated, corrupt, wrong type)."""


class ReviewError(HubError):
    """A review or explain request about records it cannot be about: a key naming no record (mistyped,
    or `hub resolve` has not run), records of two types, or of a type that is not matched."""
