"""PyPI: PEP 440 versions and specifiers, PEP 508 requirements and markers.

Parsing is not hand-written: versions, specifiers, requirements, markers and names all come
from ``packaging`` (the library pip itself vendors), so what tuskops accepts and rejects is
exactly what pip accepts and rejects. What is written here is what ``packaging`` does not
offer across the versions we support (``packaging>=24``): each specifier turned into a
:class:`~tuskops.packages.versions.Ranges` of :class:`packaging.version.Version`, so that a
resolver can intersect, union and complement constraints. The conversion follows PEP 440 and
is checked against ``SpecifierSet.contains`` by a differential property test.

How each operator maps (``V`` the version written, ``V.dev0`` the same version with ``dev0``):

* ``>=V`` -> ``[V, +inf)``.
* ``<=V`` and ``==V`` -> up to and including every local version of ``V`` (``1.0+ubuntu``);
  that is ``< S``, where ``S`` is the least version above ``V``'s local family (``V.post0.dev0``
  for a plain ``V``). ``==V+local`` is exactly that one version.
* ``!=V`` -> the complement of ``==V``.
* ``<V`` -> ``< V.dev0`` when V is not a pre-release (pre-releases of V are excluded), else
  ``< V``. Nothing is below ``0.dev0``, so ``<0`` is empty.
* ``>V`` -> above V, V's local versions and V's post-releases (unless V is itself a
  post-release). For a final V there is no least version above that family (``1.0.0.0.1``
  and so on), so the lower bound is :class:`AfterPostReleases`, a point between versions that
  compares correctly against every ``Version``. For a pre-, post- or dev-release V the bound
  is the least version above the family (``>1.0a1`` is ``>=1.0a2.dev0``).
* ``~=V`` (``~=1.4.2``) -> ``>=V, ==1.4.*``, i.e. ``[V, 1.5.dev0)``.
* ``==V.*`` -> ``[V.dev0, W.dev0)`` with W the prefix incremented (``==1.2.*`` is
  ``[1.2.dev0, 1.3.dev0)``, so it takes 1.2's pre-, post- and local releases); ``!=V.*`` its
  complement.
* ``===X`` (arbitrary equality) compares strings, not versions: a ``Version`` matches when its
  normalised string equals X case-insensitively (``===1.0`` matches ``Version("1.0")`` but not
  ``Version("1.0.0")``, though the two are equal versions). Its ``ranges`` are the versions
  equal to ``Version(X)`` (empty if X is not a valid version, or is not in normalised form)
  and ``contains`` applies the string test on top. Union and complement of a constraint with
  ``===`` raise ValueError (the string test is not a set of versions), as ``packaging``'s own
  set relations do; intersection keeps it.

The pre-release rule (PEP 440 "Handling of pre-releases"): by default a pre-release matches
only where a specifier that names a pre-release (``>=1.0b1``; not ``!=``, not ``==V.*``, as
``Specifier.prereleases`` decides) asked for it; ``prereleases=True`` admits every pre-release
in the ranges, ``prereleases=False`` none. A constraint keeps the versions where pre-releases
are admitted as a second set, ``prerelease_region`` (a subset of ``ranges``), following
``packaging.ranges.VersionRange`` (packaging 26.3): intersection and union merge the two
regions and clip them to the result, complement drops the region (an exclusion asks for no
pre-release), difference keeps the left one. So ``parse(a) & parse(b)`` behaves exactly like
``parse(f"{a},{b}")``.

``contains(v)`` is the membership test a resolver needs: whether v may be picked for this
constraint. packaging >= 26 ``SpecifierSet.contains(v)`` with ``prereleases=None`` also
accepts a lone pre-release (PEP 440's "if the only available version is a pre-release" rule,
applied to a single candidate); that fallback is about the whole candidate list, so it lives
in :meth:`PypiConstraint.filter` here, not in ``contains``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as _PackagingRequirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Ranges

__all__ = [
    "SCHEME",
    "AfterPostReleases",
    "Point",
    "PypiConstraint",
    "PypiRequirement",
    "PypiScheme",
    "evaluate_marker",
    "normalize_extra",
    "normalize_name",
    "parse_marker",
    "parse_requirement",
]

ECOSYSTEM = "pypi"

#: The least PEP 440 version: nothing sorts below ``0.dev0``.
MIN_VERSION = Version("0.dev0")


def _trim(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


class AfterPostReleases:
    """The point just above a final release V, V's local versions and all V's post-releases.

    ``>1.0`` starts (exclusively) here. No version is equal to it; it sorts below every
    version above that family (``1.0.0.1``, ``1.1a1``, ``2!0``...). It orders against
    ``Version`` through Python's reflected comparisons (``Version`` returns NotImplemented).
    """

    __slots__ = ("_release", "version")

    def __init__(self, version: Version) -> None:
        self.version = version
        self._release = _trim(version.release)

    def _covers(self, other: Version) -> bool:
        """Whether ``other`` sorts below this point."""
        if other < self.version:
            return True
        return (
            other.epoch == self.version.epoch
            and other.pre is None
            and _trim(other.release) == self._release
        )

    def __lt__(self, other: Any) -> bool:
        if isinstance(other, AfterPostReleases):
            return self.version < other.version
        if isinstance(other, Version):
            return not self._covers(other)
        return NotImplemented

    def __le__(self, other: Any) -> bool:
        if isinstance(other, AfterPostReleases):
            return self.version <= other.version
        return self.__lt__(other)

    def __gt__(self, other: Any) -> bool:
        if isinstance(other, AfterPostReleases):
            return self.version > other.version
        if isinstance(other, Version):
            return self._covers(other)
        return NotImplemented

    def __ge__(self, other: Any) -> bool:
        if isinstance(other, AfterPostReleases):
            return self.version >= other.version
        return self.__gt__(other)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AfterPostReleases) and self.version == other.version

    def __hash__(self) -> int:
        return hash((AfterPostReleases, self.version))

    def __str__(self) -> str:
        return f"{self.version}.post*"

    def __repr__(self) -> str:
        return f"AfterPostReleases({str(self.version)!r})"


#: A bound of a PyPI range: a version, or the point above a final release's post-releases.
Point = Version | AfterPostReleases

_UNIVERSE: Ranges[Point] = Ranges.higher_than(MIN_VERSION)
_EMPTY: Ranges[Point] = Ranges.empty()


def _version(
    epoch: int,
    release: tuple[int, ...],
    pre: tuple[str, int] | None = None,
    post: int | None = None,
    dev: int | None = None,
) -> Version:
    """A Version from parts (``Version.from_parts`` is packaging >= 26 only)."""
    text = f"{epoch}!" + ".".join(map(str, release))
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    return Version(text)


def _after_locals(v: Version) -> Version:
    """The least version above V and all of V's local versions (V without a local)."""
    if v.dev is not None:
        return _version(v.epoch, v.release, v.pre, v.post, v.dev + 1)
    return _version(v.epoch, v.release, v.pre, 0 if v.post is None else v.post + 1, 0)


