"""NuGet versions (``NuGetVersion``), version ranges and floating versions.

Hand-written: no Python library models NuGet faithfully. NuGet versions are SemVer 2.0 plus
the legacy four-part form (``1.0.0.1``), parsed leniently (leading zeros, one to four numeric
parts), compared with case-insensitive pre-release labels, and with build metadata ignored for
identity; ranges use interval notation plus floating versions that change which version a
restore picks. This module re-implements what NuGet's documentation ("Package versioning":
version ranges, normalized version numbers, floating versions, pre-release versions)
specifies, following NuGet.Versioning's behaviour where the documentation is silent.

Versions
    ``Major[.Minor[.Patch[.Revision]]][-Label(.Label)*][+Metadata]``; missing parts are 0.
    Normalised form (:attr:`NuGetVersion.normalized`): leading zeros removed, the fourth part
    dropped when zero, build metadata dropped (``1.01.1.0+abc`` is ``1.1.1``). Ordering:
    numeric parts, then a release above its pre-releases, then labels one by one (numeric
    labels numerically and below alphanumeric ones, alphanumeric ones case-insensitively), a
    shorter label list first when it is a prefix.

Ranges
    ``1.0`` (``>= 1.0``), ``[1.0]`` (exactly), ``(1.0,)``, ``[1.0,2.0)``, ``(,1.0]`` and so on;
    ``(1.0)`` and other single versions not in ``[]`` are invalid, as are ranges whose lower
    bound is above the upper one.

Pre-releases
    As in NuGet's best-match rule, a range admits pre-release versions only when its lower or
    upper bound is itself a pre-release (``[1.0.0-beta,2.0)``, ``1.0.0-*``, ``*-*``).
    :meth:`NugetConstraint.contains` applies it. So that set operations stay exact, a
    constraint keeps two sets: ``stable`` (stable versions it allows) and ``prerelease``
    (pre-release versions it allows); ``ranges`` is their union.

Floating versions
    ``*``, ``1.*``, ``1.0.*``, ``1.0.0.*``, ``1.0.0-*``, ``1.0.0-beta*``, ``*-*``, ``1.*-*``,
    ``1.0.*-*``, ``1.0.0.*-*`` (also as the lower bound inside brackets: ``[1.*,2.0)``). A
    floating constraint *allows* what its range allows (``1.*`` is ``>= 1.0.0``, as NuGet's
    ``Satisfies`` says), and its :attr:`NugetConstraint.float_behavior` tells the resolver to
    take the *highest* available version matching the float (:meth:`NugetConstraint.floats_to`,
    e.g. the highest ``1.x``), falling back to the nearest version outside it; non-floating
    ranges take the *lowest* applicable version. :meth:`NugetConstraint.best_match` implements
    that choice. Set operations drop the floating part (the result is a plain range).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Bound, Interval, Ranges

ECOSYSTEM: Final = "nuget"
_INT_MAX: Final = 2**31 - 1
_LABEL = re.compile(r"[0-9A-Za-z-]+")
_NUMERIC_LABEL = re.compile(r"-?[0-9]+")


def _label_key(label: str) -> tuple[int, int | str]:
    """Numeric labels (as .NET's ``int.TryParse`` reads them) before alphanumeric ones, which
    compare ordinally ignoring case."""
    if _NUMERIC_LABEL.fullmatch(label):
        value = int(label)
        if -(2**31) <= value <= _INT_MAX:
            return (0, value)
    return (1, label.upper())


_Key = tuple[int, int, int, int, bool, tuple[tuple[int, int | str], ...]]


@dataclass(frozen=True, slots=True, eq=False)
class NuGetVersion:
    """A NuGet version, ordered and compared as NuGet's default version comparer does."""

    major: int
    minor: int
    patch: int
    revision: int = 0
    labels: tuple[str, ...] = ()
    metadata: str | None = None
    text: str = ""
    _key: _Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key: _Key = (
            self.major,
            self.minor,
            self.patch,
            self.revision,
            not self.labels,
            tuple(_label_key(label) for label in self.labels),
        )
        object.__setattr__(self, "_key", key)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.labels)

    @property
    def release(self) -> str:
        """The pre-release labels as written, joined with dots ("" for a release)."""
        return ".".join(self.labels)

    @property
    def normalized(self) -> str:
        """NuGet's normalised form: no leading zeros, no zero fourth part, no metadata."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.revision:
            text += f".{self.revision}"
        if self.labels:
            text += f"-{self.release}"
        return text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NuGetVersion) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: NuGetVersion) -> bool:
        return self._key < other._key

    def __le__(self, other: NuGetVersion) -> bool:
        return self._key <= other._key

    def __gt__(self, other: NuGetVersion) -> bool:
        return self._key > other._key

    def __ge__(self, other: NuGetVersion) -> bool:
        return self._key >= other._key

    def __str__(self) -> str:
        return self.text or self.normalized

    def __repr__(self) -> str:
        return f"NuGetVersion({str(self)!r})"


def _version_error(
    text: str, reason: str, start: int, end: int = -1, what: str = "version"
) -> VersionSyntaxError:
    return VersionSyntaxError(ECOSYSTEM, what, text, reason, start, end)


def _parse_version(
    text: str, *, full: str | None = None, offset: int = 0, what: str = "version"
) -> NuGetVersion:
    """``NuGetVersion.Parse``; ``full``/``offset`` place the caret inside a larger range."""
    shown = text if full is None else full

    def fail(reason: str, start: int, end: int) -> VersionSyntaxError:
        return _version_error(shown, reason, offset + start, offset + end, what)

    if not text:
        raise fail("empty version", 0, 0)
    plus = text.find("+")
    core, metadata = (text, None) if plus < 0 else (text[:plus], text[plus + 1 :])
    dash = core.find("-")
    numbers, release = (core, None) if dash < 0 else (core[:dash], core[dash + 1 :])

    parts = numbers.split(".")
    if len(parts) > 4:
        start = sum(len(p) + 1 for p in parts[:4])
        raise fail("at most four numeric parts", start, len(numbers))
    values: list[int] = []
    position = 0
    for part in parts:
        if not part or not part.isascii() or not part.isdigit():
            reason = "empty version part" if not part else f"'{part}' is not a number"
            raise fail(reason, position, position + max(len(part), 1))
        value = int(part)
        if value > _INT_MAX:
            raise fail(f"'{part}' is too large", position, position + len(part))
        values.append(value)
        position += len(part) + 1
    values += [0] * (4 - len(values))

    labels: tuple[str, ...] = ()
    if release is not None:
        labels = tuple(release.split("."))
        position = dash + 1
        for label in labels:
            if not _LABEL.fullmatch(label):
                reason = (
                    "empty pre-release label"
                    if not label
                    else "pre-release labels use only letters, digits and '-'"
                )
                raise fail(reason, position, position + max(len(label), 1))
            position += len(label) + 1
    if metadata is not None:
        position = plus + 1
        for piece in metadata.split("."):
            if not _LABEL.fullmatch(piece):
                raise fail(
                    "build metadata uses only letters, digits, '-' and non-empty dotted parts",
                    position,
                    position + max(len(piece), 1),
                )
            position += len(piece) + 1
    return NuGetVersion(values[0], values[1], values[2], values[3], labels, metadata, text)


# --- floating -------------------------------------------------------------------------------


class FloatBehavior(enum.Enum):
    """Which part of a floating version floats (NuGet's ``NuGetVersionFloatBehavior``)."""

    NONE = "none"
    PRERELEASE = "prerelease"  # 1.0.0-beta*, 1.0.0-*
    REVISION = "revision"  # 1.0.0.*
    PATCH = "patch"  # 1.0.*
    MINOR = "minor"  # 1.*
    MAJOR = "major"  # *
    ABSOLUTE_LATEST = "absolute-latest"  # *-*
    PRERELEASE_REVISION = "prerelease-revision"  # 1.0.0.*-*
    PRERELEASE_PATCH = "prerelease-patch"  # 1.0.*-*
    PRERELEASE_MINOR = "prerelease-minor"  # 1.*-*
    PRERELEASE_MAJOR = "prerelease-major"  # NuGet's enum has it; no syntax produces it


@dataclass(frozen=True, slots=True)
class FloatRange:
    """The floating part of a range: its behaviour, lowest version and pre-release prefix."""

    behavior: FloatBehavior
    min_version: NuGetVersion
    release_prefix: str = ""

    def matches(self, version: NuGetVersion) -> bool:
        """Whether ``version`` is one the float would pick among (``FloatRange.Satisfies``)."""
        b, low = self.behavior, self.min_version
        if b is FloatBehavior.ABSOLUTE_LATEST:
            return True
        if b is FloatBehavior.MAJOR:
            return not version.is_prerelease
        same_major = low.major == version.major
        same_minor = same_major and low.minor == version.minor
        same_patch = same_minor and low.patch == version.patch
        same_numbers = same_patch and low.revision == version.revision
        if b is FloatBehavior.PRERELEASE:
            return same_numbers and (
                not version.is_prerelease
                or version.release.upper().startswith(self.release_prefix.upper())
            )
        if b is FloatBehavior.REVISION:
            return same_patch and not version.is_prerelease
        if b is FloatBehavior.PATCH:
            return same_minor and not version.is_prerelease
        if b is FloatBehavior.MINOR:
            return same_major and not version.is_prerelease
        if b is FloatBehavior.PRERELEASE_REVISION:
            return same_patch
        if b is FloatBehavior.PRERELEASE_PATCH:
            return same_minor
        if b is FloatBehavior.PRERELEASE_MINOR:
            return same_major
        if b is FloatBehavior.PRERELEASE_MAJOR:
            return True
        return low == version


_NUMERIC_FLOATS: Final = {
    2: FloatBehavior.MINOR,
    3: FloatBehavior.PATCH,
    4: FloatBehavior.REVISION,
}
_PRERELEASE_NUMERIC_FLOATS: Final = {
    2: FloatBehavior.PRERELEASE_MINOR,
    3: FloatBehavior.PRERELEASE_PATCH,
    4: FloatBehavior.PRERELEASE_REVISION,
}


def _parse_float(text: str, full: str, offset: int) -> FloatRange:
    """A floating version (``FloatRange.Parse``)."""

    def fail(reason: str) -> VersionSyntaxError:
        return _version_error(full, reason, offset, offset + len(text), "version range")

    if text == "*":
        return FloatRange(FloatBehavior.MAJOR, NuGetVersion(0, 0, 0, text="0.0.0"))
    if text == "*-*":
        low = _parse_version("0.0.0-0")
        return FloatRange(FloatBehavior.ABSOLUTE_LATEST, low)
    if text.endswith(".*-*") and text.count("*") == 2:
        numbers = text[:-4]
        parts = numbers.split(".")
        behavior = _PRERELEASE_NUMERIC_FLOATS.get(len(parts) + 1)
        if behavior is None or "-" in numbers or "+" in numbers:
            raise fail("invalid floating version")
        low = _parse_version(numbers + ".0-0", full=full, offset=offset, what="version range")
        return FloatRange(behavior, low)
    if text.count("*") != 1 or not text.endswith("*"):
        raise fail("'*' may only end a floating version")
    stem = text[:-1]
    if "+" in stem:
        raise fail("a floating version cannot have build metadata")
    dash = stem.find("-")
    if dash < 0:
        if not stem.endswith("."):
            raise fail("'*' must follow a '.' or a pre-release prefix")
        parts = stem[:-1].split(".")
        behavior = _NUMERIC_FLOATS.get(len(parts) + 1)
        if behavior is None:
            raise fail("too many version parts before '*'")
        low = _parse_version(stem + "0", full=full, offset=offset, what="version range")
        return FloatRange(behavior, low)
    prefix = stem[dash + 1 :]
    # The lowest version the prefix allows: "0" for an empty prefix or after a dot (numeric
    # labels sort first); "-" after a trailing dash (the lowest alphanumeric label).
    low_text = stem + "0" if not prefix or prefix.endswith(".") else stem
    if low_text.endswith("-"):
        low_text += "-"
    low = _parse_version(low_text, full=full, offset=offset, what="version range")
    return FloatRange(FloatBehavior.PRERELEASE, low, prefix)


# --- constraints ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NugetConstraint:
    """A NuGet version range, possibly floating.

    ``stable`` and ``prerelease`` are the stable and pre-release versions it allows (the
    pre-release rule applied); ``float_range`` is set for floating versions.
    """

    text: str
    stable: Ranges[NuGetVersion]
    prerelease: Ranges[NuGetVersion]
    float_range: FloatRange | None = None

    @property
    def ranges(self) -> Ranges[NuGetVersion]:
        """Every version the range notation admits, stable or not."""
        return self.stable | self.prerelease

    @property
    def float_behavior(self) -> FloatBehavior:
        """NONE for a plain range: choose the lowest allowed version. Otherwise choose the
        highest available version that :meth:`floats_to`."""
        return FloatBehavior.NONE if self.float_range is None else self.float_range.behavior

    @property
    def is_floating(self) -> bool:
        return self.float_range is not None

    def contains(self, version: NuGetVersion) -> bool:
        return (self.prerelease if version.is_prerelease else self.stable).contains(version)

    def floats_to(self, version: NuGetVersion) -> bool:
        """Whether the floating part matches ``version`` (always False when not floating)."""
        return self.float_range is not None and self.float_range.matches(version)

    def best_match(self, versions: Iterable[NuGetVersion]) -> NuGetVersion | None:
        """The version NuGet's restore would pick from ``versions`` (``FindBestMatch``):
        the lowest allowed one, or for a floating range the highest one that floats_to,
        else the nearest allowed one above the float (lowest), else the highest below."""
        best: NuGetVersion | None = None
        for version in versions:
            if self.contains(version) and (best is None or self._is_better(best, version)):
                best = version
        return best

    def _is_better(self, current: NuGetVersion, considering: NuGetVersion) -> bool:
        fr = self.float_range
        if fr is None:
            return considering < current
        current_in, considering_in = fr.matches(current), fr.matches(considering)
        if current_in != considering_in:
            return considering_in
        if current_in:
            return current < considering
        current_low, considering_low = current < fr.min_version, considering < fr.min_version
        if current_low != considering_low:
            return current_low
        if not current_low:
            return considering < current
        return current < considering

    def _derived(
        self, stable: Ranges[NuGetVersion], prerelease: Ranges[NuGetVersion]
    ) -> NugetConstraint:
        return NugetConstraint(_render(stable | prerelease), stable, prerelease)

    def intersection(self, other: NugetConstraint) -> NugetConstraint:
        return self._derived(self.stable & other.stable, self.prerelease & other.prerelease)

    def union(self, other: NugetConstraint) -> NugetConstraint:
        return self._derived(self.stable | other.stable, self.prerelease | other.prerelease)

    def complement(self) -> NugetConstraint:
        return self._derived(~self.stable, ~self.prerelease)

    def is_empty(self) -> bool:
        # Empty as a set of version numbers; a stable-only range still excludes pre-releases.
        return self.stable.is_empty() and self.prerelease.is_empty()

    def __str__(self) -> str:
        return self.text


def _render(ranges: Ranges[NuGetVersion]) -> str:
    """Interval notation for display; several intervals are joined with " || " (NuGet
    itself has no notation for a union)."""
    if ranges.is_empty():
        return "<empty>"
    parts = []
    for interval in ranges.intervals:
        lo, hi = interval.lower, interval.upper
        if lo is not None and hi is not None and lo.version == hi.version:
            parts.append(f"[{lo.version.normalized}]")
            continue
        left = "(" if lo is None or not lo.inclusive else "["
        right = ")" if hi is None or not hi.inclusive else "]"
        lo_text = "" if lo is None else lo.version.normalized
        hi_text = "" if hi is None else hi.version.normalized
        parts.append(f"{left}{lo_text}, {hi_text}{right}")
    return " || ".join(parts)


def _parse_range(text: str) -> NugetConstraint:
    """``VersionRange.Parse`` with floating versions allowed."""
    lead = len(text) - len(text.lstrip())
    body = text.strip()

    def fail(reason: str, start: int, end: int) -> VersionSyntaxError:
        return _version_error(text, reason, start, end, "version range")

    if not body:
        raise fail("empty version range", 0, len(text))
    float_range: FloatRange | None = None
    lower: Bound[NuGetVersion] | None
    upper: Bound[NuGetVersion] | None
    if body[0] in "[(":
        if body[-1] not in "])":
            raise fail("a range must end with ']' or ')'", lead + len(body) - 1, lead + len(body))
        low_inclusive, high_inclusive = body[0] == "[", body[-1] == "]"
        inner = body[1:-1]
        pieces = inner.split(",")
        if len(pieces) > 2:
            second = inner.index(",", inner.index(",") + 1)
            raise fail("a range has at most two bounds", lead + 1 + second, lead + 2 + second)
        if all(not p.strip() for p in pieces):
            raise fail("a range needs at least one bound", lead, lead + len(body))
        starts = [lead + 1, lead + 2 + len(pieces[0])]
        low_text = pieces[0].strip()
        low_at = starts[0] + len(pieces[0]) - len(pieces[0].lstrip())
        high_text = pieces[1].strip() if len(pieces) == 2 else low_text
        high_at = (
            starts[1] + len(pieces[1]) - len(pieces[1].lstrip()) if len(pieces) == 2 else low_at
        )
        low_version: NuGetVersion | None = None
        if low_text:
            if "*" in low_text:
                float_range = _parse_float(low_text, text, low_at)
                low_version = float_range.min_version
            else:
                low_version = _parse_version(
                    low_text, full=text, offset=low_at, what="version range"
                )
        high_version: NuGetVersion | None = None
        if high_text:
            if "*" in high_text:
                where = high_at
                raise fail("only the lower bound may float", where, where + len(high_text))
            high_version = _parse_version(
                high_text, full=text, offset=high_at, what="version range"
            )
        if low_version is not None and high_version is not None:
            if high_version < low_version:
                raise fail("the lower bound is above the upper bound", lead, lead + len(body))
            if high_version == low_version and not (low_inclusive and high_inclusive):
                reason = (
                    "a single version must be in []"
                    if len(pieces) == 1
                    else "an empty range: equal bounds must both be inclusive"
                )
                raise fail(reason, lead, lead + len(body))
        lower = None if low_version is None else Bound(low_version, low_inclusive)
        upper = None if high_version is None else Bound(high_version, high_inclusive)
    else:
        if "*" in body:
            float_range = _parse_float(body, text, lead)
            low_version = float_range.min_version
        else:
            low_version = _parse_version(body, full=text, offset=lead, what="version range")
        lower, upper = Bound(low_version, True), None

    allowed = Ranges([Interval(lower, upper)])
    prerelease_bounds = any(b is not None and b.version.is_prerelease for b in (lower, upper))
    return NugetConstraint(
        text,
        allowed,
        allowed if prerelease_bounds else Ranges.empty(),
        float_range,
    )


class NugetScheme:
    """NuGet versions and version ranges (with floating versions)."""

    name = "nuget"

    def parse_version(self, text: str) -> NuGetVersion:
        return _parse_version(text)

    def is_prerelease(self, version: NuGetVersion) -> bool:
        """A version with release labels (``1.0.0-beta``)."""
        return version.is_prerelease

    def parse_constraint(self, text: str) -> NugetConstraint:
        return _parse_range(text)


SCHEME: Final = NugetScheme()
