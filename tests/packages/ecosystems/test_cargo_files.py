"""Cargo.toml and Cargo.lock readers, on fixtures written after the Cargo book."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.cargo_files import (
    read_cargo_lock,
    read_cargo_toml,
    write_cargo_lock,
)
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

# The Cargo book, "The Manifest Format" and "Specifying Dependencies".
CARGO_TOML = """\
[package]
name = "hello_world"
version = "0.1.0"
edition = "2021"
rust-version = "1.70"

[dependencies]
time = "0.1.12"
regex = { version = "1.10", default-features = false, features = ["std", "unicode-perl"] }
serde = { version = "1.0", features = ["derive"], optional = true }
bar = { git = "https://github.com/rust-lang/cargo.git", branch = "main" }
baz = { git = "https://github.com/example/baz", rev = "9f35b8e" }
hello_utils = { path = "hello_utils", version = "0.1.0" }
some-crate = { version = "1.0", registry = "my-registry" }
foo = { version = "0.1", package = "foo-real" }

[dev-dependencies]
tempdir = "0.3"

[build-dependencies]
cc = "1.0.3"

[target.'cfg(windows)'.dependencies]
winhttp = "0.4.0"

[target.'cfg(unix)'.dependencies]
openssl = "1.0.1"

[target.x86_64-pc-windows-gnu.dependencies]
winapi = "0.3"

[target.'cfg(target_arch = "x86")'.dev-dependencies]
native-i686 = { path = "native/i686" }

[features]
default = ["ico", "webp"]
bmp = []
ico = ["bmp", "png"]
png = []
webp = []
serde = ["dep:serde"]

[patch.crates-io]
uuid = { git = "https://github.com/uuid-rs/uuid.git" }

[replace]
"foo:0.1.0" = { git = "https://github.com/example/foo.git" }
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


# --- Cargo.toml ---------------------------------------------------------------------------------


def test_package_and_dependencies(tmp_path: Path) -> None:
    m = read_cargo_toml(write(tmp_path, "Cargo.toml", CARGO_TOML))
    assert (m.ecosystem, m.name, m.version) == ("cargo", "hello_world", "0.1.0")
    assert m.extra["edition"] == "2021"
    assert m.extra["rust_version"] == "1.70"
    deps = by_name(m)
    assert deps["time"] == Dependency("time", "0.1.12")
    regex = deps["regex"]
    assert regex.constraint == "1.10"
    assert regex.features == ("std", "unicode-perl")
    assert regex.extra["default_features"] is False
    serde = deps["serde"]
    assert serde.optional
    assert serde.kind == "normal"
    assert serde.features == ("derive",)


def test_git_path_and_registry_sources(tmp_path: Path) -> None:
    deps = by_name(read_cargo_toml(write(tmp_path, "Cargo.toml", CARGO_TOML)))
    bar = deps["bar"]
    assert bar.constraint == ""
    assert bar.source == "git+https://github.com/rust-lang/cargo.git"
    assert bar.extra == {"git": "https://github.com/rust-lang/cargo.git", "branch": "main"}
    assert deps["baz"].extra["rev"] == "9f35b8e"
    utils = deps["hello_utils"]
    assert (utils.constraint, utils.source) == ("0.1.0", "path+hello_utils")
    assert utils.extra["path"] == "hello_utils"
    some = deps["some-crate"]
    assert (some.source, some.extra["registry"]) == ("registry+my-registry", "my-registry")


def test_renamed_dependency_records_the_crate_and_the_key(tmp_path: Path) -> None:
    deps = by_name(read_cargo_toml(write(tmp_path, "Cargo.toml", CARGO_TOML)))
    assert "foo" not in deps
    assert deps["foo-real"].constraint == "0.1"
    assert deps["foo-real"].extra["rename"] == "foo"


def test_dev_build_and_target_dependencies(tmp_path: Path) -> None:
    deps = by_name(read_cargo_toml(write(tmp_path, "Cargo.toml", CARGO_TOML)))
    assert deps["tempdir"].kind == "dev"
    assert deps["cc"].kind == "build"
    assert deps["winhttp"].markers == "cfg(windows)"
    assert deps["openssl"].markers == "cfg(unix)"
    assert deps["winapi"].markers == "x86_64-pc-windows-gnu"
    native = deps["native-i686"]
    assert (native.kind, native.markers) == ("dev", 'cfg(target_arch = "x86")')
    assert deps["time"].markers is None


