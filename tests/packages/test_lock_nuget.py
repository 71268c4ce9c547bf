"""lock_nuget and ``tuskops pkg lock`` for .csproj projects, against a local NuGet v3 source
(service index, registrations with inlined or linked pages, catalog leaves, a flat container
with real .nupkg files). NuGet's client cannot run here, so each rule test cites the page of
NuGet's documentation it follows:

* DR: "How NuGet resolves package dependencies",
  https://learn.microsoft.com/nuget/concepts/dependency-resolution
* NU1605 / NU1107 / NU1608 / NU1603 / NU1701: the pages of those codes under
  https://learn.microsoft.com/nuget/reference/errors-and-warnings/
* TF: "Target frameworks", https://learn.microsoft.com/nuget/reference/target-frameworks
* LOCK: "Locking dependencies" in "PackageReference in project files",
  https://learn.microsoft.com/nuget/consume-packages/package-references-in-project-files
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from _support.nuget_registry import NuGetFeed, content_hash
from _support.registry import LocalRegistry
from tuskops.cli.pkg_lock_cmd import lock_command, tree_command, why_command
from tuskops.errors import ManifestError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.nuget_files import read_packages_lock, write_packages_lock
from tuskops.packages.lock_nuget import (
    NuGetLockError,
    lock_nuget,
    mapped_sources,
    nearest_group,
    parse_framework,
)
from tuskops.packages.locking import LockRequest, lock
from tuskops.packages.manifests import Lockfile, write


@pytest.fixture
def feed() -> Generator[NuGetFeed, None, None]:
    registry = LocalRegistry()
    nuget = NuGetFeed(registry)
    # Lowest applicable: three versions of Lib.
    for v in ("1.0.0", "1.1.0", "2.0.0"):
        nuget.add("Lib", v)
    # Approximate match: Approx has no 1.0.0 (NU1603 when asked for >= 1.0.0).
    nuget.add("Approx", "2.0.0")
    nuget.add("Approx", "2.1.0")
    nuget.add("NeedsApprox", "1.0.0", {"net8.0": {"Approx": "[1.0.0, )"}})
    # Cousins: Left -> Shared >= 1.0, Right -> Shared >= 2.0; Shared 1.0, 2.0, 3.0.
    for v in ("1.0.0", "2.0.0", "3.0.0"):
        nuget.add("Shared", v, catalog=False)  # hashed from the downloaded .nupkg
    nuget.add("Left", "1.0.0", {".NETStandard2.0": {"Shared": "[1.0.0, )"}})
    nuget.add("Right", "1.0.0", {"net6.0": {"Shared": "[2.0.0, )"}}, paged=True)
    # Conflict: Pin1 -> Shared [1.0.0], Pin2 -> Shared [2.0.0].
    nuget.add("Pin1", "1.0.0", {None: {"Shared": "[1.0.0]"}})
    nuget.add("Pin2", "1.0.0", {None: {"Shared": "[2.0.0]"}})
    # Capped: depends on Shared below 2.0 (NU1608 when the project takes Shared 2.0 itself).
    nuget.add("Capped", "1.0.0", {None: {"Shared": "[1.0.0, 2.0.0)"}})
    # Multi-framework package: a different group per framework family.
    nuget.add(
        "Multi",
        "1.0.0",
        {
            "net6.0": {"OnNet": "[1.0.0, )"},
            ".NETFramework4.6.1": {"OnFramework": "[1.0.0, )"},
            ".NETStandard2.0": {"OnStandard": "[1.0.0, )"},
        },
    )
    for name in ("OnNet", "OnFramework", "OnStandard", "OnlyNet472"):
        nuget.add(name, "1.0.0")
    # Floating: Float 1.0.0 and 1.1.0 (a 1.2.0 is published by one test).
    nuget.add("Float", "1.0.0")
    nuget.add("Float", "1.1.0")
    nuget.publish()
    yield nuget
    registry.httpd.shutdown()
    registry.httpd.server_close()


def csproj(
    root: Path,
    references: dict[str, str],
    frameworks: str = "net8.0",
    extra_items: str = "",
    name: str = "App",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    prop = "TargetFrameworks" if ";" in frameworks else "TargetFramework"
    items = "\n".join(
        f'    <PackageReference Include="{n}" Version="{v}" />' for n, v in references.items()
    )
    path = root / f"{name}.csproj"
    path.write_text(
        '<Project Sdk="Microsoft.NET.Sdk">\n'
        f"  <PropertyGroup>\n    <{prop}>{frameworks}</{prop}>\n  </PropertyGroup>\n"
        f"  <ItemGroup>\n{items}\n{extra_items}  </ItemGroup>\n"
        "</Project>\n"
    )
    return path


_runs = iter(range(10**6))


def lookup_for(feed: NuGetFeed, project: Path) -> PackageLookup:
    # A fresh HTTP cache each time, so versions published later are seen.
    return PackageLookup(
        project_dir=project.parent,
        registry=feed.index_url,
        cache_dir=project.parent / f"cache{next(_runs)}",
        env={},
        home=project.parent / "home",
    )


def run_lock(feed: NuGetFeed, project: Path, **options: object) -> tuple[Lockfile, list[str]]:
    messages: list[str] = []
    request = LockRequest(
        lookup=lookup_for(feed, project),
        progress=messages.append,
        **options,  # type: ignore[arg-type]
    )
    return lock(project, request), messages


def versions(lockfile: Lockfile, framework: str = "net8.0") -> dict[str, str]:
    return {
        p.name: p.version for p in lockfile.packages if p.extra.get("target_framework") == framework
    }


def entry(lockfile: Lockfile, name: str, framework: str = "net8.0") -> dict[str, object]:
    data = json.loads(write_packages_lock(lockfile))
    found: dict[str, object] = data["dependencies"][framework][name]
    return found


# --- the rules --------------------------------------------------------------------------------


def test_lowest_applicable_version(feed: NuGetFeed, tmp_path: Path) -> None:
    # DR "Lowest applicable version": Lib >= 1.0.0 with 1.0.0, 1.1.0, 2.0.0 on the feed -> 1.0.0.
    project = csproj(tmp_path / "app", {"Lib": "1.0.0"})
    lockfile, messages = run_lock(feed, project)
    assert versions(lockfile) == {"Lib": "1.0.0"}
    assert entry(lockfile, "Lib") == {
        "type": "Direct",
        "requested": "[1.0.0, )",
        "resolved": "1.0.0",
        "contentHash": content_hash(feed.nupkg("Lib", "1.0.0")),
    }
    assert not [m for m in messages if m.startswith("warning")]


def test_approximate_best_match_is_a_warning(feed: NuGetFeed, tmp_path: Path) -> None:
    # DR "Lowest applicable version" (1.0 is not on the feed, so 2.0 is used) and NU1603.
    project = csproj(tmp_path / "app", {"NeedsApprox": "1.0.0"})
    lockfile, messages = run_lock(feed, project)
    assert versions(lockfile) == {"NeedsApprox": "1.0.0", "Approx": "2.0.0"}
    warnings = [m for m in messages if m.startswith("warning NU1603")]
    assert warnings
    assert "Approx 1.0.0 was not found" in warnings[0]
    assert entry(lockfile, "NeedsApprox")["dependencies"] == {"Approx": "1.0.0"}


def test_unlisted_versions_still_count(feed: NuGetFeed, tmp_path: Path) -> None:
    # Restore reads versions from the flat container, which lists unlisted versions too:
    # "Listedness does not affect restore" (NuGet/Home#14215; also #10931). So the unlisted
    # 1.0.0 is the lowest applicable version of Old >= 1.0.0.
    feed.add("Old", "1.0.0", listed=False)
    feed.add("Old", "1.1.0")
    feed.publish()
    lockfile, _ = run_lock(feed, csproj(tmp_path / "app", {"Old": "1.0.0"}))
    assert versions(lockfile) == {"Old": "1.0.0"}


def test_dependency_without_a_version(feed: NuGetFeed, tmp_path: Path) -> None:
    # A dependency with no range allows every version (VersionRange.All): the lowest is
    # taken, and the lock file writes the range as "(, )".
    feed.add("Loose", "1.0.0", {None: {"Lib": ""}})
    feed.publish()
    lockfile, _ = run_lock(feed, csproj(tmp_path / "app", {"Loose": "1.0.0"}))
    assert versions(lockfile) == {"Loose": "1.0.0", "Lib": "1.0.0"}
    assert entry(lockfile, "Loose")["dependencies"] == {"Lib": "(, )"}


def test_floating_version_takes_the_highest_match(feed: NuGetFeed, tmp_path: Path) -> None:
    # DR "Floating versions": 1.* resolves to the highest 1.x on the feed.
    project = csproj(tmp_path / "app", {"Float": "1.*"})
    lockfile, _ = run_lock(feed, project)
    assert versions(lockfile) == {"Float": "1.1.0"}
    assert entry(lockfile, "Float")["requested"] == "[1.*, )"


def test_cousin_dependencies_take_the_highest_lower_bound(feed: NuGetFeed, tmp_path: Path) -> None:
    # DR "Cousin dependencies": Left wants Shared >= 1.0, Right wants Shared >= 2.0 -> 2.0.0,
    # the lowest version satisfying both (3.0.0 is never chosen). Right's registration page is
    # linked, not inlined; Shared has no catalog, so its hash comes from the .nupkg itself.
    project = csproj(tmp_path / "app", {"Left": "1.0.0", "Right": "1.0.0"})
    lockfile, _ = run_lock(feed, project)
    assert versions(lockfile) == {"Left": "1.0.0", "Right": "1.0.0", "Shared": "2.0.0"}
    assert entry(lockfile, "Shared") == {
        "type": "Transitive",
        "resolved": "2.0.0",
        "contentHash": content_hash(feed.nupkg("Shared", "2.0.0")),
    }
    assert entry(lockfile, "Right")["dependencies"] == {"Shared": "2.0.0"}


def test_direct_dependency_wins(feed: NuGetFeed, tmp_path: Path) -> None:
    # DR "Direct dependency wins": the project's own Shared 2.0.0 is used although Capped
    # asks for [1.0.0, 2.0.0); above its range that is NU1608, a warning, not a conflict.
    project = csproj(tmp_path / "app", {"Capped": "1.0.0", "Shared": "2.0.0"})
    lockfile, messages = run_lock(feed, project)
    assert versions(lockfile) == {"Capped": "1.0.0", "Shared": "2.0.0"}
    nu1608 = [m for m in messages if m.startswith("warning NU1608")]
    assert nu1608
    assert (
        "Capped 1.0.0 requires Shared (>= 1.0.0 && < 2.0.0) but version Shared 2.0.0 was resolved."
    ) in nu1608[0]
    assert entry(lockfile, "Capped")["dependencies"] == {"Shared": "[1.0.0, 2.0.0)"}


def test_downgrade_is_error_nu1605(feed: NuGetFeed, tmp_path: Path) -> None:
    # DR "Direct dependency wins" + NU1605: the project takes Shared 1.0.0 while Right needs
    # >= 2.0.0; the SDK treats NU1605 as an error (WarningsAsErrors), so nothing is locked.
    project = csproj(tmp_path / "app", {"Right": "1.0.0", "Shared": "1.0.0"})
    with pytest.raises(NuGetLockError) as info:
        run_lock(feed, project)
    assert info.value.codes == ("NU1605",)
    text = str(info.value)
    assert "error NU1605: Detected package downgrade: Shared from 2.0.0 to 1.0.0." in text
    assert "App -> Right 1.0.0 -> Shared (>= 2.0.0)" in text
    assert "App -> Shared (>= 1.0.0)" in text
    assert not (project.parent / "packages.lock.json").exists()


def test_conflict_is_error_nu1107_naming_both_paths(feed: NuGetFeed, tmp_path: Path) -> None:
    # NU1107 "Version conflict detected": cousins pinning Shared to [1.0.0] and [2.0.0].
    project = csproj(tmp_path / "app", {"Pin1": "1.0.0", "Pin2": "1.0.0"})
    with pytest.raises(NuGetLockError) as info:
        run_lock(feed, project)
    assert info.value.codes == ("NU1107",)
    text = str(info.value)
    assert "Version conflict detected for Shared." in text
    assert "App -> Pin1 1.0.0 -> Shared (= 1.0.0)" in text
    assert "App -> Pin2 1.0.0 -> Shared (= 2.0.0)" in text


def test_missing_package_and_version(feed: NuGetFeed, tmp_path: Path) -> None:
    # NU1101 (no such id on any source) and NU1102 (no version in range).
    project = csproj(tmp_path / "a", {"Nope": "1.0.0"})
    with pytest.raises(NuGetLockError, match="NU1101: Unable to find package Nope"):
        run_lock(feed, project)
    project = csproj(tmp_path / "b", {"Lib": "[5.0.0, 6.0.0)"})
    with pytest.raises(NuGetLockError) as info:
        run_lock(feed, project)
    assert info.value.codes == ("NU1102",)


# --- target frameworks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "groups", "expected"),
    [
        # TF "Framework precedence": the same framework's highest version before .NET Standard.
        ("net8.0", ["netstandard2.0", "net6.0", "net8.0-windows"], "net6.0"),
        ("net8.0-windows", ["net8.0", "net8.0-windows"], "net8.0-windows"),
        ("net8.0", [".NETStandard2.1", ".NETStandard2.0"], ".NETStandard2.1"),
        ("netcoreapp3.1", ["netstandard2.1", "net5.0"], "netstandard2.1"),
        ("netcoreapp2.1", ["netstandard2.1", "netstandard2.0"], "netstandard2.0"),
        # .NET Framework 4.6.1+ implements .NET Standard 2.0, never 2.1.
        ("net472", ["netstandard2.1", "netstandard2.0", "net45"], "net45"),
        ("net472", ["netstandard2.1", "netstandard2.0"], "netstandard2.0"),
        ("net48", [None, "net5.0"], None),
        (".NETFramework,Version=v4.6", [".NETStandard1.3", ".NETStandard1.4"], ".NETStandard1.3"),
    ],
)
def test_nearest_dependency_group(project: str, groups: list[str | None], expected: str) -> None:
    framework = parse_framework(project)
    assert framework is not None
    assert nearest_group(framework, groups) == (expected, None)


def test_no_compatible_group_and_asset_target_fallback() -> None:
    # TF: .NET Standard 2.0 cannot use a .NET Framework group; a .NET 8 project falls back to
    # net461..net481 (the SDK's AssetTargetFallback, NU1701).
    standard = parse_framework("netstandard2.0")
    net8 = parse_framework("net8.0")
    assert standard is not None
    assert net8 is not None
    assert nearest_group(standard, ["net461"]) is None
    group, fallback = nearest_group(net8, ["net45", "net472"]) or ("", None)
    assert group == "net45"
    assert fallback is not None
    assert fallback.short_name == "net461"


def test_lock_names_of_frameworks() -> None:
    # NuGetFramework.ToString(): short for .NET 5+, long otherwise.
    names = {t: parse_framework(t) for t in ("net8.0", "net472", "netstandard2.0", "netcoreapp3.1")}
    assert {t: f.lock_name for t, f in names.items() if f is not None} == {
        "net8.0": "net8.0",
        "net472": ".NETFramework,Version=v4.7.2",
        "netstandard2.0": ".NETStandard,Version=v2.0",
        "netcoreapp3.1": ".NETCoreApp,Version=v3.1",
    }


def test_multi_targeting_resolves_each_framework(feed: NuGetFeed, tmp_path: Path) -> None:
    # TF + DR: each TargetFramework is its own graph, with the nearest dependency group; a
    # reference conditioned on one framework only applies there.
    only_472 = (
        '    <PackageReference Include="OnlyNet472" Version="1.0.0" '
        "Condition=\"'$(TargetFramework)' == 'net472'\" />\n"
    )
    project = csproj(tmp_path / "app", {"Multi": "1.0.0"}, "net8.0;netstandard2.0;net472", only_472)
    lockfile, _ = run_lock(feed, project)
    assert lockfile.extra["targets"] == (
        "net8.0",
        ".NETStandard,Version=v2.0",
        ".NETFramework,Version=v4.7.2",
    )
    assert versions(lockfile, "net8.0") == {"Multi": "1.0.0", "OnNet": "1.0.0"}
    assert versions(lockfile, ".NETStandard,Version=v2.0") == {
        "Multi": "1.0.0",
        "OnStandard": "1.0.0",
    }
    assert versions(lockfile, ".NETFramework,Version=v4.7.2") == {
        "Multi": "1.0.0",
        "OnFramework": "1.0.0",
        "OnlyNet472": "1.0.0",
    }
    net472 = entry(lockfile, "Multi", ".NETFramework,Version=v4.7.2")
    assert net472["dependencies"] == {"OnFramework": "1.0.0"}


# --- the lock file ----------------------------------------------------------------------------


def test_lock_file_bytes(feed: NuGetFeed, tmp_path: Path) -> None:
    # LOCK: version 1, one object per target, Direct before Transitive, ids by name.
    project = csproj(tmp_path / "app", {"Right": "1.0.0", "Left": "1.0.0"})
    lockfile, _ = run_lock(feed, project)
    write(lockfile, lockfile.path)
    text = Path(lockfile.path).read_text()
    h = {n: content_hash(feed.nupkg(n, v)) for n, v in versions(lockfile).items()}
    assert text == (
        "{\n"
        '  "version": 1,\n'
        '  "dependencies": {\n'
        '    "net8.0": {\n'
        '      "Left": {\n'
        '        "type": "Direct",\n'
        '        "requested": "[1.0.0, )",\n'
        '        "resolved": "1.0.0",\n'
        f'        "contentHash": "{h["Left"]}",\n'
        '        "dependencies": {\n'
        '          "Shared": "1.0.0"\n'
        "        }\n"
        "      },\n"
        '      "Right": {\n'
        '        "type": "Direct",\n'
        '        "requested": "[1.0.0, )",\n'
        '        "resolved": "1.0.0",\n'
        f'        "contentHash": "{h["Right"]}",\n'
        '        "dependencies": {\n'
        '          "Shared": "2.0.0"\n'
        "        }\n"
        "      },\n"
        '      "Shared": {\n'
        '        "type": "Transitive",\n'
        '        "resolved": "2.0.0",\n'
        f'        "contentHash": "{h["Shared"]}"\n'
        "      }\n"
        "    }\n"
        "  }\n"
        "}"
    )
    again = read_packages_lock(Path(lockfile.path))
    assert write_packages_lock(again) == text


def test_central_package_management(feed: NuGetFeed, tmp_path: Path) -> None:
    # LOCK with Central Package Management: version 2, and a transitive package that has a
    # PackageVersion is "CentralTransitive" with its requested range (PackagesLockFileBuilder).
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Directory.Packages.props").write_text(
        "<Project>\n  <PropertyGroup>\n"
        "    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>\n"
        "  </PropertyGroup>\n  <ItemGroup>\n"
        '    <PackageVersion Include="Left" Version="1.0.0" />\n'
        '    <PackageVersion Include="Shared" Version="1.0.0" />\n'
        "  </ItemGroup>\n</Project>\n"
    )
    project = root / "app" / "App.csproj"
    project.parent.mkdir()
    project.write_text(
        '<Project Sdk="Microsoft.NET.Sdk">\n'
        "  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>\n"
        '  <ItemGroup><PackageReference Include="Left" /></ItemGroup>\n'
        "</Project>\n"
    )
    lockfile, _ = run_lock(feed, project)
    text = write_packages_lock(lockfile)
    data = json.loads(text)
    assert data["version"] == 2
    assert data["dependencies"]["net8.0"]["Shared"]["type"] == "CentralTransitive"
    assert data["dependencies"]["net8.0"]["Shared"]["requested"] == "[1.0.0, )"


def test_locked_versions_are_kept_until_forced(feed: NuGetFeed, tmp_path: Path) -> None:
    # LOCK: with a packages.lock.json that still matches the project, restore keeps its
    # versions even when the feed has newer ones (Float 1.* stays 1.1.0 after 1.2.0 appears);
    # --force-evaluate (--upgrade-all) re-resolves.
    project = csproj(tmp_path / "app", {"Float": "1.*", "Lib": "1.0.0"})
    first, _ = run_lock(feed, project)
    write(first, first.path)
    feed.add("Float", "1.2.0")
    feed.publish()
    kept, _ = run_lock(feed, project)
    assert versions(kept) == {"Float": "1.1.0", "Lib": "1.0.0"}
    upgraded, _ = run_lock(feed, project, upgrade=frozenset({"float"}))
    assert versions(upgraded) == {"Float": "1.2.0", "Lib": "1.0.0"}
    forced, _ = run_lock(feed, project, upgrade_all=True)
    assert versions(forced) == {"Float": "1.2.0", "Lib": "1.0.0"}


def test_upgrade_that_outgrows_the_locked_versions(feed: NuGetFeed, tmp_path: Path) -> None:
    # --upgrade NAME frees NAME only; when its new version needs more than the other locked
    # versions give (Shared >= 3.0.0 against a locked 1.0.0), the framework is re-evaluated.
    feed.add("Grows", "1.0.0")
    feed.publish()
    project = csproj(tmp_path / "app", {"Left": "1.0.0", "Grows": "1.*"})
    first, _ = run_lock(feed, project)
    write(first, first.path)
    assert versions(first)["Shared"] == "1.0.0"
    feed.add("Grows", "1.1.0", {None: {"Shared": "[3.0.0, )"}})
    feed.publish()
    upgraded, messages = run_lock(feed, project, upgrade=frozenset({"Grows"}))
    assert versions(upgraded) == {"Grows": "1.1.0", "Left": "1.0.0", "Shared": "3.0.0"}
    assert any("no longer resolve (NU1102)" in m for m in messages)


def test_changed_references_invalidate_the_lock(feed: NuGetFeed, tmp_path: Path) -> None:
    # LOCK: a lock file that no longer matches the project's references is re-evaluated.
    project = csproj(tmp_path / "app", {"Float": "1.*"})
    first, _ = run_lock(feed, project)
    write(first, first.path)
    feed.add("Float", "1.2.0")
    feed.publish()
    csproj(tmp_path / "app", {"Float": "1.*", "Lib": "1.1.0"})
    relocked, messages = run_lock(feed, project)
    assert versions(relocked) == {"Float": "1.2.0", "Lib": "1.1.0"}
    assert any("no longer matches App.csproj" in m and "lib" in m for m in messages)


def test_unsupported_project_parts_are_refused(tmp_path: Path, feed: NuGetFeed) -> None:
    project = csproj(
        tmp_path / "app",
        {"Lib": "1.0.0"},
        extra_items='    <ProjectReference Include="../Other/Other.csproj" />\n',
    )
    with pytest.raises(ManifestError, match="ProjectReference"):
        lock_nuget(project, lookup=lookup_for(feed, project))
    odd = csproj(tmp_path / "odd", {"Lib": "1.0.0"}, frameworks="uap10.0")
    with pytest.raises(ManifestError, match=r"'uap10\.0' is not supported"):
        lock_nuget(odd, lookup=lookup_for(feed, odd))


def test_sources_from_nuget_config(feed: NuGetFeed, tmp_path: Path, package_env: Path) -> None:
    # The project's NuGet.Config names the source (no --registry).
    project = csproj(tmp_path / "app", {"Lib": "1.0.0"})
    (project.parent / "NuGet.Config").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n'
        f'    <clear />\n    <add key="local" value="{feed.index_url}" />\n'
        "  </packageSources>\n</configuration>\n"
    )
    lookup = PackageLookup(project_dir=project.parent, cache_dir=tmp_path / "cache")
    lockfile = lock_nuget(project, lookup=lookup)
    assert versions(lockfile) == {"Lib": "1.0.0"}


@pytest.fixture
def private_feed() -> Generator[NuGetFeed, None, None]:
    """A second source: Private.Thing, and a "Lib 0.5.0" that must not be taken from it."""
    registry = LocalRegistry()
    nuget = NuGetFeed(registry)
    nuget.add("Private.Thing", "1.0.0", {None: {"Lib": "[1.0.0, )"}})
    nuget.add("Lib", "0.5.0")
    nuget.publish()
    yield nuget
    registry.httpd.shutdown()
    registry.httpd.server_close()


def _nuget_config(folder: Path, sources: dict[str, str], mapping: dict[str, list[str]]) -> None:
    adds = "".join(f'    <add key="{k}" value="{v}" />\n' for k, v in sources.items())
    maps = "".join(
        f'    <packageSource key="{k}">\n'
        + "".join(f'      <package pattern="{p}" />\n' for p in patterns)
        + "    </packageSource>\n"
        for k, patterns in mapping.items()
    )
    mapping_xml = f"  <packageSourceMapping>\n{maps}  </packageSourceMapping>\n" if maps else ""
    (folder / "NuGet.Config").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n'
        f"    <clear />\n{adds}  </packageSources>\n{mapping_xml}</configuration>\n"
    )


def test_sources_are_merged_without_mapping(
    feed: NuGetFeed, private_feed: NuGetFeed, tmp_path: Path, package_env: Path
) -> None:
    # NuGet asks every source and takes the lowest applicable version across all of them.
    project = csproj(tmp_path / "app", {"Lib": "0.1.0"})
    _nuget_config(project.parent, {"public": feed.index_url, "corp": private_feed.index_url}, {})
    lookup = PackageLookup(project_dir=project.parent, cache_dir=tmp_path / "cache")
    lockfile = lock_nuget(project, lookup=lookup)
    assert versions(lockfile) == {"Lib": "0.5.0"}


def test_package_source_mapping(
    feed: NuGetFeed, private_feed: NuGetFeed, tmp_path: Path, package_env: Path
) -> None:
    # "Package Source Mapping" (learn.microsoft.com/nuget/consume-packages/package-source-mapping):
    # the most specific pattern wins, so Private.* comes from corp only and everything else
    # from public only; corp's Lib 0.5.0 is never considered.
    project = csproj(tmp_path / "app", {"Lib": "0.1.0", "Private.Thing": "1.0.0"})
    sources = {"public": feed.index_url, "corp": private_feed.index_url}
    _nuget_config(project.parent, sources, {"public": ["*"], "corp": ["Private.*"]})
    lookup = PackageLookup(project_dir=project.parent, cache_dir=tmp_path / "cache")
    lockfile = lock_nuget(project, lookup=lookup)
    assert versions(lockfile) == {"Lib": "1.0.0", "Private.Thing": "1.0.0"}
    # An id no pattern matches has no source: NU1100.
    _nuget_config(project.parent, sources, {"corp": ["Private.*"]})
    lookup = PackageLookup(project_dir=project.parent, cache_dir=tmp_path / "cache2")
    with pytest.raises(NuGetLockError) as info:
        lock_nuget(project, lookup=lookup)
    assert info.value.codes == ("NU1100",)
    assert (
        "Unable to resolve 'Lib (>= 0.1.0)' for 'net8.0'. PackageSourceMapping is enabled"
        in str(info.value)
    )


def test_mapped_sources_most_specific_pattern() -> None:
    mapping = {"a": ["*"], "b": ["Contoso.*"], "c": ["Contoso.Lib", "Other"], "d": ["contoso.*"]}
    assert mapped_sources("Contoso.Lib", mapping) == ("c",)
    assert mapped_sources("Contoso.Tools", mapping) == ("b", "d")
    assert mapped_sources("Newtonsoft.Json", mapping) == ("a",)
    assert mapped_sources("Newtonsoft.Json", {"b": ["Contoso.*"]}) == ()


# --- the command line -------------------------------------------------------------------------


def _cli() -> click.Group:
    group = click.Group("pkg")
    for command in (lock_command, tree_command, why_command):
        group.add_command(command)
    return group


def test_pkg_lock_tree_why(feed: NuGetFeed, tmp_path: Path) -> None:
    project = csproj(tmp_path / "app", {"Left": "1.0.0", "Right": "1.0.0"})
    runner = CliRunner()
    args = ["--registry", feed.index_url, "--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(_cli(), ["lock", str(project.parent), *args])
    assert result.exit_code == 0, result.output
    lock_path = project.parent / "packages.lock.json"
    assert f"Locked 3 packages into {lock_path}." in result.output
    lockfile = read_packages_lock(lock_path)
    assert {p.name: p.version for p in lockfile.packages} == {
        "Left": "1.0.0",
        "Right": "1.0.0",
        "Shared": "2.0.0",
    }
    assert all(p.hashes for p in lockfile.packages)

    tree = runner.invoke(_cli(), ["tree", str(project.parent)])
    assert tree.exit_code == 0, tree.output
    assert tree.output == "Left 1.0.0\n└── Shared 2.0.0\nRight 1.0.0\n└── Shared 2.0.0 (*)\n"
    why = runner.invoke(_cli(), ["why", "Shared", str(project.parent)])
    assert why.exit_code == 0, why.output
    # Both paths to Shared, one through each parent, with the lock's own names.
    assert why.output.splitlines() == [
        "Left 1.0.0 -> Shared 2.0.0",
        "Right 1.0.0 -> Shared 2.0.0",
    ]


def test_pkg_lock_reports_nu1605_and_exits_1(feed: NuGetFeed, tmp_path: Path) -> None:
    project = csproj(tmp_path / "app", {"Right": "1.0.0", "Shared": "1.0.0"})
    args = ["--registry", feed.index_url, "--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(_cli(), ["lock", str(project), *args])
    assert result.exit_code == 1
    assert "NU1605: Detected package downgrade: Shared from 2.0.0 to 1.0.0" in result.output
    assert not (project.parent / "packages.lock.json").exists()
