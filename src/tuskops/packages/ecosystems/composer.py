"""Composer: versions and constraints as composer/semver reads them, with stability rules.

Hand-written because no Python library implements Composer's rules faithfully: its versions
are not SemVer (four numeric parts, ``1.2`` is ``1.2.0.0``; ``patch``/``pl``/``p`` sort
*after* the release; date versions; ``1.x-dev`` branch aliases), its operators add ``-dev``
to bounds depending on the operator, hyphen ranges treat a partial upper bound as a
wildcard, and a package's acceptance depends on minimum-stability and ``@flags``.

Versions (``VersionParser::normalize``): whitespace trimmed, ``v`` prefix, aliases (``x as
y``), ``@flag`` and ``+build`` stripped; ``1.2`` -> ``1.2.0.0``; modifiers ``a b RC alpha beta
patch pl p`` (with an optional number) and ``dev`` -> ``1.0.0.0-beta2``, ``1.0.0.0-RC1-dev``;
date versions (``20100102``, ``2010-01-02``); ``master``/``trunk``/``default`` and ``dev-*``
are branches; ``1.x-dev`` / ``2.1.*-dev`` -> ``1.9999999.9999999.9999999-dev``.

Order: PHP's ``version_compare`` on the normalised strings (parts are runs of digits or of
letters; numbers numerically; ``dev < alpha = a < beta = b < RC = rc < number < patch = pl
= p``; a missing part sits between ``RC`` and any number). A ``dev-`` branch compares with
nothing: composer/semver's ``Constraint`` matches a branch only by ``==`` (the same name) and
``!=``. Here branches are points in their own region above every numeric version (sorted by
name, which means nothing), separated by a synthetic sentinel ``TOP``: ``>= 1.0`` becomes
``[1.0.0.0-dev, TOP)``, so it holds no branch, while ``!= 1.0``, ``*`` and complements do,
exactly as Composer answers them.

Constraints (``VersionParser::parseConstraints``): ``||`` (or ``|``) separates alternatives;
``,`` or a space separates ANDed parts; each part is ``*``/``x``, a tilde ``~1.2``, caret
``^1.2``, wildcard ``1.2.*``, hyphen ``1.0 - 2.0`` (a partial upper bound means "below the
next": ``< 2.1.0.0-dev``), or an operator ``= == != <> > >= < <=`` and a version (none is
``=``); ``<`` and ``>=`` get ``-dev`` unless the version has a modifier; ``@dev @alpha @beta
@RC @stable`` on a part is stripped and, for non-``=`` operators on a stable version, appended
as its modifier (``>=1.0@beta`` is ``>= 1.0.0.0-beta``); ``#ref`` on a branch is stripped.

Stability: ``contains(version, minimum_stability="stable")`` applies Composer's pool filter
the way ``RootPackageLoader::extractStabilityFlags`` and ``StabilityFilter`` do for a root
requirement: explicit ``@flags`` in the constraint (the least stable wins) *replace* the
minimum stability for this package, even when stricter; without one, a single-token part
naming an unstable version (``1.0.0-beta2``, ``dev-main``, ``2.x-dev``) loosens it to that
stability. Composer applies flags only to the root package's requirements (and per package,
across all of that package's root constraints); pass ``use_flags=False`` for a dependency's
requirement. ``Ranges`` alone are the versions before the stability filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Ranges

__all__ = [
    "SCHEME",
    "STABILITIES",
    "TOP",
    "ComposerConstraint",
    "ComposerScheme",
    "ComposerVersion",
    "normalize",
    "parse_stability",
]

NAME = "composer"

#: Composer's BasePackage::STABILITIES: lower is more stable.
STABILITIES = {"stable": 0, "RC": 5, "beta": 10, "alpha": 15, "dev": 20}

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_STABILITY_WORDS = "stable|RC|beta|alpha|dev"
_CLASSICAL = re.compile(rf"v?(\d{{1,5}}+)(\.\d++)?(\.\d++)?(\.\d++)?{_MODIFIER}\Z", re.I)
_DATE = re.compile(
    rf"v?(\d{{4}}(?:[.:-]?\d{{2}}){{1,6}}(?:[.:-]?\d{{1,3}}){{0,2}}){_MODIFIER}\Z", re.I
)
_ALIAS = re.compile(r"([^,\s]++) ++as ++([^,\s]++)\Z")
_FLAG = re.compile(rf"@(?:{_STABILITY_WORDS})\Z", re.I)
_BUILD = re.compile(r"([^,\s+]++)\+[^\s]++\Z")
_DEV_SUFFIX = re.compile(r"(.*?)[.-]?dev\Z", re.I | re.S)
_BRANCH = re.compile(r"v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?\Z", re.I)
_PARSE_STABILITY = re.compile(rf"{_MODIFIER}(?:\+.*)?\Z", re.I | re.S)

_OR_SPLIT = re.compile(r"\s*\|\|?\s*")
_AND_SPLIT = re.compile(r"(?<!^)(?<!as)(?<![=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|\Z)")
_PART_FLAG = re.compile(rf"([^,\s]*?)@({_STABILITY_WORDS})\Z", re.I)
_REF = re.compile(r"(dev-[^,\s@]+?|[^,\s@]+?\.x-dev)#.+\Z", re.I)
_MATCH_ALL = re.compile(r"(v)?[xX*](\.[xX*])*\Z", re.I)
_VERSION_RE = (
    r"v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.(\d++))?"
    rf"(?:{_MODIFIER}|\.([xX*][.-]?dev))(?:\+[^\s]+)?"
)
_TILDE = re.compile(rf"~>?{_VERSION_RE}\Z", re.I)
_CARET = re.compile(rf"\^{_VERSION_RE}()\Z", re.I)
_XRANGE = re.compile(r"v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.[xX*])++\Z")
_HYPHEN = re.compile(rf"({_VERSION_RE}) +- +({_VERSION_RE})()\Z", re.I)
_BASIC = re.compile(r"(<>|!=|>=?|<=?|==?)?\s*(.*)")
_MODIFIER_AT_END = re.compile(rf"-{_MODIFIER}\Z")
_INFER_ALIAS = re.compile(r"([^,\s@]+) as .+\Z")
_SINGLE_TOKEN = re.compile(r"[^,\s@]+\Z")
_EXPLICIT_FLAG = re.compile(r"[^@]*?@(stable|RC|beta|alpha|dev)\Z", re.I)

# PHP version_compare: special forms, matched by prefix in this order.
_FORMS = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", 4),
    ("pl", 5),
    ("p", 5),
)
_NUMBER = 4
_PARTS = re.compile(r"[0-9]+|[^0-9.\-_+]+")
_END = (_NUMBER, -1)  # a missing part: above RC, below any number


def _php_trim(text: str) -> str:
    return text.strip(" \t\n\r\0\x0b")


def _form(part: str) -> int:
    for form, rank in _FORMS:
        if part.startswith(form):
            return rank
    return -6


def _php_key(normalized: str) -> tuple[tuple[int, int], ...]:
    """The order key of PHP's ``version_compare`` for one string."""
    parts: list[tuple[int, int]] = []
    for run in _PARTS.findall(normalized):
        if run.isdigit():
            parts.append((_NUMBER, int(run)))
        else:
            # Non-alphanumerics separate parts too; letters form one part.
            parts.extend((_form(word), 0) for word in re.findall(r"[A-Za-z]+", run))
    return (*parts, _END)


