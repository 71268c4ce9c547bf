"""NuGet project files and packages.lock.json, on fixtures written after the NuGet docs
("PackageReference in project files", "Central Package Management", "Locking dependencies")."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.nuget_files import (
    read_csproj,
    read_packages_lock,
    write_packages_lock,
)
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

CSPROJ = """\
<Project Sdk="Microsoft.NET.Sdk">

  <PropertyGroup>
    <TargetFrameworks>net8.0;netstandard2.0</TargetFrameworks>
    <PackageId>Contoso.Utility</PackageId>
    <Version>2.1.0-beta.1</Version>
    <AssemblyName>Contoso.Utility.Core</AssemblyName>
    <SerilogVersion>3.1.1</SerilogVersion>
    <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>
  </PropertyGroup>

  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="13.0.3" />
    <PackageReference Include="Contoso.Utility.UsefulStuff" Version="[3.6.0, 4.0)" />
    <PackageReference Include="Serilog" Version="$(SerilogVersion)" />
    <PackageReference Include="Polly">
      <Version>8.*</Version>
    </PackageReference>
    <!-- Development dependency: assets are not flowed to consumers -->
    <PackageReference Include="Microsoft.SourceLink.GitHub" Version="8.0.0" PrivateAssets="All" />
    <PackageReference Include="Contoso.Analyzers" Version="1.1.0">
      <IncludeAssets>runtime; compile; build; native; contentfiles; analyzers</IncludeAssets>
      <PrivateAssets>contentfiles; analyzers</PrivateAssets>
      <ExcludeAssets>buildtransitive</ExcludeAssets>
    </PackageReference>
    <PackageReference Include="Legacy.Sdk" Version="1.0.0"
                      Condition="'$(TargetFramework)' == 'netstandard2.0'" />
  </ItemGroup>

  <ItemGroup Condition="'$(TargetFramework)' == 'net8.0'">
    <PackageReference Include="System.Text.Json" Version="8.0.5" />
    <PackageReference Include="Only.Release" Version="1.0.0"
                      Condition="'$(Configuration)' == 'Release'" />
  </ItemGroup>

  <ItemGroup>
    <ProjectReference Include="..\\Contoso.Core\\Contoso.Core.csproj" />
  </ItemGroup>
</Project>
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def by_name(manifest: Manifest) -> dict[str, Dependency]:
    return {d.name: d for d in manifest.dependencies}


def error(path: Path) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        manifests.read(path)
    return info.value


# --- PackageReference -----------------------------------------------------------------------------


def test_project_properties(tmp_path: Path) -> None:
    m = read_csproj(write(tmp_path, "Contoso.Utility.csproj", CSPROJ))
    assert (m.ecosystem, m.name, m.version) == ("nuget", "Contoso.Utility", "2.1.0-beta.1")
    assert m.extra["target_frameworks"] == ("net8.0", "netstandard2.0")
    assert m.extra["project_references"] == ("..\\Contoso.Core\\Contoso.Core.csproj",)
    assert m.extra["restore_with_lock_file"] == "true"
    assert "central_package_management" not in m.extra


def test_package_references(tmp_path: Path) -> None:
    deps = by_name(read_csproj(write(tmp_path, "Contoso.Utility.csproj", CSPROJ)))
    assert deps["Newtonsoft.Json"] == Dependency("Newtonsoft.Json", "13.0.3")
    assert deps["Contoso.Utility.UsefulStuff"].constraint == "[3.6.0, 4.0)"
    assert deps["Serilog"].constraint == "3.1.1"
    assert deps["Polly"].constraint == "8.*"