def _next_prefix_dev0(epoch: int, prefix: tuple[int, ...]) -> Version:
    return _version(epoch, (*prefix[:-1], prefix[-1] + 1), dev=0)


def specifier_ranges(spec: Specifier) -> Ranges[Point]:
    """The versions one specifier allows, before the pre-release rule (see module doc)."""
    op, text = spec.operator, spec.version
    if op == "===":
        try:
            version = Version(text)
        except InvalidVersion:
            return _EMPTY
        if str(version) != text.lower():
            return _EMPTY
        return Ranges.singleton(version)
    if text.endswith(".*"):
        base = Version(text[:-2])
        matched: Ranges[Point] = Ranges.between(
            _version(base.epoch, base.release, dev=0),
            _next_prefix_dev0(base.epoch, base.release),
        )
        return matched if op == "==" else _UNIVERSE - matched
    v = Version(text)
    result: Ranges[Point]
    if op == ">=":
        result = Ranges.higher_than(v)
    elif op == "<=":
        result = Ranges.lower_than(_after_locals(v))
    elif op == "<":
        bound = v if v.is_prerelease else _version(v.epoch, v.release, v.pre, v.post, 0)
        result = Ranges.lower_than(bound)
    elif op == ">":
        if v.dev is not None:
            result = Ranges.higher_than(_version(v.epoch, v.release, v.pre, v.post, v.dev + 1))
        elif v.post is not None:
            result = Ranges.higher_than(_version(v.epoch, v.release, v.pre, v.post + 1, 0))
        elif v.pre is not None:
            after = _version(v.epoch, v.release, (v.pre[0], v.pre[1] + 1), dev=0)
            result = Ranges.higher_than(after)
        else:
            result = Ranges.higher_than(AfterPostReleases(v), inclusive=False)
    elif op == "~=":
        result = Ranges.between(v, _next_prefix_dev0(v.epoch, v.release[:-1]))
    elif op in ("==", "!="):
        if v.local is not None:
            equal: Ranges[Point] = Ranges.singleton(v)
        else:
            equal = Ranges.between(v, _after_locals(v))
        result = equal if op == "==" else ~equal
    else:  # pragma: no cover - packaging knows no other operator
        raise ValueError(f"unknown PEP 440 operator {op!r}")
    return result & _UNIVERSE