@dataclass(frozen=True, eq=False)
class ComposerVersion:
    """A normalised Composer version, or a ``dev-`` branch (``branch`` is its name)."""

    #: The normalised string (``1.2.0.0-beta2``, ``dev-main``).
    normalized: str
    #: The text it was parsed from.
    pretty: str = ""
    _region: int = field(default=0, repr=False)

    @property
    def branch(self) -> str | None:
        """The branch name of a ``dev-`` version (non-comparable), else None."""
        return self.normalized[4:] if self._region == 2 else None

    @property
    def is_branch(self) -> bool:
        return self._region == 2

    @cached_property
    def stability(self) -> str:
        """``VersionParser::parseStability``: stable, RC, beta, alpha or dev."""
        return parse_stability(self.normalized)

    @cached_property
    def _key(self) -> tuple[int, tuple[tuple[int, int], ...] | str]:
        if self._region == 0:
            return (0, _php_key(self.normalized))
        if self._region == 1:
            return (1, "")
        return (2, self.normalized)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposerVersion) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: ComposerVersion) -> bool:
        return self._key < other._key

    def __le__(self, other: ComposerVersion) -> bool:
        return self._key <= other._key

    def __gt__(self, other: ComposerVersion) -> bool:
        return self._key > other._key

    def __ge__(self, other: ComposerVersion) -> bool:
        return self._key >= other._key

    def __str__(self) -> str:
        return self.normalized

    @classmethod
    def of(cls, normalized: str, pretty: str = "") -> ComposerVersion:
        """A version from an already normalised string."""
        region = 2 if normalized.startswith("dev-") else 0
        return cls(normalized, pretty or normalized, region)