def test_asset_metadata_and_development_dependencies(tmp_path: Path) -> None:
    deps = by_name(read_csproj(write(tmp_path, "Contoso.Utility.csproj", CSPROJ)))
    sourcelink = deps["Microsoft.SourceLink.GitHub"]
    assert sourcelink.kind == "build"
    assert sourcelink.extra["privateAssets"] == "All"
    analyzers = deps["Contoso.Analyzers"]
    assert analyzers.kind == "normal"
    assert analyzers.extra == {
        "privateAssets": "contentfiles; analyzers",
        "includeAssets": "runtime; compile; build; native; contentfiles; analyzers",
        "excludeAssets": "buildtransitive",
    }


def test_conditions_become_markers(tmp_path: Path) -> None:
    deps = by_name(read_csproj(write(tmp_path, "Contoso.Utility.csproj", CSPROJ)))
    assert deps["Legacy.Sdk"].markers == "'$(TargetFramework)' == 'netstandard2.0'"
    assert deps["System.Text.Json"].markers == "'$(TargetFramework)' == 'net8.0'"
    assert deps["Only.Release"].markers == (
        "('$(TargetFramework)' == 'net8.0') and ('$(Configuration)' == 'Release')"
    )
    assert deps["Newtonsoft.Json"].markers is None


def test_read_dispatches_on_the_suffix(tmp_path: Path) -> None:
    m = manifests.read(write(tmp_path, "Contoso.Utility.csproj", CSPROJ))
    assert isinstance(m, Manifest)
    assert m.to_json()["type"] == "manifest"


def test_old_style_project_with_namespace_and_defaults(tmp_path: Path) -> None:
    text = """\
<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="15.0" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <TargetFramework>net48</TargetFramework>
    <VersionPrefix>1.4.0</VersionPrefix>
    <VersionSuffix>rc.2</VersionSuffix>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="NUnit;Moq" Version="3.14.0" />
    <PackageReference Include="Unpinned" />
    <PackageReference Update="Moq" Version="4.20.70" />
    <PackageReference Include="Dropped" Version="1.0.0" />
    <PackageReference Remove="Dropped" />
  </ItemGroup>
</Project>
"""
    m = read_csproj(write(tmp_path, "Legacy.App.csproj", text))
    assert (m.name, m.version) == ("Legacy.App", "1.4.0-rc.2")
    assert m.extra["target_frameworks"] == ("net48",)
    assert [(d.name, d.constraint) for d in m.dependencies] == [
        ("NUnit", "3.14.0"),
        ("Moq", "4.20.70"),
        ("Unpinned", ""),
    ]


def test_unresolved_property_is_kept(tmp_path: Path) -> None:
    text = (
        '<Project><ItemGroup><PackageReference Include="A" Version="$(AVer)" />'
        "</ItemGroup></Project>"
    )
    (a,) = read_csproj(write(tmp_path, "p.csproj", text)).dependencies
    assert a.constraint == "$(AVer)"
    assert a.extra["unresolved"] is True


# --- Central Package Management -----------------------------------------------------------------

PACKAGES_PROPS = """\
<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
    <CentralPackageTransitivePinningEnabled>true</CentralPackageTransitivePinningEnabled>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Newtonsoft.Json" Version="13.0.3" />
    <PackageVersion Include="Serilog" Version="3.1.1" />
    <PackageVersion Include="xunit">
      <Version>[2.9.0, 3.0)</Version>
    </PackageVersion>
  </ItemGroup>
  <ItemGroup>
    <GlobalPackageReference Include="Nerdbank.GitVersioning" Version="3.6.143" />
  </ItemGroup>
</Project>
"""

CPM_PROJECT = """\
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" />
    <PackageReference Include="Serilog" VersionOverride="4.0.0" />
    <PackageReference Include="xunit" />
  </ItemGroup>
</Project>
"""


