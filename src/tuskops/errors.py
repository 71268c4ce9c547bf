"""The one exception hierarchy of tuskops, rooted at :class:`TuskError`.

Lower-level errors (``OSError``, ``sqlite3.Error``, YAML and JSON decoding errors, HTTP errors)
are mapped to these classes at the boundary where they occur, so a caller needs to catch only
``TuskError``. Errors about a span of a ``.tsk`` file carry :class:`~tuskops.lang.source.Diagnostic`
objects; see :class:`LangError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuskops.lang.source import Diagnostic


class TuskError(Exception):
    """Base class of every error tuskops raises on purpose."""

    #: Process exit code the CLI uses for this kind of error.
    exit_code: int = 1


# --- the language -----------------------------------------------------------------------------


class LangError(TuskError):
    """One or more problems located in ``.tsk`` source.

    ``str(err)`` renders every diagnostic as ``file:line:col: error: message``, the source line
    and a caret under the span.
    """

    exit_code = 2

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        if not self.diagnostics:
            raise ValueError("LangError needs at least one diagnostic")
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


class TuskSyntaxError(LangError):
    """The text is not TuskLang: nothing was evaluated."""


class EvaluationError(LangError):
    """The text parsed, but evaluating it failed (undefined name, type error, cycle, ...)."""


# --- operators --------------------------------------------------------------------------------


class OperatorError(TuskError):
    """Raised by an operator action; the evaluator adds the call's position.

    ``hint`` is shown below the caret, like a compiler's "help:" line.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


class UnknownOperatorError(OperatorError):
    """No operator of that name is registered."""


class UnknownActionError(OperatorError):
    """The operator exists but does not declare that action."""


class OperatorArgumentError(OperatorError):
    """Arguments that do not fit the action's parameters."""


class NotImplementedOperatorError(OperatorError):
    """A platform operator whose implementation has not been built yet.

    Raised instead of returning made-up data.
    """


class OfflineError(OperatorError):
    """A lookup needs the network and ``--offline`` is set."""


# --- plan, apply, state -----------------------------------------------------------------------


class PlanError(TuskError):
    """The desired state cannot be planned (duplicate resources, dependency cycle, ...)."""


class TargetError(TuskError):
    """A target could not be read or changed."""


class ApplyError(TuskError):
    """An apply stopped part-way. ``result`` says exactly what was and was not changed."""

    def __init__(self, message: str, result: object) -> None:
        self.result = result
        super().__init__(message)


class StateError(TuskError):
    """The state store could not be read or written."""


class ConfigurationError(TuskError):
    """Bad command-line or environment configuration (not a ``.tsk`` span)."""

    exit_code = 2


# --- packages ---------------------------------------------------------------------------------


class PackageError(TuskError):
    """Something about packages, registries, manifests or versions went wrong."""


class VersionSyntaxError(PackageError):
    """A version or constraint that the ecosystem's own tool would not accept.

    Rendered like ``packaging``'s errors: the text, and a caret under the bad span::

        invalid npm range: unexpected '>' after '>='
            >=>1.2
              ^
    """

    exit_code = 2

    def __init__(
        self, ecosystem: str, what: str, text: str, reason: str, start: int = 0, end: int = -1
    ) -> None:
        self.ecosystem = ecosystem
        self.what = what
        self.text = text
        self.reason = reason
        self.start = max(0, min(start, len(text)))
        self.end = len(text) if end < 0 else max(self.start + 1, min(end, len(text)))
        caret = " " * self.start + "^" + "~" * max(0, self.end - self.start - 1)
        super().__init__(f"invalid {ecosystem} {what}: {reason}\n    {text}\n    {caret}")


class ManifestError(PackageError):
    """A manifest or lockfile that cannot be read: names the file and the position or field.

    ``location`` is ``line:col`` when the format gives one, else a field path such as
    ``dependencies.express`` or ``project > dependencies > dependency[3] > version``.
    """

    exit_code = 2

    def __init__(self, file: str, message: str, location: str | None = None) -> None:
        self.file = file
        self.message = message
        self.location = location
        where = f"{file}:{location}" if location and location[:1].isdigit() else file
        field = f" (at {location})" if location and not location[:1].isdigit() else ""
        super().__init__(f"{where}: error: {message}{field}")


class RegistryResponseError(PackageError):
    """A registry response that does not follow its protocol: names the URL and where.

    ``location`` is a position (a line number, or ``line:col``), rendered
    ``URL:LINE: error: message``; or a field path (``versions.1.0.0.dist.integrity``), rendered
    ``URL: error: message (at FIELD)``. Each protocol module subclasses it, so callers can catch
    one protocol's errors or all of them.
    """

    def __init__(self, url: str, message: str, location: str | int | None = None) -> None:
        self.url = url
        self.message = message
        self.location = location
        if self.line is not None or (isinstance(location, str) and location[:1].isdigit()):
            text = f"{url}:{location}: error: {message}"
        else:
            text = f"{url}: error: {message}" + (f" (at {location})" if location else "")
        super().__init__(text)

    @property
    def line(self) -> int | None:
        """The line number, when the location is one."""
        return self.location if isinstance(self.location, int) else None

    @property
    def field(self) -> str | None:
        """The field path, when the location is one."""
        loc = self.location
        return loc if isinstance(loc, str) and not loc[:1].isdigit() else None


# --- Kubernetes ------------------------------------------------------------------------------


class KubernetesError(TuskError):
    """Something about Kubernetes: a spec, a manifest, a cluster."""


class KubernetesSpecError(KubernetesError):
    """An app spec or manifest that cannot become valid manifests: names the field.

    ``field`` is a path into the spec (``app.probes.liveness.port``) or, for a manifest,
    ``Kind/namespace/name: spec.template.spec.containers[0].image``.
    """

    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ClusterError(KubernetesError):
    """The API server refused or failed a request, or could not be reached.

    ``status`` is the HTTP status (None when the server was not reached), ``reason`` the
    Kubernetes ``Status.reason`` (``NotFound``, ``Conflict``, ``Forbidden``...).
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        self.status = status
        self.reason = reason
        super().__init__(message)