#: Above every numeric version, below every branch.
TOP = ComposerVersion("TOP", "TOP", 1)


def parse_stability(version: str) -> str:
    version = re.sub(r"#.+\Z", "", version, flags=re.S)
    if version.startswith("dev-") or version.endswith("-dev"):
        return "dev"
    match = _PARSE_STABILITY.search(version.lower())
    if match is None:  # pragma: no cover - every group is optional
        return "stable"
    if match.group(3):
        return "dev"
    word = match.group(1)
    if word in ("beta", "b"):
        return "beta"
    if word in ("alpha", "a"):
        return "alpha"
    if word == "rc":
        return "RC"
    return "stable"


def _expand_stability(word: str) -> str:
    word = word.lower()
    return {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}.get(word, word)


class _Invalid(ValueError):
    pass


def normalize(version: str) -> str:
    """``VersionParser::normalize``; raises ValueError with Composer's message."""
    version = _php_trim(version)
    original = version
    if match := _ALIAS.match(version):
        version = match.group(1)
    if match := _FLAG.search(version):
        version = version[: match.start()]
    if version in ("master", "trunk", "default"):
        version = "dev-" + version
    if version[:4].lower() == "dev-":
        return "dev-" + version[4:]
    if match := _BUILD.match(version):
        version = match.group(1)
    index = 0
    if match := _CLASSICAL.match(version):
        groups = match.groups()
        version = groups[0] + "".join(g or ".0" for g in groups[1:4])
        index = 4
    elif match := _DATE.match(version):
        groups = match.groups()
        version = re.sub(r"\D", ".", groups[0])
        index = 1
    if index:
        word, number, dev = groups[index], groups[index + 1], groups[index + 2]
        if word:
            if word == "stable":
                return version
            version += "-" + _expand_stability(word) + (number or "").lstrip(".-")
        if dev:
            version += "-dev"
        return version
    if match := _DEV_SUFFIX.match(version):
        normalized = _normalize_branch(match.group(1))
        if "dev-" not in normalized:
            return normalized
    raise _Invalid(f'Invalid version string "{original}"')


def _normalize_branch(name: str) -> str:
    name = _php_trim(name)
    if match := _BRANCH.match(name):
        out = "".join(
            (g if g is not None else ".x").replace("*", "x").replace("X", "x")
            for g in match.groups()
        )
        return out.replace("x", "9999999") + "-dev"
    return "dev-" + name


def _manipulate(parts: list[str], position: int, increment: int = 0) -> str:
    """``manipulateVersionString`` with pad ``0`` (increments never carry here)."""
    out = list(parts)
    for i in range(4, 0, -1):
        if i > position:
            out[i] = "0"
        elif i == position and increment:
            out[i] = str(int(out[i] or "0") + increment)
    return ".".join(out[1:5])


def _given(value: str | None) -> bool:
    return value is not None and value != ""


_Op = tuple[str, ComposerVersion]