def test_central_package_management(tmp_path: Path) -> None:
    props = write(tmp_path, "Directory.Packages.props", PACKAGES_PROPS)
    m = read_csproj(write(tmp_path, "src/App/App.csproj", CPM_PROJECT))
    assert m.extra["central_package_management"] is True
    assert m.extra["packages_props"] == str(props.resolve())
    assert m.extra["transitive_pinning"] is True
    deps = by_name(m)
    newtonsoft = deps["Newtonsoft.Json"]
    assert newtonsoft.constraint == "13.0.3"
    assert newtonsoft.extra["version_from"] == "PackageVersion"
    assert newtonsoft.extra["version_file"] == str(props.resolve())
    assert deps["xunit"].constraint == "[2.9.0, 3.0)"
    serilog = deps["Serilog"]
    assert (serilog.constraint, serilog.extra["version_from"]) == ("4.0.0", "VersionOverride")
    nbgv = deps["Nerdbank.GitVersioning"]
    assert (nbgv.constraint, nbgv.kind) == ("3.6.143", "build")
    assert nbgv.extra["global"] is True


def test_project_can_opt_out_of_central_management(tmp_path: Path) -> None:
    write(tmp_path, "Directory.Packages.props", PACKAGES_PROPS)
    text = CPM_PROJECT.replace(
        "<TargetFramework>net8.0</TargetFramework>",
        "<ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>",
    ).replace('<PackageReference Include="Newtonsoft.Json" />', "")
    m = read_csproj(write(tmp_path, "App.csproj", text))
    assert "central_package_management" not in m.extra
    assert [(d.name, d.constraint) for d in m.dependencies] == [("Serilog", ""), ("xunit", "")]


@pytest.mark.parametrize(
    ("project", "code", "location"),
    [
        (
            CPM_PROJECT.replace('"Newtonsoft.Json" />', '"Newtonsoft.Json" Version="1.0.0" />'),
            "NU1008",
            "6:5",
        ),
        (CPM_PROJECT.replace('"xunit" />', '"Moq" />'), "NU1010", "8:5"),
    ],
)
def test_central_management_errors(tmp_path: Path, project: str, code: str, location: str) -> None:
    write(tmp_path, "Directory.Packages.props", PACKAGES_PROPS)
    err = error(write(tmp_path, "App.csproj", project))
    assert err.message.startswith(f"{code}: ")
    assert err.location == location


def test_version_override_disabled(tmp_path: Path) -> None:
    props = PACKAGES_PROPS.replace(
        "</ManagePackageVersionsCentrally>",
        "</ManagePackageVersionsCentrally>\n"
        "    <CentralPackageVersionOverrideEnabled>false</CentralPackageVersionOverrideEnabled>",
    )
    write(tmp_path, "Directory.Packages.props", props)
    err = error(write(tmp_path, "App.csproj", CPM_PROJECT))
    assert err.message.startswith("NU1013: ")
    assert "Serilog" in err.message
    assert err.location == "7:5"


def test_bad_central_version_is_reported_in_the_props_file(tmp_path: Path) -> None:
    props = write(
        tmp_path, "Directory.Packages.props", PACKAGES_PROPS.replace('"13.0.3"', '"13.0.x"')
    )
    err = error(write(tmp_path, "App.csproj", CPM_PROJECT))
    assert err.file == str(props)
    assert err.location == "7:5"
    assert "invalid version range '13.0.x' for Newtonsoft.Json" in err.message


# --- project file errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        (
            '<Project>\n  <ItemGroup>\n    <PackageReference Include="A" Version="1.0" >\n'
            "  </ItemGroup>\n</Project>\n",
            "invalid XML: mismatched tag",
            "4:5",
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
            ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<Project>&lol2;</Project>\n',
            "DOCTYPE declarations are not allowed",
            "2:1",
        ),
        ("<Package />\n", "the root element must be <Project>, not <Package>", "1:1"),
        (
            '<Project>\n<ItemGroup>\n  <PackageReference Version="1.0.0" />\n</ItemGroup>\n'
            "</Project>\n",
            'The required attribute "Include" is empty or missing',
            "3:3",
        ),
        (
            '<Project>\n<ItemGroup>\n  <PackageReference Include="A" Version="[1.0" />\n'
            "</ItemGroup>\n</Project>\n",
            "invalid version range '[1.0' for A: a range must end with ']' or ')'",
            "3:3",
        ),
        (
            '<Project>\n<ItemGroup>\n  <PackageReference Include="A">\n'
            "    <Version>one</Version>\n  </PackageReference>\n</ItemGroup>\n</Project>\n",
            "invalid version range 'one' for A",
            "4:5",
        ),
    ],
)
def test_project_errors_have_line_and_column(
    tmp_path: Path, text: str, message: str, location: str
) -> None:
    path = write(tmp_path, "p.csproj", text)
    err = error(path)
    assert message in err.message
    assert err.location == location
    assert str(err).startswith(f"{path}:{location}: error: ")


