"""Cargo.toml and Cargo.lock readers, on fixtures written after the Cargo book."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.cargo_files import read_cargo_lock, read_cargo_toml
from tuskops.packages.manifests import Dependency, Lockfile, Manifest

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
