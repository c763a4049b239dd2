"""The errors every engine command may raise; each maps to one HTTP status."""

from __future__ import annotations

from dataclasses import dataclass, field


class SalesflowError(Exception):
    """Base class: `code` is stable for API clients, the message is for people."""

    code = "error"
    status = 400


class NotFound(SalesflowError):
    code, status = "not_found", 404


class Forbidden(SalesflowError):
    code, status = "forbidden", 403


class Unauthorized(SalesflowError):
    code, status = "unauthorized", 401


class Conflict(SalesflowError):
    """The object changed under the caller: the task is no longer ready, someone else holds it."""

    code, status = "conflict", 409


class Halted(Conflict):
    """The instance is halted by an incident (a timer or message step failed): nothing advances it
    until an administrator retries the step or cancels the instance."""

    code = "halted"


class InvalidData(SalesflowError):
    """Submitted data failed its form: `fields` maps field name -> {"zh": ..., "en": ...}."""

    code, status = "invalid_data", 422

    def __init__(self, message: str, fields: dict[str, dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class Locked(SalesflowError):
    """Too many failed logins for this user name or from this address: logging in is refused until the
    lockout ends (`retry_after` seconds) or an administrator lifts it. Says nothing about whether the user
    exists: unknown names are locked the same way."""

    code, status = "locked", 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(SalesflowError):
    """The database cannot be reached (restarting, failing over, locked too long): retry later.
    Usually nothing was saved; a connection lost during COMMIT leaves the outcome unknown, so a
    client checks (reads the task or instance again) before repeating a command."""

    code, status = "unavailable", 503


class ProcessError(SalesflowError):
    """The process definition failed at run time (a script or condition raised, or hit a sandbox
    limit); nothing was saved. `element` is the diagram element that failed, when known."""

    code, status = "process_error", 422

    def __init__(self, message: str, element: str | None = None, element_name: str | None = None) -> None:
        super().__init__(message)
        self.element, self.element_name = element, element_name


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition file, located for the person who fixes it."""

    file: str
    message: str  # English: the CLI, logs and API clients read it
    element: str | None = None
    line: int | None = None
    # the same in Chinese, for the owner's pages (None where nobody translated it); a rendering of the
    # same problem, so it takes no part in comparing problems
    zh: str | None = field(default=None, compare=False)

    def messages(self) -> dict[str, str]:
        """{"zh": ..., "en": ...}: the engine keeps both languages of its own messages (docs/modelling.md);
        a message from SpiffWorkflow's parser has only English, shown in both."""
        return {"zh": self.zh or self.message, "en": self.message}

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element:
            where += f" [{self.element}]"
        return f"{where}: {self.message}"


class DefinitionError(SalesflowError):
    """A bundle was refused; nothing of it was deployed."""

    code, status = "invalid_definition", 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