# --- packages.lock.json -------------------------------------------------------------------------


def content_hash(text: str) -> str:
    return base64.b64encode(hashlib.sha512(text.encode()).digest()).decode()


H1, H2, H3 = content_hash("newtonsoft"), content_hash("platforms"), content_hash("runtime")

LOCK = {
    "version": 1,
    "dependencies": {
        "net8.0": {
            "Newtonsoft.Json": {
                "type": "Direct",
                "requested": "[13.0.3, )",
                "resolved": "13.0.3",
                "contentHash": H1,
            },
            "Microsoft.NETCore.Platforms": {
                "type": "Transitive",
                "resolved": "1.1.0",
                "contentHash": H2,
            },
            "System.Runtime": {
                "type": "Transitive",
                "resolved": "4.3.0",
                "contentHash": H3,
                "dependencies": {
                    "Microsoft.NETCore.Platforms": "1.1.0",
                    "Microsoft.NETCore.Targets": "1.1.0",
                },
            },
            "contoso.core": {
                "type": "Project",
                "dependencies": {"Newtonsoft.Json": "[13.0.3, )"},
            },
        },
        ".NETStandard,Version=v2.0": {
            "Newtonsoft.Json": {
                "type": "Direct",
                "requested": "[13.0.3, )",
                "resolved": "13.0.3",
                "contentHash": H1,
            },
        },
        "net8.0/win-x64": {
            "System.Runtime": {
                "type": "Transitive",
                "resolved": "4.3.0",
                "contentHash": H3,
            },
        },
    },
}


def test_packages_lock(tmp_path: Path) -> None:
    lock = read_packages_lock(write(tmp_path, "packages.lock.json", json.dumps(LOCK, indent=2)))
    assert (lock.ecosystem, lock.format) == ("nuget", "packages.lock.json v1")
    assert lock.extra["targets"] == ("net8.0", ".NETStandard,Version=v2.0", "net8.0/win-x64")
    direct = lock.packages[0]
    assert (direct.name, direct.version) == ("Newtonsoft.Json", "13.0.3")
    assert direct.hashes == (f"sha512-{H1}",)
    assert direct.extra == {
        "target_framework": "net8.0",
        "type": "Direct",
        "requested": "[13.0.3, )",
    }
    runtime = lock.packages[2]
    assert runtime.dependencies == (
        "Microsoft.NETCore.Platforms 1.1.0",
        "Microsoft.NETCore.Targets 1.1.0",
    )
    project = lock.packages[3]
    assert (project.version, project.source, project.extra["type"]) == ("", "project", "Project")
    assert project.dependencies == ("Newtonsoft.Json [13.0.3, )",)


def test_same_package_per_framework_and_runtime(tmp_path: Path) -> None:
    lock = read_packages_lock(write(tmp_path, "packages.lock.json", json.dumps(LOCK)))
    newtonsoft = [p.extra["target_framework"] for p in lock.packages if p.name == "Newtonsoft.Json"]
    assert newtonsoft == ["net8.0", ".NETStandard,Version=v2.0"]
    rid = lock.packages[-1]
    assert (rid.name, rid.extra["target_framework"], rid.extra["runtime"]) == (
        "System.Runtime",
        "net8.0",
        "win-x64",
    )