def _parse_part(part: str) -> list[_Op] | None:
    """``parseConstraint`` for one AND part: (op, version) pairs; None is match-all."""
    flag = None
    if match := _ALIAS.match(part):
        part = match.group(1)
    if match := _PART_FLAG.match(part):
        part = match.group(1) if match.group(1) else "*"
        if match.group(2) != "stable":
            flag = match.group(2)
    if match := _REF.match(part):
        part = match.group(1)
    if match := _MATCH_ALL.match(part):
        if match.group(1) or match.group(2):
            return [(">=", ComposerVersion.of("0.0.0.0-dev"))]
        return None

    if match := _TILDE.match(part):
        if part.startswith("~>"):
            raise _Invalid('Invalid operator "~>", you probably meant to use the "~" operator')
        g = ["", *(x or "" for x in match.groups())]
        position = 4 if g[4] else 3 if g[3] else 2 if g[2] else 1
        if g[8]:
            position += 1
        suffix = "" if (g[5] or g[7] or g[8]) else "-dev"
        low = normalize((part + suffix)[1:])
        high = _manipulate(g, max(1, position - 1), 1) + "-dev"
        return [(">=", ComposerVersion.of(low)), ("<", ComposerVersion.of(high))]

    if match := _CARET.match(part):
        g = ["", *(x or "" for x in match.groups())]
        if g[1] != "0" or not g[2]:
            position = 1
        elif g[2] != "0" or not g[3]:
            position = 2
        else:
            position = 3
        suffix = "" if (g[5] or g[7] or g[8]) else "-dev"
        low = normalize((part + suffix)[1:])
        high = _manipulate(g, position, 1) + "-dev"
        return [(">=", ComposerVersion.of(low)), ("<", ComposerVersion.of(high))]

    if match := _XRANGE.match(part):
        g = ["", *(x or "" for x in match.groups()), ""]
        position = 3 if g[3] else 2 if g[2] else 1
        low = _manipulate(g, position) + "-dev"
        high = _manipulate(g, position, 1) + "-dev"
        if low == "0.0.0.0-dev":
            return [("<", ComposerVersion.of(high))]
        return [(">=", ComposerVersion.of(low)), ("<", ComposerVersion.of(high))]

    if match := _HYPHEN.match(part):
        g = [match.group(0), *match.groups()]
        low_suffix = "" if (g[6] or g[8] or g[9]) else "-dev"
        low = normalize(g[1]) + low_suffix
        if (_given(g[12]) and _given(g[13])) or g[15] or g[17] or g[18]:
            upper: _Op = ("<=", ComposerVersion.of(normalize(g[10])))
        else:
            normalize(g[10])
            high_parts = ["", g[11], g[12] or "", g[13] or "", g[14] or ""]
            position = 2 if _given(g[12]) else 1
            upper = ("<", ComposerVersion.of(_manipulate(high_parts, position, 1) + "-dev"))
        return [(">=", ComposerVersion.of(low)), upper]

    match = _BASIC.match(part)
    assert match is not None  # everything there is optional
    op, text = match.group(1) or "", match.group(2)
    try:
        version = normalize(text)
    except _Invalid:
        if text.endswith("-dev") and re.fullmatch(r"[0-9a-zA-Z-./]+", text):
            version = normalize("dev-" + text[:-4])
        else:
            raise
    if op not in ("==", "=", "") and flag and parse_stability(version) == "stable":
        version += "-" + flag
    elif (
        op in ("<", ">=")
        and not _MODIFIER_AT_END.search(text.lower())
        and not text.startswith("dev-")
    ):
        version += "-dev"
    return [(op or "=", ComposerVersion.of(version))]


def _op_ranges(op: str, version: ComposerVersion) -> Ranges[ComposerVersion]:
    if op in ("=", "=="):
        return Ranges.singleton(version)
    if op in ("!=", "<>"):
        return ~Ranges.singleton(version)
    if version.is_branch:  # a branch is never above or below anything
        return Ranges.empty()
    if op == ">":
        return Ranges.between(version, TOP, lower_inclusive=False)
    if op == ">=":
        return Ranges.between(version, TOP)
    if op == "<":
        return Ranges.lower_than(version)
    return Ranges.lower_than(version, inclusive=True)  # <=