def test_features_patch_and_replace(tmp_path: Path) -> None:
    m = read_cargo_toml(write(tmp_path, "Cargo.toml", CARGO_TOML))
    assert m.extra["features"]["ico"] == ("bmp", "png")
    assert m.extra["features"]["serde"] == ("dep:serde",)
    (uuid,) = m.extra["patch"]["crates-io"]
    assert uuid.name == "uuid"
    assert uuid.source == "git+https://github.com/uuid-rs/uuid.git"
    assert m.extra["replace"]["foo:0.1.0"].source == "git+https://github.com/example/foo.git"


def test_read_dispatches_by_name_and_serialises(tmp_path: Path) -> None:
    m = manifests.read(write(tmp_path, "Cargo.toml", CARGO_TOML))
    assert isinstance(m, Manifest)
    data = m.to_json()
    assert data["type"] == "manifest"
    assert data["name"] == "hello_world"


# The Cargo book, "Workspaces": a root with [workspace.package] and [workspace.dependencies].
WORKSPACE_ROOT = """\
[workspace]
members = ["bar", "crates/*"]
exclude = ["crates/foo"]
resolver = "2"

[workspace.package]
version = "1.2.3"
authors = ["Nice Folks"]

[workspace.dependencies]
cc = "1.0.73"
rand = "0.8.5"
regex = { version = "1.6.0", default-features = false, features = ["std"] }
"""

MEMBER = """\
[package]
name = "bar"
version.workspace = true

[dependencies]
regex = { workspace = true, features = ["unicode"] }

[build-dependencies]
cc.workspace = true

[dev-dependencies]
rand = { workspace = true }
"""


def test_virtual_workspace(tmp_path: Path) -> None:
    m = read_cargo_toml(write(tmp_path, "Cargo.toml", WORKSPACE_ROOT))
    assert (m.name, m.version, m.dependencies) == (None, None, ())
    ws = m.extra["workspace"]
    assert ws["members"] == ("bar", "crates/*")
    assert ws["exclude"] == ("crates/foo",)
    assert ws["resolver"] == "2"
    assert ws["package"]["version"] == "1.2.3"
    deps = {d.name: d for d in ws["dependencies"]}
    assert deps["regex"].features == ("std",)
    assert deps["rand"].constraint == "0.8.5"


def test_member_inherits_from_a_workspace_elsewhere(tmp_path: Path) -> None:
    m = read_cargo_toml(write(tmp_path, "bar/Cargo.toml", MEMBER))
    assert (m.name, m.version) == ("bar", None)
    assert m.extra["version_from_workspace"] is True
    deps = by_name(m)
    assert deps["regex"].constraint == ""
    assert deps["regex"].features == ("unicode",)
    assert deps["regex"].extra["from_workspace"] is True
    assert deps["cc"].kind == "build"
    assert deps["rand"].kind == "dev"


def test_root_package_inherits_from_its_own_workspace(tmp_path: Path) -> None:
    text = WORKSPACE_ROOT + MEMBER.replace('name = "bar"', 'name = "root"')
    m = read_cargo_toml(write(tmp_path, "Cargo.toml", text))
    assert (m.name, m.version) == ("root", "1.2.3")
    regex = by_name(m)["regex"]
    assert regex.constraint == "1.6.0"
    assert regex.features == ("std", "unicode")
    assert regex.extra["default_features"] is False
    assert regex.extra["from_workspace"] is True


def test_keys_cargo_ignores_next_to_workspace_true(tmp_path: Path) -> None:
    text = '[package]\nname = "a"\n[dependencies]\nfoo = { workspace = true, version = "1" }\n'
    foo = by_name(read_cargo_toml(write(tmp_path, "Cargo.toml", text)))["foo"]
    assert foo.constraint == ""
    assert foo.extra["ignored_keys"] == ("version",)