def test_lock_v2_central_transitive_via_read(tmp_path: Path) -> None:
    data = {
        "version": 2,
        "dependencies": {
            "net8.0": {
                "System.Memory": {
                    "type": "CentralTransitive",
                    "requested": "[4.5.5, )",
                    "resolved": "4.5.5",
                    "contentHash": H2,
                }
            }
        },
    }
    lock = manifests.read(write(tmp_path, "packages.lock.json", json.dumps(data)))
    assert isinstance(lock, Lockfile)
    assert lock.format == "packages.lock.json v2"
    assert lock.packages[0].extra["type"] == "CentralTransitive"
    assert lock.to_json()["type"] == "lockfile"


def _broken(path: list[str], value: object) -> dict[str, object]:
    data = json.loads(json.dumps(LOCK))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("data", "message", "location"),
    [
        (_broken(["version"], 3), "unsupported lock file version 3", "version"),
        (_broken(["dependencies"], []), "expected an object of target frameworks", "dependencies"),
        (
            _broken(["dependencies", "net8.0", "Newtonsoft.Json", "type"], "Pinned"),
            "unknown type 'Pinned'",
            "dependencies > net8.0 > Newtonsoft.Json > type",
        ),
        (
            _broken(["dependencies", "net8.0", "Newtonsoft.Json", "resolved"], "13.0.3.x"),
            "invalid version '13.0.3.x'",
            "dependencies > net8.0 > Newtonsoft.Json > resolved",
        ),
        (
            _broken(["dependencies", "net8.0", "Newtonsoft.Json", "requested"], "[13.0.3"),
            "invalid version range '[13.0.3'",
            "dependencies > net8.0 > Newtonsoft.Json > requested",
        ),
        (
            _broken(["dependencies", "net8.0", "Newtonsoft.Json", "contentHash"], "abc"),
            "contentHash is not a base64 SHA-512 digest",
            "dependencies > net8.0 > Newtonsoft.Json > contentHash",
        ),
        (
            _broken(["dependencies", "net8.0", "Microsoft.NETCore.Platforms", "resolved"], None),
            "missing field `resolved`",
            "dependencies > net8.0 > Microsoft.NETCore.Platforms",
        ),
    ],
)
def test_lock_errors_name_the_field(
    tmp_path: Path, data: dict[str, object], message: str, location: str
) -> None:
    err = error(write(tmp_path, "packages.lock.json", json.dumps(data, indent=2)))
    assert message in err.message
    assert err.location == location
    assert str(err).endswith(f"(at {location})")


def test_lock_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    err = error(
        write(tmp_path, "packages.lock.json", '{\n  "version": 1,\n  "dependencies": {,\n}')
    )
    assert err.message.startswith("invalid JSON: ")
    assert err.location == "3:20"


# --- writing packages.lock.json -------------------------------------------------------------------

H_DI, H_BCL, H_SERILOG = content_hash("di"), content_hash("bcl"), content_hash("serilog")