def _names_prerelease(spec: Specifier) -> bool:
    """Whether the specifier asks for pre-releases (packaging's own rule)."""
    try:
        return bool(spec.prereleases)
    except InvalidVersion:  # packaging < 26 on ``===`` with a non-version
        return False


@dataclass(frozen=True, eq=False)
class PypiConstraint:
    """A PEP 440 specifier set as sets of versions (see the module doc for the mapping)."""

    #: The constraint as written (derived constraints get a descriptive text).
    text: str
    #: Every version allowed, pre-release or not.
    ranges: Ranges[Point]
    #: The part of ``ranges`` where pre-releases are admitted by default.
    prerelease_region: Ranges[Point] = field(default_factory=Ranges.empty)
    #: ``===`` strings (lower-cased) that a version's normalised text must equal.
    literals: frozenset[str] = frozenset()

    # --- membership ---------------------------------------------------------------------------

    def contains(self, version: Version, prereleases: bool | None = None) -> bool:
        """Whether ``version`` may be chosen: in ``ranges``, passing ``===``, and, if it is a
        pre-release, admitted by ``prereleases`` (True: all, False: none, None: only inside
        ``prerelease_region``)."""
        if not self.ranges.contains(version):
            return False
        if self.literals and any(str(version).lower() != lit for lit in self.literals):
            return False
        if not version.is_prerelease or prereleases is True:
            return True
        if prereleases is False:
            return False
        return self.prerelease_region.contains(version)

    def __contains__(self, version: Version) -> bool:
        return self.contains(version)

    def filter(
        self, versions: Iterable[Version], prereleases: bool | None = None
    ) -> Iterator[Version]:
        """The versions pip would consider, in the given order: with ``prereleases=None``,
        the admitted ones, or if none of those is a final release, every matching
        pre-release too (PEP 440: a pre-release is acceptable when it is all there is)."""
        items = list(versions)
        chosen = [v for v in items if self.contains(v, prereleases)]
        if prereleases is None and not any(not v.is_prerelease for v in chosen):
            return (v for v in items if self.contains(v, True))
        return iter(chosen)

    def allows_prereleases(self) -> bool:
        """Whether some specifier named a pre-release (packaging's ``SpecifierSet.prereleases``)."""
        return not self.prerelease_region.is_empty()

    # --- set algebra --------------------------------------------------------------------------

    def _check_algebra(self, other: PypiConstraint | None, what: str) -> None:
        if self.literals or (other is not None and other.literals):
            raise ValueError(f"the {what} of a '===' constraint is not a set of versions")

    def intersection(self, other: PypiConstraint) -> PypiConstraint:
        """Versions allowed by both; pre-releases admitted where either admitted them (as
        ``SpecifierSet.__and__`` does)."""
        ranges = self.ranges & other.ranges
        literals = self.literals | other.literals
        if len(literals) > 1:
            ranges = _EMPTY
        text = ",".join(t for t in (self.text, other.text) if t)
        region = (self.prerelease_region | other.prerelease_region) & ranges
        return PypiConstraint(text, ranges, region, literals)

    def union(self, other: PypiConstraint) -> PypiConstraint:
        self._check_algebra(other, "union")
        ranges = self.ranges | other.ranges
        region = self.prerelease_region | other.prerelease_region
        return PypiConstraint(f"({self.text}) || ({other.text})", ranges, region)

    def complement(self) -> PypiConstraint:
        """Every version not allowed; no pre-release opt-in (an exclusion asks for none)."""
        self._check_algebra(None, "complement")
        return PypiConstraint(f"not ({self.text})", _UNIVERSE - self.ranges, _EMPTY)

    def difference(self, other: PypiConstraint) -> PypiConstraint:
        self._check_algebra(other, "difference")
        ranges = self.ranges - other.ranges
        return PypiConstraint(
            f"({self.text}) - ({other.text})", ranges, self.prerelease_region & ranges
        )

    def is_empty(self) -> bool:
        """Whether no version is in ``ranges`` (pre-releases count, as PEP 440 lets a
        resolver fall back on them)."""
        return self.ranges.is_empty()

    def is_subset(self, other: PypiConstraint) -> bool:
        return self.ranges.is_subset(other.ranges)

    __and__ = intersection
    __or__ = union
    __invert__ = complement
    __sub__ = difference

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PypiConstraint)
            and self.ranges == other.ranges
            and self.prerelease_region == other.prerelease_region
            and self.literals == other.literals
        )

    def __hash__(self) -> int:
        return hash((self.ranges, self.prerelease_region, self.literals))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"PypiConstraint({self.text!r}, {self.ranges})"