# --- Cargo.toml errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        ('[package]\nname = "x"\nversion = \n', "invalid TOML: Invalid value", "3:11"),
        ("[dependencies]\nfoo = 1.0\nfoo = 2\n", "invalid TOML: Cannot overwrite a value", None),
        ('[dependencies]\nserde = "1.0"\n[dependencies]\n', "invalid TOML: Cannot declare", "3:"),
    ],
)
def test_toml_syntax_errors_have_line_and_column(
    tmp_path: Path, text: str, message: str, location: str | None
) -> None:
    err = error(write(tmp_path, "Cargo.toml", text))
    assert err.message.startswith(message)
    assert err.location is not None
    assert err.location[0].isdigit()
    if location is not None:
        assert err.location.startswith(location)
    assert str(err).startswith(f"{tmp_path / 'Cargo.toml'}:{err.location}: error: ")


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        (
            '[dependencies]\nserde = "1.0.x.y"\n',
            "invalid version requirement '1.0.x.y'",
            "dependencies.serde",
        ),
        (
            '[dev-dependencies]\nrand = { version = ">=0.8,, <0.9" }\n',
            "invalid version requirement '>=0.8,, <0.9'",
            "dev-dependencies.rand.version",
        ),
        (
            "[target.'cfg(unix)'.dependencies]\nlibc = \"=0.2.01\"\n",
            "invalid version requirement '=0.2.01': invalid leading zero",
            "target.'cfg(unix)'.dependencies.libc",
        ),
        ("[dependencies]\nfoo = 1\n", "invalid type: integer `1`", "dependencies.foo"),
        (
            '[dependencies]\nfoo = { features = ["a"] }\n',
            "dependency (foo) specified without providing a local path, Git repository, "
            "version, or workspace dependency to use",
            "dependencies.foo",
        ),
        (
            '[dependencies]\nfoo = { git = "https://x/y", path = "y" }\n',
            "dependency (foo) specification is ambiguous. Only one of `git` or `path`",
            "dependencies.foo",
        ),
        (
            '[dependencies]\nfoo = { git = "https://x/y", branch = "a", tag = "b" }\n',
            "Only one of `branch`, `tag` or `rev` is allowed",
            "dependencies.foo",
        ),
        (
            '[dev-dependencies]\nfoo = { version = "1", optional = true }\n',
            "dev-dependencies are not allowed to be optional: `foo`",
            "dev-dependencies.foo",
        ),
        (
            '[dependencies]\nfoo = { version = "1", features = "std" }\n',
            'expected an array of strings, found string "std"',
            "dependencies.foo.features",
        ),
        (
            "[dependencies]\nfoo = { workspace = false }\n",
            "`workspace` cannot be false",
            "dependencies.foo.workspace",
        ),
        (
            '[workspace]\n[package]\nname = "a"\n[dependencies]\nfoo.workspace = true\n',
            "`dependency.foo` was not found in `workspace.dependencies`",
            "dependencies.foo",
        ),
        (
            '[workspace.dependencies]\nfoo = { version = "1", optional = true }\n',
            "foo is optional, but workspace dependencies cannot be optional",
            "workspace.dependencies.foo",
        ),
        ('[package]\nversion = "1.0.0"\n', "missing field `name`", "package"),
        (
            '[package]\nname = "a"\nversion = "1.0"\n',
            "invalid version '1.0': unexpected end of input while parsing minor",
            "package.version",
        ),
        ('[features]\ndefault = "std"\n', "expected an array of strings", "features.default"),
    ],
)
def test_manifest_errors_name_the_field(
    tmp_path: Path, text: str, message: str, location: str
) -> None:
    err = error(write(tmp_path, "Cargo.toml", text))
    assert message in err.message
    assert err.location == location
    assert str(err).endswith(f"(at {location})")


# --- Cargo.lock ---------------------------------------------------------------------------------

CHECKSUM = "a3e2c3daef883ecc1b5d58c15adae93470a91d425f3532ba1695849656af3fc1"