#: As NuGet writes it (PackagesLockFileFormat: Newtonsoft indented JSON, no BOM, no final
#: newline): two frameworks, a Project reference, transitive ranges in the legacy short form.
NUGET_WRITTEN = f"""{{
  "version": 1,
  "dependencies": {{
    "net6.0": {{
      "Newtonsoft.Json": {{
        "type": "Direct",
        "requested": "[13.0.3, )",
        "resolved": "13.0.3",
        "contentHash": "{H1}"
      }},
      "Serilog": {{
        "type": "Direct",
        "requested": "[3.1.1, )",
        "resolved": "3.1.1",
        "contentHash": "{H_SERILOG}"
      }},
      "Microsoft.Bcl.AsyncInterfaces": {{
        "type": "Transitive",
        "resolved": "8.0.0",
        "contentHash": "{H_BCL}"
      }},
      "Microsoft.Extensions.DependencyInjection.Abstractions": {{
        "type": "Transitive",
        "resolved": "8.0.0",
        "contentHash": "{H_DI}",
        "dependencies": {{
          "Microsoft.Bcl.AsyncInterfaces": "8.0.0",
          "System.Threading.Tasks.Extensions": "4.5.4"
        }}
      }},
      "contoso.core": {{
        "type": "Project",
        "dependencies": {{
          "Microsoft.Extensions.DependencyInjection.Abstractions": "[8.0.0, )",
          "Newtonsoft.Json": "[13.0.3, )"
        }}
      }}
    }},
    "net8.0": {{
      "Newtonsoft.Json": {{
        "type": "Direct",
        "requested": "[13.0.3, )",
        "resolved": "13.0.3",
        "contentHash": "{H1}"
      }},
      "Serilog": {{
        "type": "Direct",
        "requested": "[3.1.1, )",
        "resolved": "3.1.1",
        "contentHash": "{H_SERILOG}"
      }},
      "Microsoft.Extensions.DependencyInjection.Abstractions": {{
        "type": "Transitive",
        "resolved": "8.0.0",
        "contentHash": "{H_DI}"
      }},
      "contoso.core": {{
        "type": "Project",
        "dependencies": {{
          "Microsoft.Extensions.DependencyInjection.Abstractions": "[8.0.0, )",
          "Newtonsoft.Json": "[13.0.3, )"
        }}
      }}
    }}
  }}
}}"""


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "packages.lock.json"
    path.write_bytes(data)
    return path


def test_packages_lock_round_trip(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, NUGET_WRITTEN.encode())
    lock = read_packages_lock(path)
    assert write_packages_lock(lock) == NUGET_WRITTEN
    assert manifests.render(lock, "packages.lock.json") == NUGET_WRITTEN
    out = tmp_path / "out" / "packages.lock.json"
    out.parent.mkdir()
    manifests.write(lock, out)
    assert out.read_bytes() == NUGET_WRITTEN.encode()


def test_packages_lock_round_trip_keeps_windows_layout(tmp_path: Path) -> None:
    # Written on Windows (CRLF), then touched by an editor that added a BOM and a newline.
    data = b"\xef\xbb\xbf" + (NUGET_WRITTEN + "\n").replace("\n", "\r\n").encode()
    lock = read_packages_lock(write_bytes(tmp_path, data))
    assert (lock.extra["newline"], lock.extra["bom"], lock.extra["final_newline"]) == (
        "\r\n",
        True,
        True,
    )
    (tmp_path / "packages.lock.json").unlink()
    manifests.write(lock, tmp_path / "packages.lock.json")
    assert (tmp_path / "packages.lock.json").read_bytes() == data


def test_packages_lock_v2_round_trip(tmp_path: Path) -> None:
    text = f"""{{
  "version": 2,
  "dependencies": {{
    "net8.0/linux-x64": {{
      "Serilog": {{
        "type": "Direct",
        "requested": "[3.1.1, )",
        "resolved": "3.1.1",
        "contentHash": "{H_SERILOG}"
      }},
      "System.Memory": {{
        "type": "CentralTransitive",
        "requested": "[4.5.5, )",
        "resolved": "4.5.5",
        "contentHash": "{H2}"
      }}
    }},
    "net8.0": {{}}
  }}
}}"""
    lock = read_packages_lock(write_bytes(tmp_path, text.encode()))
    assert write_packages_lock(lock) == text


def built_lock() -> Lockfile:
    return Lockfile(
        ecosystem="nuget",
        path="packages.lock.json",
        format="packages.lock.json v1",
        packages=(
            LockedPackage(
                "Serilog",
                "3.1.1",
                hashes=(f"sha512-{H_SERILOG}",),
                extra={"target_framework": "net8.0", "type": "Direct", "requested": "[3.1.1, )"},
            ),
            LockedPackage(
                "System.Runtime",
                "4.3.0",
                hashes=(f"sha512-{H3}",),
                dependencies=("runtime.native.System 4.3.0", "Microsoft.NETCore.Targets 1.1.0"),
                extra={"target_framework": "net8.0", "type": "Transitive"},
            ),
            LockedPackage(
                "contoso.core",
                "",
                source="project",
                dependencies=("Serilog [3.1.1, )",),
                extra={"target_framework": "net8.0", "type": "Project"},
            ),
        ),
        extra={"targets": ("net8.0",)},
    )