def _constraint_from_specifiers(text: str, specs: Iterable[Specifier]) -> PypiConstraint:
    ranges: Ranges[Point] = _UNIVERSE
    region: Ranges[Point] = _EMPTY
    literals: set[str] = set()
    for spec in specs:
        spec_ranges = specifier_ranges(spec)
        ranges = ranges & spec_ranges
        if spec.operator == "===":
            literals.add(spec.version.lower())
        if _names_prerelease(spec):
            region = region | spec_ranges
    if len(literals) > 1:
        ranges = _EMPTY
    return PypiConstraint(text, ranges, region & ranges, frozenset(literals))


# --- requirements, markers, names -----------------------------------------------------------


def _syntax_error(what: str, text: str, exc: Exception) -> VersionSyntaxError:
    """A VersionSyntaxError from packaging's exception, with its span when it has one."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    span = getattr(cause, "span", None)
    reason = getattr(cause, "message", None) or str(exc).splitlines()[0]
    if isinstance(span, tuple) and len(span) == 2:
        start, end = span
        return VersionSyntaxError(ECOSYSTEM, what, text, str(reason), start, max(end, start + 1))
    return VersionSyntaxError(ECOSYSTEM, what, text, str(reason))


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name (``Foo.Bar_baz`` -> ``foo-bar-baz``); invalid names
    (PEP 508) are a VersionSyntaxError."""
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName as exc:
        raise VersionSyntaxError(ECOSYSTEM, "name", name, "not a valid project name") from exc


def normalize_extra(extra: str) -> str:
    """PEP 685 normalised extra name: normalised like a project name."""
    try:
        return canonicalize_name(extra, validate=True)
    except InvalidName as exc:
        raise VersionSyntaxError(ECOSYSTEM, "extra", extra, "not a valid extra name") from exc