CARGO_LOCK_V4 = f"""\
# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "aho-corasick"
version = "1.1.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{CHECKSUM}"
dependencies = [
 "memchr",
]

[[package]]
name = "hello_world"
version = "0.1.0"
dependencies = [
 "aho-corasick",
 "rand 0.8.5",
 "rand 0.7.3 (git+https://github.com/rust-random/rand?branch=0.7#a1b2c3d)",
 "regex",
]

[[package]]
name = "memchr"
version = "2.7.4"
source = "sparse+https://my-registry.example.com/index/"
checksum = "{CHECKSUM}"

[[package]]
name = "rand"
version = "0.7.3"
source = "git+https://github.com/rust-random/rand?branch=0.7#a1b2c3d4e5f6"

[[package]]
name = "rand"
version = "0.8.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{CHECKSUM}"
"""


def test_lock_v4(tmp_path: Path) -> None:
    lock = read_cargo_lock(write(tmp_path, "Cargo.lock", CARGO_LOCK_V4))
    assert (lock.ecosystem, lock.format) == ("cargo", "Cargo.lock v4")
    names = [(p.name, p.version) for p in lock.packages]
    assert names == [
        ("aho-corasick", "1.1.3"),
        ("hello_world", "0.1.0"),
        ("memchr", "2.7.4"),
        ("rand", "0.7.3"),
        ("rand", "0.8.5"),
    ]
    aho = lock.packages[0]
    assert aho.source == "registry+https://github.com/rust-lang/crates.io-index"
    assert aho.hashes == (f"sha256:{CHECKSUM}",)
    assert aho.dependencies == ("memchr",)
    assert aho.extra["source_kind"] == "registry"
    root = lock.packages[1]
    assert (root.source, root.hashes) == (None, ())
    assert root.dependencies[2] == (
        "rand 0.7.3 (git+https://github.com/rust-random/rand?branch=0.7#a1b2c3d)"
    )
    assert lock.packages[2].extra["source_kind"] == "sparse"
    git = lock.packages[3]
    assert git.extra == {"source_kind": "git", "rev": "a1b2c3d4e5f6", "branch": "0.7"}
    assert git.hashes == ()


def test_lock_v3_via_read(tmp_path: Path) -> None:
    lock = manifests.read(
        write(tmp_path, "Cargo.lock", CARGO_LOCK_V4.replace("version = 4", "version = 3"))
    )
    assert isinstance(lock, Lockfile)
    assert lock.format == "Cargo.lock v3"
    assert lock.to_json()["type"] == "lockfile"


def test_lock_v2_has_no_version_key(tmp_path: Path) -> None:
    text = CARGO_LOCK_V4.replace("version = 4\n", "")
    lock = read_cargo_lock(write(tmp_path, "Cargo.lock", text))
    assert lock.format == "Cargo.lock v2"
    assert lock.packages[0].hashes == (f"sha256:{CHECKSUM}",)


CARGO_LOCK_V1 = f"""\
[[package]]
name = "hello_world"
version = "0.1.0"
dependencies = [
 "memchr 2.7.4 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "memchr"
version = "2.7.4"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum memchr 2.7.4 (registry+https://github.com/rust-lang/crates.io-index)" = "{CHECKSUM}"
"""


def test_lock_v1_checksums_in_metadata(tmp_path: Path) -> None:
    lock = read_cargo_lock(write(tmp_path, "Cargo.lock", CARGO_LOCK_V1))
    assert lock.format == "Cargo.lock v1"
    root, memchr = lock.packages
    assert root.dependencies == (
        "memchr 2.7.4 (registry+https://github.com/rust-lang/crates.io-index)",
    )
    assert memchr.hashes == (f"sha256:{CHECKSUM}",)
    assert "metadata" not in lock.extra


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        ("version = 5\n", "lock file version `5` was found", "version"),
        ('version = "4"\n', 'expected an integer, found string "4"', "version"),
        ('version = 4\n[[package]]\nname = "a"\n', "missing field `version`", "package[0]"),
        (
            'version = 4\n[[package]]\nname = "a"\nversion = "1.0"\n',
            "invalid version '1.0'",
            "package[0].version",
        ),
        (
            'version = 4\n[[package]]\nname = "a"\nversion = "1.0.0"\nsource = "svn+x"\n',
            "unsupported source protocol: svn+x",
            "package[0].source",
        ),
        (
            'version = 4\n[[package]]\nname = "a"\nversion = "1.0.0"\nchecksum = "abc"\n',
            "checksum is not a SHA-256 hex digest",
            "package[0].checksum",
        ),
        (
            'version = 4\n[[package]]\nname = "a"\nversion = "1.0.0"\n'
            'dependencies = ["b 1.0.0 registry"]\n',
            "invalid dependency entry 'b 1.0.0 registry'",
            "package[0].dependencies[0]",
        ),
    ],
)
def test_lock_errors_name_the_field(tmp_path: Path, text: str, message: str, location: str) -> None:
    err = error(write(tmp_path, "Cargo.lock", text))
    assert message in err.message
    assert err.location == location


