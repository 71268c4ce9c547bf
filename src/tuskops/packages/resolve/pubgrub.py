"""PubGrub: conflict-driven version solving for one-version-per-package ecosystems.

The algorithm follows Dart pub's description (``doc/solver.md`` in dart-lang/pub) and the
pubgrub-rs book: a *partial solution* of decisions and derivations, *incompatibilities*
(sets of terms that must not all hold), unit propagation, conflict resolution that learns a
root cause and backjumps, and decision making that picks the package with the fewest
candidates. When no solution exists, the incompatibility that proves it carries its whole
derivation, and :func:`explain` turns that tree into the numbered, plain-sentence report
PubGrub is known for, ending at the user's own requirements.

Everything here is pure: the :class:`~.base.Provider` answers synchronously, and its
:class:`~.base.Unavailable` becomes an incompatibility ("a 1.0 is unavailable: <reason>"),
never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Literal

from tuskops.errors import PackageError
from tuskops.packages.resolve.base import ROOT, Provider, Requirement, Unavailable, V
from tuskops.packages.versions import Interval, Ranges

__all__ = [
    "DEFAULT_MAX_STEPS",
    "Incompatibility",
    "Kind",
    "ResolutionImpossible",
    "ResolutionTooComplex",
    "Term",
    "explain",
    "resolve",
]

#: How many decisions plus conflict-resolution steps :func:`resolve` takes before giving up.
DEFAULT_MAX_STEPS = 100_000


# --- terms ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term(Generic[V]):
    """A statement about one package: positive, "``name`` is selected at a version in
    ``ranges``"; negative, "``name`` is not selected at a version in ``ranges``" (which holds
    too when ``name`` is not selected at all)."""

    name: str
    ranges: Ranges[V]
    positive: bool = True

    @classmethod
    def any(cls, name: str) -> Term[V]:
        """The term every selection satisfies."""
        return cls(name, Ranges.empty(), positive=False)

    def negate(self) -> Term[V]:
        return Term(self.name, self.ranges, not self.positive)

    def is_any(self) -> bool:
        return not self.positive and self.ranges.is_empty()

    def is_empty(self) -> bool:
        """Whether no selection satisfies the term."""
        return self.positive and self.ranges.is_empty()

    def intersect(self, other: Term[V]) -> Term[V]:
        a, b = self.ranges, other.ranges
        if self.positive and other.positive:
            return Term(self.name, a & b)
        if self.positive:
            return Term(self.name, a - b)
        if other.positive:
            return Term(self.name, b - a)
        return Term(self.name, a | b, positive=False)

    def difference(self, other: Term[V]) -> Term[V]:
        return self.intersect(other.negate())

    def satisfies(self, other: Term[V]) -> bool:
        """Whether every selection satisfying ``self`` satisfies ``other``."""
        mine, theirs = self.ranges, other.ranges
        if self.positive:
            single = mine.singleton_value()
            if single is not None:  # a decision: a membership test
                return _contains(theirs, single) == other.positive
            if other.positive:
                return _subset(mine, theirs)
            return _disjoint(mine, theirs)
        if other.positive:
            return False
        return _subset(theirs, mine)

    def contradicts(self, other: Term[V]) -> bool:
        """Whether no selection satisfies both."""
        mine, theirs = self.ranges, other.ranges
        if self.positive and other.positive:
            return _disjoint(mine, theirs)
        if self.positive:
            return _subset(mine, theirs)
        if other.positive:
            return _subset(theirs, mine)
        return False


def _contains(ranges: Ranges[V], version: V) -> bool:
    """Membership by bisection over the sorted, disjoint intervals."""
    intervals = ranges.intervals
    lo, hi = 0, len(intervals)
    while lo < hi:  # the first interval that does not end before ``version``
        mid = (lo + hi) // 2
        upper = intervals[mid].upper
        if upper is not None and (
            upper.version < version or (upper.version == version and not upper.inclusive)
        ):
            lo = mid + 1
        else:
            hi = mid
    return lo < len(intervals) and intervals[lo].contains(version)


def _subset(small: Ranges[V], big: Ranges[V]) -> bool:
    if small.is_empty() or big.is_full():
        return True
    single = small.singleton_value()
    if single is not None:
        return _contains(big, single)
    single = big.singleton_value()
    if single is not None:
        return small.singleton_value() == single
    # Each interval of ``small`` must lie within one of ``big``'s (disjoint, non-adjacent).
    outer = big.intervals
    j = 0
    for inner in small.intervals:
        while j < len(outer) and _ends_before(outer[j], inner):
            j += 1
        if j == len(outer) or not _covers(outer[j], inner):
            return False
    return True


def _ends_before(first: Interval[V], second: Interval[V]) -> bool:
    """Whether ``first`` ends before ``second`` starts, with no version in common."""
    upper, lower = first.upper, second.lower
    if upper is None or lower is None:
        return False
    if upper.version == lower.version:
        return not (upper.inclusive and lower.inclusive)
    return upper.version < lower.version


def _covers(outer: Interval[V], inner: Interval[V]) -> bool:
    lo, hi = outer.lower, outer.upper
    if lo is not None:
        if inner.lower is None or inner.lower.version < lo.version:
            return False
        if inner.lower.version == lo.version and inner.lower.inclusive and not lo.inclusive:
            return False
    if hi is not None:
        if inner.upper is None or hi.version < inner.upper.version:
            return False
        if inner.upper.version == hi.version and inner.upper.inclusive and not hi.inclusive:
            return False
    return True


def _disjoint(first: Ranges[V], second: Ranges[V]) -> bool:
    for one, two in ((first, second), (second, first)):
        single = one.singleton_value()
        if single is not None:
            return not _contains(two, single)
    return first.is_disjoint(second)


# --- incompatibilities ------------------------------------------------------------------------


class Kind(Enum):
    """Why an incompatibility holds."""

    ROOT = "root"  #: the root must be selected: ``{not root}``
    DEPENDENCY = "dependency"  #: ``{depender, not dependency}``
    NO_VERSIONS = "no_versions"  #: no candidate matches the term
    UNAVAILABLE = "unavailable"  #: the provider raised Unavailable
    DERIVED = "derived"  #: learned from two others during conflict resolution


class Incompatibility(Generic[V]):
    """Terms that must not all be true; external (with a reason) or derived from two causes.

    A failed resolution's root incompatibility is the root of its derivation tree: follow
    ``causes`` down to the external facts.
    """

    __slots__ = ("causes", "kind", "reason", "requirement", "terms")

    def __init__(
        self,
        terms: Iterable[Term[V]],
        kind: Kind,
        *,
        causes: tuple[Incompatibility[V], Incompatibility[V]] | None = None,
        requirement: Requirement[V] | None = None,
        reason: str = "",
    ) -> None:
        merged: dict[str, Term[V]] = {}
        for term in terms:
            previous = merged.get(term.name)
            merged[term.name] = term if previous is None else previous.intersect(term)
        # A term every selection satisfies constrains nothing.
        self.terms: dict[str, Term[V]] = {n: t for n, t in merged.items() if not t.is_any()}
        self.kind = kind
        self.causes = causes
        self.requirement = requirement
        self.reason = reason

    @property
    def is_derived(self) -> bool:
        return self.causes is not None

    def is_failure(self) -> bool:
        """Whether the incompatibility says the root cannot be selected."""
        if not self.terms:
            return True
        if len(self.terms) == 1:
            (term,) = self.terms.values()
            return term.name == ROOT and term.positive
        return False

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{'' if t.positive else 'not '}{t.name} {t.ranges}" for t in self.terms.values()
        )
        return f"Incompatibility({{{inner}}}, {self.kind.value})"


# --- errors -----------------------------------------------------------------------------------


class ResolutionImpossible(PackageError):
    """No set of versions satisfies the requirements. ``derivation`` is the incompatibility
    that proves it (its ``causes`` form the tree); ``explanation`` says why in sentences."""

    def __init__(self, derivation: Incompatibility[Any], explanation: str) -> None:
        self.derivation = derivation
        self.explanation = explanation
        super().__init__(explanation)


class ResolutionTooComplex(PackageError):
    """The search took more steps than allowed (``max_steps``) without an answer."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        super().__init__(
            f"dependency resolution gave up after {steps} steps without finding a solution "
            "or proving there is none; pin some versions to narrow the search, or raise "
            "the step limit"
        )