def parse_marker(text: str) -> Marker:
    """A PEP 508 environment marker (``python_version >= "3.8" and os_name == "posix"``)."""
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise _syntax_error("marker", text, exc) from exc


def evaluate_marker(
    marker: Marker | str | None,
    environment: Mapping[str, str],
    extras: Iterable[str] = (),
) -> bool:
    """Whether ``marker`` holds in ``environment`` (PEP 508 names such as
    ``python_version``, ``sys_platform``; names not given are taken from the running
    interpreter, as ``packaging`` does). With ``extras``, true when it holds for any of them
    (the ``extra`` name, PEP 685-normalised); without, ``extra`` is the empty string.
    None (no marker) always holds."""
    if marker is None:
        return True
    parsed = parse_marker(marker) if isinstance(marker, str) else marker
    wanted = sorted({normalize_extra(e) for e in extras}) or [""]
    for extra in wanted:
        env = dict(environment)
        env["extra"] = extra
        try:
            if parsed.evaluate(env):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName) as exc:
            raise VersionSyntaxError(ECOSYSTEM, "marker", str(parsed), str(exc)) from exc
    return False


@dataclass(frozen=True)
class PypiRequirement:
    """A PEP 508 requirement (``requests[security]>=2.8.1,==2.8.*; python_version<"2.7"``)."""

    text: str
    #: The name as written.
    name: str
    #: PEP 503 normalised name: the key to compare and look up by.
    key: str
    #: PEP 685 normalised extras.
    extras: frozenset[str]
    constraint: PypiConstraint
    marker: Marker | None
    url: str | None

    def applies(self, environment: Mapping[str, str], extras: Iterable[str] = ()) -> bool:
        """Whether the marker holds (always, without a marker)."""
        return evaluate_marker(self.marker, environment, extras)


def parse_requirement(text: str) -> PypiRequirement:
    """A PEP 508 requirement; VersionSyntaxError with packaging's position if invalid."""
    try:
        req = _PackagingRequirement(text)
    except InvalidRequirement as exc:
        raise _syntax_error("requirement", text, exc) from exc
    specs = list(req.specifier)
    constraint = _constraint_from_specifiers(str(req.specifier), specs)
    return PypiRequirement(
        text=text,
        name=req.name,
        key=canonicalize_name(req.name),
        extras=frozenset(canonicalize_name(e) for e in req.extras),
        constraint=constraint,
        marker=req.marker,
        url=req.url,
    )


class PypiScheme:
    """PEP 440 versions (:class:`packaging.version.Version`) and specifier sets."""

    name = ECOSYSTEM

    def parse_version(self, text: str) -> Version:
        try:
            return Version(text)
        except InvalidVersion as exc:
            raise VersionSyntaxError(
                ECOSYSTEM, "version", text, "not a valid PEP 440 version"
            ) from exc

    def is_prerelease(self, version: Version) -> bool:
        """PEP 440: alpha, beta, rc and dev releases."""
        return version.is_prerelease

    def parse_constraint(self, text: str) -> PypiConstraint:
        """A specifier set (``>=1.0,<2,!=1.5.*``); the empty string allows every version."""
        specs: list[Specifier] = []
        offset = 0
        for part in text.split(","):
            stripped = part.strip()
            start = offset + (len(part) - len(part.lstrip()))
            offset += len(part) + 1
            if not stripped:  # packaging skips empty items (">=1,,<2")
                continue
            try:
                specs.append(Specifier(stripped))
            except InvalidSpecifier as exc:
                raise VersionSyntaxError(
                    ECOSYSTEM,
                    "specifier",
                    text,
                    f"not a valid PEP 440 specifier: {stripped!r}",
                    start,
                    start + len(stripped),
                ) from exc
        return _constraint_from_specifiers(text, specs)

    def constraint_from_specifier_set(self, specifiers: SpecifierSet) -> PypiConstraint:
        return _constraint_from_specifiers(str(specifiers), list(specifiers))


SCHEME = PypiScheme()