def test_lock_toml_error_has_line_and_column(tmp_path: Path) -> None:
    err = error(write(tmp_path, "Cargo.lock", 'version = 4\n[[package]\nname = "a"\n'))
    assert err.location == "2:10"
    assert err.message.startswith("invalid TOML: ")


def test_unreadable_utf8(tmp_path: Path) -> None:
    path = tmp_path / "Cargo.toml"
    path.write_bytes(b'[package]\nname = "\xff"\n')
    err = error(path)
    assert (err.message, err.location) == ("not valid UTF-8", "2:9")


# --- writing Cargo.lock -------------------------------------------------------------------------

# Written by cargo 1.95 (`cargo generate-lockfile --offline`) for a workspace of path crates.
PATH_ONLY_LOCK = """\
# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "alpha"
version = "1.0.0-beta.1"

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "dup",
 "util",
 "zeta",
]

[[package]]
name = "dup"
version = "1.0.0"

[[package]]
name = "util"
version = "0.2.0"
dependencies = [
 "alpha",
]

[[package]]
name = "zeta"
version = "0.0.1"
"""

# Written by cargo 1.95 for a workspace whose crates.io dependencies come from a vendored
# directory source: two versions of memchr, so entries carry the version where needed.
VENDORED_LOCK = """\
# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "aho-corasick"
version = "1.1.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1f9f15203f4ddf67e844cfc6c3ed9a139df4063b39ed3416e830aa26146c71cf"
dependencies = [
 "memchr 2.7.4",
]

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "memchr 2.7.4",
 "util",
]

[[package]]
name = "memchr"
version = "1.0.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "056e4500a8fe948053c29145ea560e6c7d24be289ec7b6408894de221a512e98"

[[package]]
name = "memchr"
version = "2.7.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "6f5cf78541db356e41800f07bb24af111c72345dcf754c03b7aaa0f5225cb451"

[[package]]
name = "util"
version = "0.2.0"
dependencies = [
 "aho-corasick",
 "memchr 1.0.2",
]
"""

# The same version of rand from crates.io and from git: entries name the source (a git source
# without its commit), and crates.io sorts before git (cargo's SourceKind order).
GIT_AND_REGISTRY_LOCK = f"""\
# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "hello"
version = "0.1.0"
dependencies = [
 "rand 0.8.5 (registry+https://github.com/rust-lang/crates.io-index)",
 "rand 0.8.5 (git+https://github.com/rust-random/rand?branch=main)",
 "rand_core",
]

[[package]]
name = "rand"
version = "0.8.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{CHECKSUM}"
dependencies = [
 "rand_core",
]

[[package]]
name = "rand"
version = "0.8.5"
source = "git+https://github.com/rust-random/rand?branch=main#937320cbfeebd4352a23086d9c6e68f067f74644"
dependencies = [
 "rand_core",
]

[[package]]
name = "rand_core"
version = "0.6.4"
source = "sparse+https://my-registry.example.com/index/"
checksum = "{CHECKSUM}"
"""


@pytest.mark.parametrize("text", [PATH_ONLY_LOCK, VENDORED_LOCK, GIT_AND_REGISTRY_LOCK])
def test_write_cargo_lock_round_trips_byte_for_byte(tmp_path: Path, text: str) -> None:
    lock = read_cargo_lock(write(tmp_path, "Cargo.lock", text))
    assert write_cargo_lock(lock) == text
    assert manifests.render(lock, "Cargo.lock") == text