@dataclass(frozen=True, eq=False)
class ComposerConstraint:
    """A parsed constraint (or a set derived from constraints) and its stability flags."""

    text: str
    ranges: Ranges[ComposerVersion]
    #: The least stable explicit ``@flag`` (``@stable`` counts), or None.
    explicit_flag: str | None = None
    #: The least stable stability named by a single-token part (``1.0-beta2``), or None.
    inferred_flag: str | None = None

    def stability_threshold(self, minimum_stability: str = "stable") -> str:
        """The least stable stability this constraint accepts."""
        if self.explicit_flag is not None:
            return self.explicit_flag
        if (
            self.inferred_flag is not None
            and STABILITIES[self.inferred_flag] > STABILITIES[minimum_stability]
        ):
            return self.inferred_flag
        return minimum_stability

    def contains(
        self,
        version: ComposerVersion,
        minimum_stability: str = "stable",
        *,
        use_flags: bool = True,
    ) -> bool:
        """Whether Composer would pick ``version`` for this (root) requirement."""
        minimum_stability = _stability_name(minimum_stability)
        threshold = self.stability_threshold(minimum_stability) if use_flags else minimum_stability
        if STABILITIES[version.stability] > STABILITIES[threshold]:
            return False
        return self.ranges.contains(version)

    def __contains__(self, version: ComposerVersion) -> bool:
        return self.contains(version)

    def _combine(
        self, other: ComposerConstraint, text: str, ranges: Ranges[ComposerVersion]
    ) -> ComposerConstraint:
        return ComposerConstraint(
            text,
            ranges,
            _least_stable(self.explicit_flag, other.explicit_flag),
            _least_stable(self.inferred_flag, other.inferred_flag),
        )

    def intersection(self, other: ComposerConstraint) -> ComposerConstraint:
        return self._combine(other, f"({self.text}) AND ({other.text})", self.ranges & other.ranges)

    def union(self, other: ComposerConstraint) -> ComposerConstraint:
        return self._combine(other, f"({self.text}) OR ({other.text})", self.ranges | other.ranges)

    def complement(self) -> ComposerConstraint:
        return ComposerConstraint(
            f"NOT ({self.text})", ~self.ranges, self.explicit_flag, self.inferred_flag
        )

    def difference(self, other: ComposerConstraint) -> ComposerConstraint:
        return self.intersection(other.complement())

    def is_empty(self) -> bool:
        return self.ranges.is_empty()

    __and__ = intersection
    __or__ = union
    __invert__ = complement
    __sub__ = difference

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ComposerConstraint)
            and self.ranges == other.ranges
            and self.explicit_flag == other.explicit_flag
            and self.inferred_flag == other.inferred_flag
        )

    def __hash__(self) -> int:
        return hash((self.ranges, self.explicit_flag, self.inferred_flag))

    def __str__(self) -> str:
        return self.text


def _stability_name(name: str) -> str:
    lowered = name.lower()
    canonical = "RC" if lowered == "rc" else lowered
    if canonical not in STABILITIES:
        raise ValueError(f"unknown stability {name!r} (known: {', '.join(STABILITIES)})")
    return canonical


def _least_stable(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a if b is None else b
    return a if STABILITIES[a] >= STABILITIES[b] else b


def _split(text: str, pattern: re.Pattern[str], base: int) -> list[tuple[str, int]]:
    """``preg_split`` keeping each piece's offset in the original text."""
    pieces: list[tuple[str, int]] = []
    start = 0
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        pieces.append((text[start : match.start()], base + start))
        start = match.end()
    pieces.append((text[start:], base + start))
    return pieces


class ComposerScheme:
    """Composer versions and constraints."""

    name = NAME

    def parse_version(self, text: str) -> ComposerVersion:
        """``VersionParser::normalize``; VersionSyntaxError where it throws."""
        try:
            return ComposerVersion.of(normalize(text), text)
        except _Invalid as error:
            raise VersionSyntaxError(NAME, "version", text, str(error), 0, len(text)) from None

    def is_prerelease(self, version: ComposerVersion) -> bool:
        """Any stability below ``stable`` (RC, beta, alpha, dev and ``dev-`` branches)."""
        return version.stability != "stable"

    def parse_constraint(self, text: str) -> ComposerConstraint:
        """``VersionParser::parseConstraints``, plus the stability flags of the text."""
        trimmed = _php_trim(text)
        base = text.find(trimmed) if trimmed else len(text)
        ranges: Ranges[ComposerVersion] = Ranges.empty()
        explicit: str | None = None
        inferred: str | None = None
        parts: list[str] = []
        for alternative, alt_start in _split(trimmed, _OR_SPLIT, base):
            group: Ranges[ComposerVersion] = Ranges.full()
            for part, start in _split(alternative, _AND_SPLIT, alt_start):
                parts.append(part)
                try:
                    parsed = _parse_part(part)
                except _Invalid as error:
                    reason = f"could not parse version constraint {part!r}: {error}"
                    raise VersionSyntaxError(
                        NAME, "constraint", text, reason, start, start + max(1, len(part))
                    ) from None
                for op, version in parsed or ():
                    group &= _op_ranges(op, version)
            ranges |= group
        for part in parts:
            if match := _EXPLICIT_FLAG.match(part):
                explicit = _least_stable(explicit, _stability_name(match.group(1)))
        if explicit is None:
            for part in parts:
                token = _INFER_ALIAS.sub(r"\1", part)
                if _SINGLE_TOKEN.match(token) and (found := parse_stability(token)) != "stable":
                    inferred = _least_stable(inferred, found)
        return ComposerConstraint(text, ranges, explicit, inferred)


SCHEME = ComposerScheme()