BUILT_TEXT = f"""{{
  "version": 1,
  "dependencies": {{
    "net8.0": {{
      "Serilog": {{
        "type": "Direct",
        "requested": "[3.1.1, )",
        "resolved": "3.1.1",
        "contentHash": "{H_SERILOG}"
      }},
      "System.Runtime": {{
        "type": "Transitive",
        "resolved": "4.3.0",
        "contentHash": "{H3}",
        "dependencies": {{
          "Microsoft.NETCore.Targets": "1.1.0",
          "runtime.native.System": "4.3.0"
        }}
      }},
      "contoso.core": {{
        "type": "Project",
        "dependencies": {{
          "Serilog": "[3.1.1, )"
        }}
      }}
    }}
  }}
}}"""


def test_write_built_model_and_read_it_back(tmp_path: Path) -> None:
    lock = built_lock()
    text = write_packages_lock(lock)
    # Dependency ids are sorted ordinally: upper case before lower case.
    assert text == BUILT_TEXT
    back = read_packages_lock(write_bytes(tmp_path, text.encode()))
    assert back.format == lock.format
    assert back.extra == lock.extra
    assert [p.name for p in back.packages] == [p.name for p in lock.packages]
    by_name = {p.name: p for p in lock.packages}
    for package in back.packages:
        expected = by_name[package.name]
        # Dependencies come back in the file's (sorted) order.
        assert sorted(package.dependencies) == sorted(expected.dependencies)
        assert (package.version, package.source, package.hashes, package.extra) == (
            expected.version,
            expected.source,
            expected.hashes,
            expected.extra,
        )


def test_write_orders_packages_by_type_and_infers_types() -> None:
    lock = Lockfile(
        ecosystem="nuget",
        path="packages.lock.json",
        format="packages.lock.json v1",
        packages=(
            LockedPackage("app.lib", "", source="project"),
            LockedPackage(
                "Zeta", "1.0.0", extra={"type": "CentralTransitive", "requested": "1.0.0"}
            ),
            LockedPackage("B.Transitive", "2.0.0"),
            LockedPackage("A.Direct", "1.0.0", extra={"requested": "[1.0.0, )"}),
        ),
        extra={"targets": ("net8.0",)},
    )
    data = json.loads(write_packages_lock(lock))
    # CentralTransitive needs version 2; NuGet sorts by type and keeps the order within a type.
    assert data["version"] == 2
    entries = data["dependencies"]["net8.0"]
    assert list(entries) == ["A.Direct", "B.Transitive", "app.lib", "Zeta"]
    assert [e["type"] for e in entries.values()] == [
        "Direct",
        "Transitive",
        "Project",
        "CentralTransitive",
    ]
    assert entries["app.lib"] == {"type": "Project"}


def test_write_refuses_what_nuget_cannot_read() -> None:
    missing = Lockfile("nuget", "p", "packages.lock.json v1", (LockedPackage("A", ""),))
    with pytest.raises(ValueError, match="target_framework"):
        write_packages_lock(missing)
    unresolved = Lockfile(
        "nuget",
        "p",
        "packages.lock.json v1",
        (LockedPackage("A", "", extra={"target_framework": "net8.0"}),),
    )
    with pytest.raises(ValueError, match="needs a resolved version"):
        write_packages_lock(unresolved)
    v3 = Lockfile("nuget", "p", "packages.lock.json v3", (), {"targets": ("net8.0",)})
    with pytest.raises(ValueError, match="version 3"):
        write_packages_lock(v3)