# --- the partial solution ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Assignment(Generic[V]):
    term: Term[V]
    level: int
    cause: Incompatibility[V] | None  # None for a decision
    version: V | None  # the decided version (None for the root's decision)
    accumulated: Term[V]  # this package's assignments up to and including this one

    @property
    def is_decision(self) -> bool:
        return self.cause is None


_Relation = Literal["satisfied", "contradicted", "almost", "inconclusive"]


class _PartialSolution(Generic[V]):
    def __init__(self) -> None:
        self.assignments: list[_Assignment[V]] = []
        self.by_name: dict[str, list[int]] = {}  # first-seen order is kept for tie-breaking
        self.terms: dict[str, Term[V]] = {}  # the intersection of each package's assignments
        self.decisions: dict[str, V | None] = {}
        self.level = 0

    def _add(
        self, term: Term[V], cause: Incompatibility[V] | None, version: V | None = None
    ) -> None:
        name = term.name
        accumulated = self.term(name).intersect(term)
        self.by_name.setdefault(name, []).append(len(self.assignments))
        self.assignments.append(_Assignment(term, self.level, cause, version, accumulated))
        self.terms[name] = accumulated

    def term(self, name: str) -> Term[V]:
        return self.terms.get(name) or Term.any(name)

    def derive(self, term: Term[V], cause: Incompatibility[V]) -> None:
        self._add(term, cause)

    def decide(self, name: str, version: V | None) -> None:
        if name != ROOT:  # the root's decision opens no level: nothing to backtrack to
            self.level += 1
        ranges: Ranges[V] = Ranges.full() if version is None else Ranges.singleton(version)
        self._add(Term(name, ranges), None, version)
        self.decisions[name] = version

    def backtrack(self, level: int) -> None:
        while self.assignments and self.assignments[-1].level > level:
            assignment = self.assignments.pop()
            name = assignment.term.name
            self.by_name[name].pop()
            if assignment.is_decision:
                del self.decisions[name]
        self.level = level
        self.terms = {
            name: self.assignments[indices[-1]].accumulated
            for name, indices in self.by_name.items()
            if indices
        }

    def relation(self, incompatibility: Incompatibility[V]) -> tuple[_Relation, Term[V] | None]:
        unsatisfied: Term[V] | None = None
        for term in incompatibility.terms.values():
            current = self.term(term.name)
            if current.satisfies(term):
                continue
            if current.contradicts(term):
                return "contradicted", None
            if unsatisfied is not None:
                return "inconclusive", None
            unsatisfied = term
        if unsatisfied is None:
            return "satisfied", None
        return "almost", unsatisfied

    def satisfier(self, term: Term[V]) -> int:
        """The index of the earliest assignment after which ``term`` is satisfied."""
        # The accumulated terms only narrow, so satisfaction is monotone: bisect.
        indices = self.by_name.get(term.name, [])
        lo, hi = 0, len(indices)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.assignments[indices[mid]].accumulated.satisfies(term):
                hi = mid
            else:
                lo = mid + 1
        if lo == len(indices):
            raise AssertionError(f"pubgrub: {term} is not satisfied by the partial solution")
        return indices[lo]

    def undecided(self) -> list[Term[V]]:
        """Packages with a positive derivation and no decision, in first-seen order."""
        return [
            term
            for name in self.by_name
            if name not in self.decisions and (term := self.term(name)).positive
        ]