def test_write_cargo_lock_v2_has_no_version_line(tmp_path: Path) -> None:
    text = PATH_ONLY_LOCK.replace("version = 4\n\n", "")
    lock = read_cargo_lock(write(tmp_path, "Cargo.lock", text))
    assert lock.format == "Cargo.lock v2"
    assert write_cargo_lock(lock) == text


def _resolver_output(path: str = "Cargo.lock") -> Lockfile:
    """What a resolver might hand over: unsorted, every entry fully qualified."""
    registry = "registry+https://github.com/rust-lang/crates.io-index"
    return Lockfile(
        ecosystem="cargo",
        path=path,
        format="Cargo.lock v4",
        packages=(
            LockedPackage("util", "0.2.0", dependencies=("memchr 1.0.2", "aho-corasick 1.1.3")),
            LockedPackage(
                "memchr",
                "2.7.4",
                registry,
                ("sha256:6f5cf78541db356e41800f07bb24af111c72345dcf754c03b7aaa0f5225cb451",),
            ),
            LockedPackage(
                "app", "0.1.0", dependencies=("util 0.2.0", f"memchr 2.7.4 ({registry})")
            ),
            LockedPackage(
                "memchr",
                "1.0.2",
                registry,
                ("sha256:056e4500a8fe948053c29145ea560e6c7d24be289ec7b6408894de221a512e98",),
            ),
            LockedPackage(
                "aho-corasick",
                "1.1.3",
                registry,
                ("sha256:1f9f15203f4ddf67e844cfc6c3ed9a139df4063b39ed3416e830aa26146c71cf",),
                ("memchr 2.7.4",),
            ),
        ),
    )


def test_write_cargo_lock_sorts_and_encodes_entries_as_cargo_does() -> None:
    assert write_cargo_lock(_resolver_output()) == VENDORED_LOCK


def test_sort_uses_semver_not_text() -> None:
    lock = Lockfile(
        "cargo",
        "Cargo.lock",
        "Cargo.lock v4",
        (
            LockedPackage("a", "10.0.0"),
            LockedPackage("a", "9.0.0"),
            LockedPackage("a", "9.0.0-rc.1"),
            LockedPackage("root", "0.1.0", dependencies=("a 9.0.0", "a 10.0.0", "a 9.0.0-rc.1")),
        ),
    )
    text = write_cargo_lock(lock)
    assert [line for line in text.splitlines() if line.startswith("version = ")] == [
        "version = 4",
        'version = "9.0.0-rc.1"',
        'version = "9.0.0"',
        'version = "10.0.0"',
        'version = "0.1.0"',
    ]
    # Dependency entries sort by the version's text, as cargo's EncodablePackageId does.
    assert ' "a 10.0.0",\n "a 9.0.0",\n "a 9.0.0-rc.1",\n' in text


@pytest.mark.parametrize(
    ("package", "message"),
    [
        (LockedPackage("x", ""), "x has no version"),
        (LockedPackage("x", "1.0.0", hashes=("sha512-abc",)), "only records sha256"),
        (LockedPackage("x", "1.0.0", hashes=("sha256:abc",)), "not a SHA-256 hex digest"),
        (LockedPackage("x", "1.0.0", dependencies=("missing",)), "'missing' is not a locked"),
        (LockedPackage("x", "1.0.0", dependencies=("bad entry (",)), "invalid dependency entry"),
    ],
)
def test_write_cargo_lock_refuses_what_cargo_would_reject(
    package: LockedPackage, message: str
) -> None:
    lock = Lockfile("cargo", "Cargo.lock", "Cargo.lock v4", (package,))
    with pytest.raises(ManifestError, match=message):
        write_cargo_lock(lock)


