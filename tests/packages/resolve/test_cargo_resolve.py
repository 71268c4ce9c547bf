"""Cargo's resolution rules on the PubGrub solver, against an in-memory index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from tuskops.packages.ecosystems.cargo import CargoVersion
from tuskops.packages.resolve.cargo import (
    CargoProvider,
    CargoResolution,
    CrateDep,
    CrateRelease,
    CyclicDependency,
    compat_range,
    feature_error,
    readable,
    resolve_cargo,
    rust_version_key,
)
from tuskops.packages.resolve.pubgrub import ResolutionImpossible


def V(text: str) -> CargoVersion:
    return CargoVersion.parse(text)


def rel(
    deps: Sequence[CrateDep] = (),
    features: Mapping[str, tuple[str, ...]] | None = None,
    *,
    yanked: bool = False,
    links: str | None = None,
    rust_version: str | None = None,
) -> dict[str, object]:
    return {
        "deps": tuple(deps),
        "features": dict(features or {}),
        "yanked": yanked,
        "links": links,
        "rust_version": rust_version,
    }


Index = Mapping[str, Mapping[str, dict[str, object]]]


def provider(index: Index, **options: object) -> CargoProvider:
    def lookup(name: str) -> list[CrateRelease] | None:
        versions = index.get(name)
        if versions is None:
            return None
        return [
            CrateRelease(name=name, version=V(v), **fields)  # type: ignore[arg-type]
            for v, fields in versions.items()
        ]

    return CargoProvider(lookup, **options)  # type: ignore[arg-type]


def solve(
    index: Index,
    deps: Sequence[CrateDep],
    features: Mapping[str, Sequence[str]] | None = None,
    **options: object,
) -> tuple[CargoResolution, CargoProvider]:
    p = provider(index, **options)
    return resolve_cargo(p, p.root_requirements(deps, features), root_name="demo"), p


def chosen(result: CargoResolution) -> set[str]:
    return {f"{n} {v}" for n, v in result.packages}


def test_compat_ranges() -> None:
    assert compat_range(V("1.2.3")) == "1"
    assert compat_range(V("0.8.5")) == "0.8"
    assert compat_range(V("0.0.3")) == "0.0.3"
    assert compat_range(V("2.0.0-alpha.1")) == "2"


def test_one_version_per_compatible_range_several_majors_side_by_side() -> None:
    index: Index = {
        "app-a": {"1.0.0": rel([CrateDep("rand", "0.7")])},
        "app-b": {"1.0.0": rel([CrateDep("rand", "^0.8.3")])},
        "rand": {"0.7.2": rel(), "0.7.3": rel(), "0.8.4": rel(), "0.8.5": rel()},
        "serde": {"1.0.1": rel(), "1.0.9": rel()},
    }
    deps = [
        CrateDep("app-a", "1"),
        CrateDep("app-b", "1"),
        CrateDep("rand", "0.8"),
        CrateDep("serde", "1.0.1"),
        CrateDep("serde", "~1.0"),
    ]
    result, _ = solve(index, deps)
    assert chosen(result) == {
        "app-a 1.0.0",
        "app-b 1.0.0",
        "rand 0.7.3",
        "rand 0.8.5",
        "serde 1.0.9",
    }
    assert result.edges[("app-a", V("1.0.0"))] == {("rand", V("0.7.3"))}


def test_a_range_spanning_compatible_ranges_picks_one_version() -> None:
    index: Index = {"a": {"0.7.0": rel(), "0.8.1": rel(), "0.9.0": rel()}}
    result, p = solve(index, [CrateDep("a", ">=0.7, <0.9")])
    assert chosen(result) == {"a 0.8.1"}
    assert result.target(p, CrateDep("a", ">=0.7, <0.9")) == ("a", V("0.8.1"))


def test_unifying_within_a_range_backtracks_to_an_older_depender() -> None:
    index: Index = {
        "a": {"1.0.0": rel([CrateDep("c", "^1.0")]), "1.1.0": rel([CrateDep("c", "=1.0.0")])},
        "b": {"1.0.0": rel([CrateDep("c", "^1.1")])},
        "c": {"1.0.0": rel(), "1.1.0": rel()},
    }
    result, _ = solve(index, [CrateDep("a", "1"), CrateDep("b", "1")])
    assert chosen(result) == {"a 1.0.0", "b 1.0.0", "c 1.1.0"}


def test_conflict_explained_in_sentences_without_resolver_names() -> None:
    index: Index = {
        "a": {"1.0.0": rel([CrateDep("c", "=1.0.0")])},
        "b": {"1.0.0": rel([CrateDep("c", "=1.1.0")])},
        "c": {"1.0.0": rel(), "1.1.0": rel()},
    }
    with pytest.raises(ResolutionImpossible) as caught:
        solve(index, [CrateDep("a", "1"), CrateDep("b", "1")])
    text = caught.value.explanation
    assert "a 1.0.0 depends on c =1.0.0" in text or "a 1 depends on c =1.0.0" in text
    assert "c =1.1.0" in text
    assert text.rstrip().endswith("version solving failed.")
    assert "@" not in text


def test_yanked_versions_only_when_locked() -> None:
    index: Index = {"y": {"1.0.0": rel(), "1.1.0": rel(yanked=True)}}
    result, _ = solve(index, [CrateDep("y", "1")])
    assert chosen(result) == {"y 1.0.0"}
    result, _ = solve(index, [CrateDep("y", "1")], locked={"y": ["1.1.0"]})
    assert chosen(result) == {"y 1.1.0"}
    with pytest.raises(ResolutionImpossible, match=r"left out: y 1\.1\.0"):
        solve(index, [CrateDep("y", "=1.1.0")])


def test_locked_versions_are_tried_first() -> None:
    index: Index = {"y": {"1.0.0": rel(), "1.2.0": rel(), "1.3.0": rel()}}
    result, _ = solve(index, [CrateDep("y", "1")], locked={"y": ["1.2.0", "not-a-version"]})
    assert chosen(result) == {"y 1.2.0"}
    result, _ = solve(index, [CrateDep("y", ">=1.3")], locked={"y": ["1.2.0"]})
    assert chosen(result) == {"y 1.3.0"}


@pytest.mark.parametrize(
    ("req", "prereleases", "expected"),
    [
        ("1", None, "p 1.0.0"),
        ("1.1.0-beta.1", None, "p 1.1.0-beta.2"),
        (">=1.0.0-rc.1", None, "p 1.0.0"),
        ("1", True, "p 1.1.0-beta.2"),
        ("=1.1.0-beta.1", False, None),
    ],
)
def test_prereleases_only_when_the_requirement_names_one(
    req: str, prereleases: bool | None, expected: str | None
) -> None:
    index: Index = {
        "p": {"1.0.0-rc.1": rel(), "1.0.0": rel(), "1.1.0-beta.1": rel(), "1.1.0-beta.2": rel()}
    }
    if expected is None:
        with pytest.raises(ResolutionImpossible):
            solve(index, [CrateDep("p", req)], prereleases=prereleases)
        return
    result, _ = solve(index, [CrateDep("p", req)], prereleases=prereleases)
    assert chosen(result) == {expected}


def _features_index() -> Index:
    return {
        "lib": {
            "1.0.0": rel(
                [
                    CrateDep("std-helper", "1", optional=True),
                    CrateDep("derive-helper", "1", optional=True),
                    CrateDep("implicit", "1", optional=True),
                    CrateDep("real", "1", key="alias", optional=True),
                    CrateDep("weakly", "1", optional=True),
                    CrateDep("dev-only", "1", kind="dev"),
                    CrateDep("builder", "1", kind="build"),
                ],
                {
                    "default": ("std",),
                    "std": ("dep:std-helper",),
                    "derive": ("dep:derive-helper",),
                    "aliased": ("alias/fast",),
                    "weak": ("weakly?/extra",),
                },
            )
        },
        "std-helper": {"1.0.0": rel()},
        "derive-helper": {"1.0.0": rel()},
        "implicit": {"1.0.0": rel()},
        "real": {"1.0.0": rel([CrateDep("turbo", "1", optional=True)], {"fast": ("turbo",)})},
        "turbo": {"1.0.0": rel()},
        "weakly": {"1.0.0": rel(features={"extra": ()})},
        "dev-only": {"1.0.0": rel()},
        "builder": {"1.0.0": rel()},
    }


@pytest.mark.parametrize(
    ("dep", "expected"),
    [
        (CrateDep("lib", "1"), {"lib", "std-helper", "builder"}),
        (CrateDep("lib", "1", default_features=False), {"lib", "builder"}),
        (
            CrateDep("lib", "1", features=("derive", "implicit"), default_features=False),
            {"lib", "builder", "derive-helper", "implicit"},
        ),
        (
            CrateDep("lib", "1", features=("aliased",), default_features=False),
            {"lib", "builder", "real", "turbo"},
        ),
        # Cargo's lock includes an optional dependency named by a weak ``dep?/feature`` too.
        (
            CrateDep("lib", "1", features=("weak",), default_features=False),
            {"lib", "builder", "weakly"},
        ),
        (
            CrateDep("lib", "1", features=("implicit/missing",), default_features=False),
            None,
        ),
    ],
)
def test_features_decide_which_optional_dependencies_are_locked(
    dep: CrateDep, expected: set[str] | None
) -> None:
    if expected is None:
        with pytest.raises(ResolutionImpossible):
            solve(_features_index(), [dep])
        return
    result, _ = solve(_features_index(), [dep])
    assert {n for n, _ in result.packages} == expected


def test_features_unify_across_dependents_and_edges_follow_them() -> None:
    index = dict(_features_index())
    index["user"] = {"1.0.0": rel([CrateDep("lib", "1", features=("derive",))])}
    result, _ = solve(index, [CrateDep("lib", "1", default_features=False), CrateDep("user", "1")])
    lib = ("lib", V("1.0.0"))
    assert result.features[lib] >= {"derive", "default", "std"}
    assert {n for n, _ in result.edges[lib]} == {"builder", "derive-helper", "std-helper"}


def test_a_missing_feature_rules_out_the_versions_without_it() -> None:
    index: Index = {"c": {"1.0.0": rel(features={"x": ()}), "1.1.0": rel()}}
    result, _ = solve(index, [CrateDep("c", "1", features=("x",))])
    assert chosen(result) == {"c 1.0.0"}


def test_root_features_enable_dependency_features() -> None:
    index = _features_index()
    dep = CrateDep("lib", "1", optional=True, default_features=False)
    result, _ = solve(index, [dep], features={"fancy": ["lib/derive"]})
    assert "derive-helper" in {n for n, _ in result.packages}


def test_links_are_claimed_once() -> None:
    index: Index = {
        "ssl-sys": {"0.9.0": rel(links="ssl"), "0.10.0": rel(links="ssl")},
        "old": {"1.0.0": rel([CrateDep("ssl-sys", "0.9")])},
        "new": {
            "1.0.0": rel([CrateDep("ssl-sys", "0.9")]),
            "1.1.0": rel([CrateDep("ssl-sys", "0.10")]),
        },
    }
    result, _ = solve(index, [CrateDep("old", "1"), CrateDep("new", "1")])
    assert chosen(result) == {"old 1.0.0", "new 1.0.0", "ssl-sys 0.9.0"}
    with pytest.raises(ResolutionImpossible, match='links = "ssl"'):
        solve(index, [CrateDep("old", "1"), CrateDep("new", "=1.1.0")])


def test_cycles_are_refused_as_cargo_refuses_them() -> None:
    index: Index = {
        "a": {"1.0.0": rel([CrateDep("b", "1")])},
        "b": {"1.0.0": rel([CrateDep("a", "1", kind="build")])},
    }
    with pytest.raises(CyclicDependency, match=r"a 1\.0\.0 -> b 1\.0\.0 -> a 1\.0\.0"):
        solve(index, [CrateDep("a", "1")])
    # A dev-dependency cycle is fine: dependencies' dev-dependencies are not resolved.
    index = {
        "a": {"1.0.0": rel([CrateDep("b", "1")])},
        "b": {"1.0.0": rel([CrateDep("a", "1", kind="dev")])},
    }
    result, _ = solve(index, [CrateDep("a", "1")])
    assert chosen(result) == {"a 1.0.0", "b 1.0.0"}


def test_unknown_crates_and_bad_requirements_are_explained() -> None:
    index: Index = {"a": {"1.0.0": rel([CrateDep("ghost", "1")])}}
    with pytest.raises(ResolutionImpossible, match="ghost is unavailable: no crate of this name"):
        solve(index, [CrateDep("a", "1")])
    index = {"a": {"1.0.0": rel([CrateDep("c", "not a req")]), "0.9.0": rel()}}
    result, _ = solve(index, [CrateDep("a", "*")])
    assert chosen(result) == {"a 0.9.0"}


def test_rust_version_preference_orders_candidates() -> None:
    index: Index = {"m": {"1.0.0": rel(rust_version="1.60"), "1.1.0": rel(rust_version="1.99")}}
    result, _ = solve(index, [CrateDep("m", "1")], max_rust_version="1.80")
    assert chosen(result) == {"m 1.0.0"}
    result, _ = solve(index, [CrateDep("m", "1")])
    assert chosen(result) == {"m 1.1.0"}
    # Only incompatible versions: the newest of them, not a failure (``fallback``).
    result, _ = solve(index, [CrateDep("m", ">=1.1")], max_rust_version="1.80")
    assert chosen(result) == {"m 1.1.0"}
    assert rust_version_key("1.80") == (1, 80, 0)
    assert rust_version_key("1.81.0-nightly") == (1, 81, 0)


def test_readable_names() -> None:
    text = (
        "no versions of z@0.5[default] match >=0.5.0,<0.6.0-0; rand@0.8[std,alloc]; "
        "a@(>=1){b 1.0.0}[x]; a@(>=1){}"
    )
    assert readable(text) == (
        "no versions of z (default features) match >=0.5.0,<0.6.0; "
        "rand (features std, alloc); a (feature x); a"
    )


@pytest.mark.parametrize(
    ("deps", "features", "reason"),
    [
        ([CrateDep("f", "1")], {"x": ("f?/extra",)}, "with a `?`, but `f` is not an optional"),
        ([CrateDep("f", "1")], {"x": ("dep:f",)}, "`f` is not an optional dependency"),
        ([], {"x": ("g/extra",)}, "`g` is not a dependency"),
        ([], {"x": ("nothing",)}, "neither a dependency nor another feature"),
        ([CrateDep("o", "1", optional=True)], {"x": ("o?/y",), "z": ("dep:o",)}, None),
        (
            [CrateDep("o", "1", optional=True), CrateDep("p", "1", optional=True)],
            {"x": ("dep:o",)},
            None,  # ``p`` keeps its implicit feature
        ),
        (
            [CrateDep("o", "1", optional=True)],
            {"x": ("o?/y",), "z": ("dep:q",)},
            "`q` is not a dependency",
        ),
    ],
)
def test_feature_tables_cargo_rejects(
    deps: list[CrateDep], features: dict[str, tuple[str, ...]], reason: str | None
) -> None:
    release = CrateRelease("c", V("1.0.0"), tuple(deps), features)
    found = feature_error(release)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_a_version_cargo_rejects_is_skipped_and_named() -> None:
    index: Index = {
        "c": {"1.0.0": rel(), "1.1.0": rel([CrateDep("f", "1")], {"x": ("f?/extra",)})},
        "f": {"1.0.0": rel()},
    }
    result, _ = solve(index, [CrateDep("c", "1")])
    assert chosen(result) == {"c 1.0.0"}
    with pytest.raises(
        ResolutionImpossible, match=r"Index entries Cargo rejects, left out: c 1\.1\.0"
    ):
        solve(index, [CrateDep("c", "=1.1.0")])