# --- the solver -------------------------------------------------------------------------------


class _Solver(Generic[V]):
    def __init__(
        self,
        provider: Provider[V],
        root_requirements: Sequence[Requirement[V]],
        max_steps: int,
        root_name: str,
    ) -> None:
        self.provider = provider
        self.root_name = root_name
        self.root_requirements = root_requirements
        self.max_steps = max_steps
        self.steps = 0
        self.solution: _PartialSolution[V] = _PartialSolution()
        self.incompatibilities: dict[str, list[Incompatibility[V]]] = {}
        self.candidates: dict[tuple[str, Ranges[V]], Sequence[V] | Unavailable] = {}
        self.dependencies: dict[tuple[str, V], list[Incompatibility[V]]] = {}
        self.texts: dict[tuple[str, Ranges[V]], str] = {}

    def _step(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise ResolutionTooComplex(self.max_steps)

    def _add(self, incompatibility: Incompatibility[V]) -> None:
        for name in incompatibility.terms:
            self.incompatibilities.setdefault(name, []).append(incompatibility)

    def solve(self) -> dict[str, V]:
        self._add(Incompatibility([Term(ROOT, Ranges.full(), positive=False)], Kind.ROOT))
        next_name: str | None = ROOT
        while next_name is not None:
            self._propagate(next_name)
            next_name = self._decide()
        return {n: v for n, v in self.solution.decisions.items() if v is not None and n != ROOT}

    # --- unit propagation ---------------------------------------------------------------------

    def _propagate(self, name: str) -> None:
        changed = {name}
        while changed:
            package = changed.pop()
            for incompatibility in reversed(self.incompatibilities.get(package, [])):
                relation, term = self.solution.relation(incompatibility)
                if relation == "satisfied":
                    cause = self._resolve_conflict(incompatibility)
                    relation, term = self.solution.relation(cause)
                    if relation != "almost" or term is None:
                        raise AssertionError("pubgrub: a learned cause is not almost satisfied")
                    self.solution.derive(term.negate(), cause)
                    changed = {term.name}
                    break
                if relation == "almost" and term is not None:
                    self.solution.derive(term.negate(), incompatibility)
                    changed.add(term.name)

    # --- conflict resolution ------------------------------------------------------------------

    def _resolve_conflict(self, incompatibility: Incompatibility[V]) -> Incompatibility[V]:
        original = incompatibility
        solution = self.solution
        while True:
            self._step()
            if incompatibility.is_failure():
                raise ResolutionImpossible(
                    incompatibility,
                    explain(
                        incompatibility,
                        self.provider,
                        root_name=self.root_name,
                        texts=self.texts,
                    ),
                )
            latest = -1
            latest_term: Term[V] | None = None
            difference: Term[V] | None = None
            previous_level = 0
            for term in incompatibility.terms.values():
                index = solution.satisfier(term)
                if index > latest:
                    if latest >= 0:
                        previous_level = max(previous_level, solution.assignments[latest].level)
                    latest, latest_term = index, term
                    difference = None
                else:
                    previous_level = max(previous_level, solution.assignments[index].level)
                if latest_term is term:
                    # The satisfier may satisfy the term only together with earlier
                    # assignments to the same package; those count as previous satisfiers.
                    diff = solution.assignments[latest].term.difference(term)
                    if not diff.is_empty():
                        earlier = solution.satisfier(diff.negate())
                        previous_level = max(previous_level, solution.assignments[earlier].level)
                        difference = diff
            satisfier = solution.assignments[latest]
            if satisfier.is_decision or previous_level != satisfier.level:
                if incompatibility is not original:
                    self._add(incompatibility)
                solution.backtrack(previous_level)
                return incompatibility
            assert satisfier.cause is not None
            assert latest_term is not None
            terms = [t for t in incompatibility.terms.values() if t is not latest_term]
            terms += [t for t in satisfier.cause.terms.values() if t.name != satisfier.term.name]
            if difference is not None:
                terms.append(difference.negate())
            incompatibility = Incompatibility(
                terms, Kind.DERIVED, causes=(incompatibility, satisfier.cause)
            )

    # --- decision making ----------------------------------------------------------------------

    def _candidates(self, term: Term[V]) -> Sequence[V] | Unavailable:
        key = (term.name, term.ranges)
        if key not in self.candidates:
            try:
                found = self.provider.candidates(term.name, term.ranges)
                self.candidates[key] = [v for v in found if term.ranges.contains(v)]
            except Unavailable as exc:
                self.candidates[key] = exc
        return self.candidates[key]

    def _remember(self, requirement: Requirement[V]) -> None:
        self.texts.setdefault((requirement.name, requirement.allowed), requirement.text)

    def _decide(self) -> str | None:
        undecided = self.solution.undecided()
        if not undecided:
            return None
        self._step()
        if any(term.name == ROOT for term in undecided):
            return self._choose_root()
        best: tuple[int, Term[V], Sequence[V]] | None = None
        for term in undecided:
            found = self._candidates(term)
            if isinstance(found, Unavailable):
                self._add(
                    Incompatibility(
                        [Term(term.name, Ranges.full())], Kind.UNAVAILABLE, reason=found.reason
                    )
                )
                return term.name
            if best is None or len(found) < best[0]:
                best = (len(found), term, found)
        assert best is not None
        _, term, found = best
        if not found:
            self._add(Incompatibility([term], Kind.NO_VERSIONS))
            return term.name
        version = found[0]
        new = self._dependencies(term.name, version)
        if new is None:
            return term.name
        if not self._would_conflict(term.name, new):
            self.solution.decide(term.name, version)
        return term.name

    def _choose_root(self) -> str:
        root: Term[V] = Term(ROOT, Ranges.full())
        new: list[Incompatibility[V]] = []
        for requirement in self.root_requirements:
            if requirement.name == ROOT:
                continue
            self._remember(requirement)
            new.append(
                Incompatibility(
                    [root, Term(requirement.name, requirement.allowed, positive=False)],
                    Kind.DEPENDENCY,
                    requirement=requirement,
                )
            )
        for incompatibility in new:
            self._add(incompatibility)
        if not self._would_conflict(ROOT, new):
            self.solution.decide(ROOT, None)
        return ROOT

    def _dependencies(self, name: str, version: V) -> list[Incompatibility[V]] | None:
        """Add the incompatibilities of ``name`` at ``version``'s dependencies (once) and
        return them; None when its metadata is unavailable (an incompatibility says so)."""
        key = (name, version)
        if key in self.dependencies:
            return self.dependencies[key]
        selected = Term(name, Ranges.singleton(version))
        try:
            requirements = self.provider.dependencies(name, version)
        except Unavailable as exc:
            self._add(Incompatibility([selected], Kind.UNAVAILABLE, reason=exc.reason))
            return None
        new: list[Incompatibility[V]] = []
        for requirement in requirements:
            self._remember(requirement)
            incompatibility = Incompatibility(
                [selected, Term(requirement.name, requirement.allowed, positive=False)],
                Kind.DEPENDENCY,
                requirement=requirement,
            )
            # A package allowing its own version says nothing.
            if any(t.is_empty() for t in incompatibility.terms.values()):
                continue
            new.append(incompatibility)
            self._add(incompatibility)
        self.dependencies[key] = new
        return new

    def _would_conflict(self, name: str, new: list[Incompatibility[V]]) -> bool:
        """Whether deciding ``name`` would satisfy one of its new incompatibilities."""
        for incompatibility in new:
            if all(
                self.solution.term(t.name).satisfies(t)
                for t in incompatibility.terms.values()
                if t.name != name
            ):
                return True
        return False


def resolve(
    provider: Provider[V],
    root_requirements: Sequence[Requirement[V]],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    root_name: str = "the project",
) -> dict[str, V]:
    """The version to install of every package the root needs (the root excluded).

    Raises :class:`ResolutionImpossible` with the derivation and its explanation when no
    solution exists, :class:`ResolutionTooComplex` after ``max_steps`` decisions and
    conflict-resolution steps. ``root_name`` is how explanations call the root.
    """
    return _Solver(provider, root_requirements, max_steps, root_name).solve()


# --- error reporting --------------------------------------------------------------------------


def explain(
    incompatibility: Incompatibility[V],
    provider: Provider[V],
    *,
    root_name: str = "the project",
    texts: dict[tuple[str, Ranges[V]], str] | None = None,
) -> str:
    """PubGrub's report for a failure: sentences from the external facts to the conclusion,
    with numbered lines where a derivation is used twice. ``texts`` maps a package's version
    set to the requirement text that wrote it, so terms read as the user wrote them."""
    reporter = _Reporter(provider, root_name, texts or {})
    try:
        return reporter.report(incompatibility)
    except RecursionError:  # a derivation too deep to tell step by step: list its facts
        facts: dict[str, None] = {}
        stack = [incompatibility]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.causes is None:
                facts[reporter.text(node)] = None
            else:
                stack.extend(node.causes)
        listed = "".join(f"\n  {fact}" for fact in facts)
        return f"Version solving failed because of these facts together:{listed}"


class _Reporter(Generic[V]):
    def __init__(
        self, provider: Provider[V], root_name: str, texts: dict[tuple[str, Ranges[V]], str]
    ) -> None:
        self.provider = provider
        self.root_name = root_name
        self.texts = texts
        self.lines: list[tuple[str, int | None]] = []
        self.numbers: dict[int, int] = {}  # id(incompatibility) -> its line number
        self.uses: dict[int, int] = {}  # id(incompatibility) -> how many derive from it

    def report(self, root: Incompatibility[V]) -> str:
        root = self._collapse(root, {})
        if not root.is_derived:
            return f"Because {self.text(root)}, version solving failed."
        self._count(root)
        self._visit(root, root, conclusion=True)
        width = max((len(f"({n}) ") for _, n in self.lines if n is not None), default=0)
        out = []
        for text, number in self.lines:
            if not text:
                out.append("")
            elif number is None:
                out.append(" " * width + text)
            else:
                out.append(f"({number}) ".ljust(width) + text)
        return "\n".join(out)

    def _collapse(
        self, node: Incompatibility[V], done: dict[int, Incompatibility[V]]
    ) -> Incompatibility[V]:
        """``node`` with the per-version noise folded away: where "a 1.0 depends on b>=2" and
        "no versions of a match >1.0,<2" give "a ^1 requires b>=2", say "a ^1 depends on b>=2",
        as PubGrub's reports do for ranges of dependers (iteratively: deep trees are fine)."""
        stack = [node]
        while stack:
            current = stack[-1]
            if id(current) in done:
                stack.pop()
                continue
            if current.causes is None:
                done[id(current)] = current
                stack.pop()
                continue
            pending = [c for c in current.causes if id(c) not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            first, second = (done[id(c)] for c in current.causes)
            done[id(current)] = self._fold(current, first, second)
        return done[id(node)]

    @staticmethod
    def _fold(
        node: Incompatibility[V], first: Incompatibility[V], second: Incompatibility[V]
    ) -> Incompatibility[V]:
        terms = list(node.terms.values())
        depender = next((t for t in terms if t.positive), None)
        dependency = next((t for t in terms if not t.positive), None)
        if len(terms) == 2 and depender is not None and dependency is not None:
            requirement = None
            for cause in (first, second):
                if cause.kind is Kind.DEPENDENCY and cause.terms.get(dependency.name) == dependency:
                    if set(cause.terms) != {depender.name, dependency.name}:
                        break
                    requirement = requirement or cause.requirement
                elif not (cause.kind is Kind.NO_VERSIONS and set(cause.terms) == {depender.name}):
                    break
            else:
                if requirement is not None:
                    return Incompatibility(terms, Kind.DEPENDENCY, requirement=requirement)
        if first is node.causes[0] and second is node.causes[1]:  # type: ignore[index]
            return node
        return Incompatibility(terms, node.kind, causes=(first, second))

    def _count(self, root: Incompatibility[V]) -> None:
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen or node.causes is None:
                continue
            seen.add(id(node))
            for cause in node.causes:
                self.uses[id(cause)] = self.uses.get(id(cause), 0) + 1
                stack.append(cause)

    def _write(self, incompatibility: Incompatibility[V], text: str) -> None:
        number = None
        if self.uses.get(id(incompatibility), 0) > 1:
            number = len(self.numbers) + 1
            self.numbers[id(incompatibility)] = number
        self.lines.append((text, number))

    def _number_last(self, incompatibility: Incompatibility[V]) -> int:
        if id(incompatibility) in self.numbers:
            return self.numbers[id(incompatibility)]
        text, number = self.lines[-1]
        if number is None:
            number = len(self.numbers) + 1
            self.lines[-1] = (text, number)
        self.numbers[id(incompatibility)] = number
        return number

    def _visit(
        self, node: Incompatibility[V], root: Incompatibility[V], *, conclusion: bool = False
    ) -> None:
        assert node.causes is not None
        cause1, cause2 = node.causes
        conjunction = "So," if conclusion or node is root else "And"
        text = self.text(node)
        if cause1.is_derived and cause2.is_derived:
            line1, line2 = self.numbers.get(id(cause1)), self.numbers.get(id(cause2))
            if line1 is not None and line2 is not None:
                self._write(
                    node,
                    f"Because {self.text(cause1)} ({line1}) and {self.text(cause2)} ({line2}), "
                    f"{text}.",
                )
            elif line1 is not None or line2 is not None:
                numbered, other = (cause1, cause2) if line1 is not None else (cause2, cause1)
                self._visit(other, root)
                self._write(
                    node,
                    f"{conjunction} because {self.text(numbered)} "
                    f"({self.numbers[id(numbered)]}), {text}.",
                )
            elif self._simple(cause1) or self._simple(cause2):
                simple, complex_ = (cause1, cause2) if self._simple(cause1) else (cause2, cause1)
                self._visit(complex_, root)
                self._visit(simple, root)
                self._write(node, f"Thus, {text}.")
            else:
                self._visit(cause1, root, conclusion=True)
                number = self._number_last(cause1)
                self.lines.append(("", None))
                self._visit(cause2, root)
                self._write(node, f"{conjunction} because {self.text(cause1)} ({number}), {text}.")
        elif cause1.is_derived or cause2.is_derived:
            derived, external = (cause1, cause2) if cause1.is_derived else (cause2, cause1)
            line = self.numbers.get(id(derived))
            prior = derived.causes
            if line is not None:
                self._write(
                    node,
                    f"Because {self.text(external)} and {self.text(derived)} ({line}), {text}.",
                )
            elif (
                prior is not None
                and prior[0].is_derived != prior[1].is_derived
                and self.uses.get(id(derived), 0) <= 1
                and id(prior[0] if prior[0].is_derived else prior[1]) not in self.numbers
            ):
                prior_derived, prior_external = (
                    (prior[0], prior[1]) if prior[0].is_derived else (prior[1], prior[0])
                )
                self._visit(prior_derived, root)
                self._write(
                    node,
                    f"{conjunction} because {self._and(prior_external, external)}, {text}.",
                )
            else:
                self._visit(derived, root)
                self._write(node, f"{conjunction} because {self.text(external)}, {text}.")
        else:
            self._write(node, f"Because {self._and(cause1, cause2)}, {text}.")

    @staticmethod
    def _simple(node: Incompatibility[V]) -> bool:
        return node.causes is not None and not any(c.is_derived for c in node.causes)

    # --- wording ------------------------------------------------------------------------------

    def _version(self, name: str, version: V) -> str:
        described = self.provider.describe(name, version)
        if described.startswith(name + " "):
            return described[len(name) + 1 :]
        if described.startswith(name + "@"):
            return described[len(name) + 1 :]
        return str(version)

    def _interval(self, name: str, interval: Interval[V]) -> str:
        lo, hi = interval.lower, interval.upper
        if lo is not None and hi is not None and lo.version == hi.version:
            return f"=={self._version(name, lo.version)}"
        parts = []
        if lo is not None:
            parts.append(f"{'>=' if lo.inclusive else '>'}{self._version(name, lo.version)}")
        if hi is not None:
            parts.append(f"{'<=' if hi.inclusive else '<'}{self._version(name, hi.version)}")
        return ",".join(parts) or "*"

    def _ranges(self, name: str, ranges: Ranges[V]) -> str:
        """``ranges`` without the package name: ``>=1.0,<2.0``."""
        text = self.texts.get((name, ranges))
        if text is not None and text.startswith(name):
            return text[len(name) :].strip() or "*"
        excluded = ranges.complement().singleton_value()
        if excluded is not None:
            return f"!={self._version(name, excluded)}"
        near = self._except(name, ranges)
        if near is not None:
            return near
        return " || ".join(self._interval(name, i) for i in ranges.intervals) or "<none>"

    def _except(self, name: str, ranges: Ranges[V]) -> str | None:
        """``^1.0 except 1.1.0``: a written range less a few single versions (what
        excluding versions one by one leaves), which reads better than its intervals."""
        best: tuple[str, list[V]] | None = None
        for (other, written), text in self.texts.items():
            if other != name or not text.startswith(name) or not ranges.is_subset(written):
                continue
            gaps = (written - ranges).intervals
            singles = [g.lower.version for g in gaps if g.lower is not None and g.lower == g.upper]
            if not gaps or len(singles) != len(gaps) or len(singles) > 3:
                continue
            if best is None or len(singles) < len(best[1]):
                best = (text[len(name) :].strip() or "*", singles)
        if best is None:
            return None
        versions = _join([self._version(name, v) for v in best[1]], "and")
        return f"{best[0]} except {versions}"

    def package(self, name: str, ranges: Ranges[V]) -> str:
        """How a positive term reads: ``django>=4.2`` (as written), ``django 4.2.1``,
        ``every version of django``, or the root's name."""
        if name == ROOT:
            return self.root_name
        if ranges.is_full():
            return f"every version of {name}"
        single = ranges.singleton_value()
        if single is not None:
            return self.provider.describe(name, single)
        text = self.texts.get((name, ranges))
        if text is not None:
            return text
        return f"{name} {self._ranges(name, ranges)}"

    def _term(self, term: Term[V]) -> str:
        if term.positive:
            return self.package(term.name, term.ranges)
        return f"not {self.package(term.name, term.ranges)}"

    def _dependency(self, node: Incompatibility[V]) -> tuple[Term[V], Term[V]] | None:
        """The depender's term and the dependency (as a positive term) of a dependency."""
        if node.kind is not Kind.DEPENDENCY:
            return None
        requirement = node.requirement
        if len(node.terms) == 1 and requirement is not None:
            # The dependency term was dropped (an empty range) or merged (on itself).
            (only,) = node.terms.values()
            if only.positive:
                return only, Term(requirement.name, requirement.allowed)
        if len(node.terms) != 2:
            return None
        depender = next((t for t in node.terms.values() if t.positive), None)
        dependency = next((t for t in node.terms.values() if not t.positive), None)
        if depender is None or dependency is None:
            return None
        return depender, dependency.negate()

    def text(self, node: Incompatibility[V]) -> str:
        terms = list(node.terms.values())
        if node.kind is Kind.ROOT:
            return f"{self.root_name} is selected"
        if node.kind is Kind.DEPENDENCY and (pair := self._dependency(node)) is not None:
            depender, dependency = pair
            wanted = self._requirement_text(node, dependency)
            return f"{self._term(depender)} depends on {wanted}"
        if node.kind is Kind.NO_VERSIONS and len(terms) == 1:
            term = terms[0]
            if term.ranges.is_full():
                return f"there are no versions of {term.name}"
            return f"no versions of {term.name} match {self._ranges(term.name, term.ranges)}"
        if node.kind is Kind.UNAVAILABLE and len(terms) == 1:
            term = terms[0]
            what = term.name if term.ranges.is_full() else self._term(term)
            return f"{what} is unavailable: {node.reason}"
        return self._generic(terms)

    def _requirement_text(self, node: Incompatibility[V], dependency: Term[V]) -> str:
        requirement = node.requirement
        if requirement is not None and requirement.allowed == dependency.ranges:
            return requirement.text
        return self.package(dependency.name, dependency.ranges)

    def _generic(self, terms: list[Term[V]]) -> str:
        if not terms or (len(terms) == 1 and terms[0].name == ROOT and terms[0].positive):
            return "version solving failed"
        positive = [t for t in terms if t.positive]
        negative = [t.negate() for t in terms if not t.positive]
        if not negative:
            if len(positive) == 1:
                return f"{self._term(positive[0])} is forbidden"
            return f"{_join([self._term(t) for t in positive], 'and')} are incompatible"
        wanted = _join([self._term(t) for t in negative], "or")
        if not positive:
            if len(negative) == 1:
                return f"{wanted} is required"
            return f"one of {wanted} is required"
        if len(positive) == 1:
            return f"{self._term(positive[0])} requires {wanted}"
        return f"{_join([self._term(t) for t in positive], 'and')} together require {wanted}"

    def _and(self, first: Incompatibility[V], second: Incompatibility[V]) -> str:
        """Two external facts joined, merged where PubGrub's report merges them:
        ``x depends on both a and b``, ``x depends on a which depends on b``."""
        one, two = self._dependency(first), self._dependency(second)
        if one is not None and two is not None:
            if one[0] == two[0]:
                return (
                    f"{self._term(one[0])} depends on both "
                    f"{self._requirement_text(first, one[1])} and "
                    f"{self._requirement_text(second, two[1])}"
                )
            for (a, a_node), (b, b_node) in (
                ((one, first), (two, second)),
                ((two, second), (one, first)),
            ):
                if a[1].name == b[0].name and a[1].satisfies(b[0]):
                    return (
                        f"{self._term(a[0])} depends on {self._requirement_text(a_node, a[1])} "
                        f"which depends on {self._requirement_text(b_node, b[1])}"
                    )
        return f"{self.text(first)} and {self.text(second)}"


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