def test_write_cargo_lock_refuses_ambiguous_entries_and_v1() -> None:
    two = (LockedPackage("a", "1.0.0", "registry+https://r"), LockedPackage("a", "1.0.0", "git+x"))
    lock = Lockfile(
        "cargo",
        "Cargo.lock",
        "Cargo.lock v4",
        (*two, LockedPackage("b", "1.0.0", dependencies=("a",))),
    )
    with pytest.raises(ManifestError, match="matches 2 locked packages"):
        write_cargo_lock(lock)
    with pytest.raises(ManifestError, match="version 1 is not supported") as info:
        write_cargo_lock(Lockfile("cargo", "Cargo.lock", "Cargo.lock v1", ()))
    assert info.value.location == "version"


# --- cargo itself accepts what is written (no network: path crates and a vendored directory) ---

CARGO = shutil.which("cargo")
needs_cargo = pytest.mark.skipif(CARGO is None, reason="cargo is not installed")


def _crate(root: Path, folder: str, name: str, version: str, deps: str = "") -> None:
    (root / folder / "src").mkdir(parents=True)
    (root / folder / "src" / "lib.rs").write_text("")
    (root / folder / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
        f"[dependencies]\n{deps}"
    )


def _cargo_accepts(root: Path) -> subprocess.CompletedProcess[str]:
    assert CARGO is not None
    # --locked fails when cargo would change Cargo.lock in any way.
    return subprocess.run(
        [CARGO, "metadata", "--locked", "--offline", "--format-version", "1"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "CARGO_HOME": str(root / ".cargo-home")},
        timeout=120,
    )


@needs_cargo
def test_cargo_accepts_a_written_lock_of_path_crates(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["app", "util"]\nresolver = "2"\n')
    _crate(
        tmp_path,
        "app",
        "app",
        "0.1.0",
        'util = { path = "../util" }\n'
        'dup = { path = "../vendor/dup1" }\n'
        'zeta = { path = "../vendor/zeta" }\n',
    )
    _crate(tmp_path, "util", "util", "0.2.0", 'alpha = { path = "../vendor/alpha" }\n')
    _crate(tmp_path, "vendor/dup1", "dup", "1.0.0")
    _crate(tmp_path, "vendor/zeta", "zeta", "0.0.1")
    _crate(tmp_path, "vendor/alpha", "alpha", "1.0.0-beta.1")
    lock = Lockfile(
        "cargo",
        str(tmp_path / "Cargo.lock"),
        "Cargo.lock v4",
        (
            LockedPackage("zeta", "0.0.1"),
            LockedPackage("util", "0.2.0", dependencies=("alpha 1.0.0-beta.1",)),
            LockedPackage("app", "0.1.0", dependencies=("zeta", "util", "dup 1.0.0")),
            LockedPackage("dup", "1.0.0"),
            LockedPackage("alpha", "1.0.0-beta.1"),
        ),
    )
    manifests.write(lock, tmp_path / "Cargo.lock")
    result = _cargo_accepts(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "Cargo.lock").read_text() == PATH_ONLY_LOCK


@needs_cargo
def test_cargo_accepts_a_written_lock_with_registry_crates(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["app", "util"]\nexclude = ["vendor"]\nresolver = "2"\n'
    )
    _crate(tmp_path, "app", "app", "0.1.0", 'util = { path = "../util" }\nmemchr = "2"\n')
    _crate(tmp_path, "util", "util", "0.2.0", 'memchr = "1"\naho-corasick = "1"\n')
    lock = _resolver_output(str(tmp_path / "Cargo.lock"))
    for package in lock.packages:
        if package.source is None:
            continue
        deps = "".join(f'{d.split()[0]} = "={d.split()[1]}"\n' for d in package.dependencies)
        folder = f"vendor/{package.name}-{package.version}"
        _crate(tmp_path, folder, package.name, package.version, deps)
        checksum = package.hashes[0].removeprefix("sha256:")
        (tmp_path / folder / ".cargo-checksum.json").write_text(
            json.dumps({"files": {}, "package": checksum})
        )
    (tmp_path / ".cargo").mkdir()
    (tmp_path / ".cargo" / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n'
    )
    manifests.write(lock, tmp_path / "Cargo.lock")
    result = _cargo_accepts(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "Cargo.lock").read_text() == VENDORED_LOCK
