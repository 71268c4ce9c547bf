"""rubygems_files: Gemfiles read statically (gemfile(5)) and Bundler's Gemfile.lock."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.rubygems_files import (
    read_gemfile,
    read_gemfile_lock,
    write_gemfile_lock,
)
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest, read

GEMFILE = """\
# frozen_string_literal: true

source "https://rubygems.org"

ruby "3.2.2"

# Bundle edge Rails instead: gem "rails", github: "rails/rails", branch: "main"
gem "rails", "~> 7.1.3", ">= 7.1.3.2"
gem 'pg', '~> 1.1'
gem "puma", ">= 5.0"
gem "bootsnap", require: false
gem "sqlite3-ruby", :require => "sqlite3"
gem "redis", :require => ["redis/connection/hiredis", "redis"]
gem("tzinfo-data", platforms: %i[ windows jruby ])
gem "nokogiri",
  ">= 1.12",
  git: "https://github.com/sparklemotion/nokogiri.git",
  tag: "v1.16.0"
gem "rack", github: "rack/rack", branch: "main"
gem "extracted_library", path: "./vendor/extracted_library"
gem "my_gem", source: "https://gems.example.com"
gem "rspec-rails", group: :test
gem "debug", groups: [:development, :test], platforms: %w[mri windows]

gemspec

group :development, :test do
  gem "factory_bot_rails"
  gem "rubocop", "~> 1.60", require: false # linters
end

group :development do
  gem "web-console"
  platforms :mri do
    gem "byebug"
  end
end

group :ci, optional: true do
  gem "simplecov"
end

source "https://gems.contribsys.com/" do
  gem "sidekiq-pro"
end

platforms :jruby do
  gem "activerecord-jdbcsqlite3-adapter"
end

git "https://github.com/rails/rails.git", ref: "4aded" do
  gem "activesupport"
end
"""

LOCK = """\
GIT
  remote: https://github.com/rack/rack.git
  revision: 8b4e7a1c7f0f0e5a2c3f1c7f9b6a3a6f5e4d3c2b
  branch: main
  specs:
    rack (3.1.0)

PATH
  remote: .
  specs:
    myapp (0.1.0)
      rails (>= 7.1)

GEM
  remote: https://rubygems.org/
  specs:
    actionpack (7.1.3.2)
      rack (>= 2.2.4)
      rack-session (>= 1.0.1)
    mini_portile2 (2.8.5)
    nokogiri (1.16.0)
      mini_portile2 (~> 2.8.2)
      racc (~> 1.4)
    nokogiri (1.16.0-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.3)
    rack-session (2.0.0)
      rack (>= 3.0.0)
    rails (7.1.3.2)
      actionpack (= 7.1.3.2)

PLATFORMS
  ruby
  x86_64-linux

DEPENDENCIES
  myapp!
  nokogiri (>= 1.12, < 2)
  rack!
  rails (~> 7.1.3, >= 7.1.3.2)

CHECKSUMS
  actionpack (7.1.3.2) sha256=b0d2a1a8b6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9
  myapp (0.1.0)
  nokogiri (1.16.0-x86_64-linux) sha256=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
  racc (1.7.3) sha256=aaaa,sha512=bbbb

RUBY VERSION
   ruby 3.2.2p53

BUNDLED WITH
   2.5.6
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def gems(manifest: Manifest) -> dict[str, Dependency]:
    return {d.name: d for d in manifest.dependencies}


@pytest.fixture
def gemfile(tmp_path: Path) -> Manifest:
    return read_gemfile(write(tmp_path / "Gemfile", GEMFILE))


def test_sources_ruby_gemspec(gemfile: Manifest) -> None:
    assert gemfile.ecosystem == "rubygems"
    assert gemfile.extra["sources"] == ["https://rubygems.org", "https://gems.contribsys.com/"]
    assert gemfile.extra["ruby"] == {"version": "3.2.2"}
    assert gemfile.extra["gemspec"] == [{"path": "."}]


def test_requirements_and_require(gemfile: Manifest) -> None:
    d = gems(gemfile)
    assert d["rails"].constraint == "~> 7.1.3, >= 7.1.3.2"
    assert (d["rails"].kind, d["rails"].source) == ("normal", None)
    assert d["pg"].constraint == "~> 1.1"
    assert d["bootsnap"].constraint == ""
    assert d["bootsnap"].extra == {"require": False}
    assert d["sqlite3-ruby"].extra == {"require": "sqlite3"}
    assert d["redis"].extra["require"] == ["redis/connection/hiredis", "redis"]


def test_platforms_and_sources(gemfile: Manifest) -> None:
    d = gems(gemfile)
    assert d["tzinfo-data"].markers == "windows, jruby"
    nokogiri = d["nokogiri"]
    assert nokogiri.constraint == ">= 1.12"
    assert nokogiri.source == "https://github.com/sparklemotion/nokogiri.git"
    assert nokogiri.extra == {"git": nokogiri.source, "tag": "v1.16.0"}
    assert d["rack"].source == "https://github.com/rack/rack.git"
    assert d["rack"].extra["github"] == "rack/rack"
    assert d["rack"].extra["branch"] == "main"
    assert d["extracted_library"].source == "./vendor/extracted_library"
    assert d["my_gem"].source == "https://gems.example.com"
    assert d["sidekiq-pro"].source == "https://gems.contribsys.com/"
    assert d["activerecord-jdbcsqlite3-adapter"].markers == "jruby"
    assert d["activesupport"].source == "https://github.com/rails/rails.git"
    assert d["activesupport"].extra["ref"] == "4aded"


def test_groups(gemfile: Manifest) -> None:
    d = gems(gemfile)
    assert d["rspec-rails"].kind == "test"
    assert d["debug"].kind == "development"
    assert d["debug"].extra["groups"] == ["development", "test"]
    assert d["debug"].markers == "mri, windows"
    assert d["factory_bot_rails"].kind == "development"
    assert d["factory_bot_rails"].extra["groups"] == ["development", "test"]
    assert d["rubocop"].constraint == "~> 1.60"
    assert d["web-console"].kind == "development"
    assert (d["byebug"].kind, d["byebug"].markers) == ("development", "mri")
    assert d["simplecov"].optional is True
    assert d["simplecov"].kind == "ci"
    assert d["rails"].optional is False


def test_gemfile_via_read(tmp_path: Path) -> None:
    for name in ("Gemfile", "gems.rb"):
        m = read(write(tmp_path / name, GEMFILE))
        assert isinstance(m, Manifest)
        assert len(m.dependencies) == 21


@pytest.mark.parametrize(
    ("source", "message", "location"),
    [
        ('gem "rails" if ENV["RAILS"]\n', "the `if` modifier is not supported", "1:13"),
        ("if RUBY_VERSION >= '3'\n  gem 'x'\nend\n", "`if` is not supported", "1:1"),
        ('rails_version = "7.1"\ngem "rails", rails_version\n', "assigning the variable", "1:1"),
        ('gem "rails", ENV.fetch("V")\n', "the constant `ENV` as a value", "1:14"),
        ('source "x"\ngem "rails", "~> #{v}"\n', "string interpolation", "2:18"),
        ('eval_gemfile "other.rb"\n', "the method `eval_gemfile` is not supported", "1:1"),
        ("git_source(:gh) { |r| r }\n", "the method `git_source`", "1:1"),
        ("group :test do |g|\nend\n", "a block with parameters is not supported", "1:16"),
        ('gem "a"; Bundler.x\n', "calling a method on `Bundler`", "1:10"),
    ],
)
def test_unsupported_constructs(tmp_path: Path, source: str, message: str, location: str) -> None:
    with pytest.raises(ManifestError) as info:
        read_gemfile(write(tmp_path / "Gemfile", source))
    assert message in info.value.message
    assert "read statically" in info.value.message
    assert info.value.location == location


@pytest.mark.parametrize(
    ("source", "message", "location"),
    [
        ('group :test do\n  gem "x"\n', "the `do` block opened at 1:13 has no `end`", "1:13"),
        ("end\n", "`end` without a block", "1:1"),
        ('gem "x", bogus: 1\n', "unknown option `bogus` for `gem`", "1:10"),
        ('gem "x", branch: "main"\n', "`branch:` needs a git source", "1:10"),
        ('gem "x", "1.0\n', "unterminated string", "1:10"),
        ("gem :x\n", "expects a gem name as a string", "1:5"),
        ('gem "x", git: "a", path: "b"\n', "more than one source", "1:20"),
    ],
)
def test_gemfile_errors(tmp_path: Path, source: str, message: str, location: str) -> None:
    with pytest.raises(ManifestError) as info:
        read_gemfile(write(tmp_path / "Gemfile", source))
    assert message in info.value.message
    assert info.value.location == location


def test_lockfile(tmp_path: Path) -> None:
    lock = read_gemfile_lock(write(tmp_path / "Gemfile.lock", LOCK))
    assert lock.ecosystem == "rubygems"
    assert lock.format == "Gemfile.lock (bundler 2.5.6)"
    assert lock.extra["platforms"] == ["ruby", "x86_64-linux"]
    assert lock.extra["ruby_version"] == "ruby 3.2.2p53"
    assert lock.extra["bundled_with"] == "2.5.6"
    assert lock.extra["dependencies"] == [
        {"name": "myapp", "constraint": "", "pinned_source": True},
        {"name": "nokogiri", "constraint": ">= 1.12, < 2", "pinned_source": False},
        {"name": "rack", "constraint": "", "pinned_source": True},
        {"name": "rails", "constraint": "~> 7.1.3, >= 7.1.3.2", "pinned_source": False},
    ]
    pkgs = [(p.name, p.version, p.extra.get("platform")) for p in lock.packages]
    assert ("nokogiri", "1.16.0", None) in pkgs
    assert ("nokogiri", "1.16.0", "x86_64-linux") in pkgs
    by = {(p.name, p.extra.get("platform")): p for p in lock.packages}
    rack = by[("rack", None)]
    assert rack.source == "https://github.com/rack/rack.git"
    assert rack.extra["revision"].startswith("8b4e7a1c")
    assert rack.extra["branch"] == "main"
    assert rack.extra["source_type"] == "git"
    myapp = by[("myapp", None)]
    assert (myapp.source, myapp.extra["source_type"]) == (".", "path")
    assert myapp.dependencies == ("rails >= 7.1",)
    assert myapp.hashes == ()
    actionpack = by[("actionpack", None)]
    assert actionpack.source == "https://rubygems.org/"
    assert actionpack.dependencies == ("rack >= 2.2.4", "rack-session >= 1.0.1")
    assert actionpack.hashes == (
        "sha256=b0d2a1a8b6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9",
    )
    assert by[("nokogiri", "x86_64-linux")].hashes[0].startswith("sha256=0a1b")
    assert by[("nokogiri", None)].hashes == ()
    assert by[("racc", None)].hashes == ("sha256=aaaa", "sha512=bbbb")
    assert by[("mini_portile2", None)].dependencies == ()


def test_lockfile_via_read(tmp_path: Path) -> None:
    for name in ("Gemfile.lock", "gems.locked"):
        lock = read(write(tmp_path / name, LOCK))
        assert isinstance(lock, Lockfile)
        assert len(lock.packages) == 9


def test_old_lockfile_without_checksums(tmp_path: Path) -> None:
    text = (
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.1.0)\n"
        "\nDEPENDENCIES\n  rake\n"
    )
    lock = read_gemfile_lock(write(tmp_path / "Gemfile.lock", text))
    assert lock.format == "Gemfile.lock"
    assert [(p.name, p.version) for p in lock.packages] == [("rake", "13.1.0")]
    assert "checksums" not in lock.extra


@pytest.mark.parametrize(
    ("text", "message", "location"),
    [
        ("GEM\n  remote: x\n  specs:\n    rake\n", "expected a spec `name (version)`", "4:5"),
        ("GEM\n  remote: x\n  specs:\n     rake (1.0)\n", "unexpected indentation (5", "4:6"),
        ("GEMS\n  remote: x\n", "unknown section 'GEMS'", "1:1"),
        ("GEM\n  remote x\n", "expected `key: value`", "2:3"),
        ("  rake (1.0)\n", "outside any section", "1:3"),
        ("DEPENDENCIES\n  rake (>= 1\n", "expected a dependency", "2:3"),
        ("CHECKSUMS\n  rake (1.0) sha256=xyz\n", "malformed checksum 'sha256=xyz'", "2:14"),
        ("<<<<<<< HEAD\n", "merge-conflict marker", "1:1"),
    ],
)
def test_lockfile_errors(tmp_path: Path, text: str, message: str, location: str) -> None:
    with pytest.raises(ManifestError) as info:
        read_gemfile_lock(write(tmp_path / "Gemfile.lock", text))
    assert message in info.value.message
    assert info.value.location == location


def test_plugin_source_section(tmp_path: Path) -> None:
    text = (
        "PLUGIN SOURCE\n  remote: https://hg.example.com/repo\n  type: mercurial\n"
        "  revision: 3a1f\n  specs:\n    hggem (0.2.0)\n"
    )
    lock = read_gemfile_lock(write(tmp_path / "Gemfile.lock", text))
    [pkg] = lock.packages
    assert (pkg.name, pkg.version, pkg.source) == ("hggem", "0.2.0", "https://hg.example.com/repo")
    assert pkg.extra == {"source_type": "plugin", "revision": "3a1f"}
    assert lock.extra["sources"][0]["plugin_type"] == "mercurial"


# --- writing Gemfile.lock ---------------------------------------------------------------------


def sha256(text: str) -> str:
    return "sha256=" + hashlib.sha256(text.encode()).hexdigest()


#: As Bundler 2.5 writes it: GIT, PATH and GEM sections, gems for three platforms, every
#: resolved spec in CHECKSUMS (git and path gems without a digest).
BUNDLER_WRITTEN = f"""\
GIT
  remote: https://github.com/rails/rails.git
  revision: 4aded8b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7
  branch: 7-1-stable
  specs:
    activesupport (7.1.3.2)
      base64
      bigdecimal
      concurrent-ruby (~> 1.0, >= 1.0.2)
      i18n (>= 1.6, < 2)
      minitest (>= 5.1)
      tzinfo (~> 2.0)

PATH
  remote: .
  specs:
    myapp (0.1.0)
      activesupport (>= 7.1)
      nokogiri (~> 1.16)

GEM
  remote: https://rubygems.org/
  specs:
    base64 (0.2.0)
    bigdecimal (3.1.6)
    concurrent-ruby (1.2.3)
    i18n (1.14.1)
      concurrent-ruby (~> 1.0)
    minitest (5.22.2)
    nokogiri (1.16.2-aarch64-linux)
      racc (~> 1.4)
    nokogiri (1.16.2-arm64-darwin)
      racc (~> 1.4)
    nokogiri (1.16.2-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.3)
    rake (13.1.0)
    tzinfo (2.0.6)
      concurrent-ruby (~> 1.0)

PLATFORMS
  aarch64-linux
  arm64-darwin
  x86_64-linux

DEPENDENCIES
  activesupport!
  minitest (~> 5.22)
  myapp!
  rake (~> 13.0)

CHECKSUMS
  activesupport (7.1.3.2)
  base64 (0.2.0) {sha256("base64")}
  bigdecimal (3.1.6) {sha256("bigdecimal")}
  concurrent-ruby (1.2.3) {sha256("concurrent-ruby")}
  i18n (1.14.1) {sha256("i18n")}
  minitest (5.22.2) {sha256("minitest")}
  myapp (0.1.0)
  nokogiri (1.16.2-aarch64-linux) {sha256("nokogiri-aarch64")}
  nokogiri (1.16.2-arm64-darwin) {sha256("nokogiri-arm64")}
  nokogiri (1.16.2-x86_64-linux) {sha256("nokogiri-x86_64")}
  racc (1.7.3) {sha256("racc")}
  rake (13.1.0) {sha256("rake")}
  tzinfo (2.0.6) {sha256("tzinfo")}

RUBY VERSION
   ruby 3.3.0p0

BUNDLED WITH
   2.5.6
"""

#: Bundler 2.4 and older: no CHECKSUMS; two GEM remotes merged into one section.
OLD_BUNDLER_WRITTEN = """\
GEM
  remote: https://rubygems.org/
  remote: https://gems.contribsys.com/
  specs:
    connection_pool (2.4.1)
    rack (3.0.9)
    sidekiq (7.2.1)
      concurrent-ruby (< 2)
      connection_pool (>= 2.3.0)
      rack (>= 2.2.4)
      redis-client (>= 0.19.0)

PLATFORMS
  ruby

DEPENDENCIES
  rack (>= 2.2, < 4)
  sidekiq

BUNDLED WITH
   2.4.22
"""


@pytest.mark.parametrize("text", [BUNDLER_WRITTEN, OLD_BUNDLER_WRITTEN], ids=["2.5", "2.4"])
def test_gemfile_lock_round_trip(tmp_path: Path, text: str) -> None:
    lock = read_gemfile_lock(write(tmp_path / "Gemfile.lock", text))
    assert write_gemfile_lock(lock) == text
    out = tmp_path / "out" / "gems.locked"
    out.parent.mkdir()
    manifests.write(lock, out)
    assert out.read_bytes() == text.encode()


def test_checksum_of_no_listed_spec_is_kept(tmp_path: Path) -> None:
    text = (
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.1.0)\n"
        "\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rake\n"
        f"\nCHECKSUMS\n  bundler (2.6.2)\n  rake (13.1.0) {sha256('rake')}\n"
        "\nBUNDLED WITH\n   2.6.2\n"
    )
    lock = read_gemfile_lock(write(tmp_path / "Gemfile.lock", text))
    assert lock.extra["other_checksums"] == {"bundler (2.6.2)": ()}
    assert write_gemfile_lock(lock) == text


def gem(name: str, version: str, *deps: str, **extra: str) -> LockedPackage:
    source = extra.pop("source", "https://rubygems.org/")
    return LockedPackage(
        name,
        version,
        source=source,
        hashes=(sha256(f"{name}-{version}"),) if extra.get("source_type", "gem") == "gem" else (),
        dependencies=deps,
        extra={"source_type": "gem", **extra},
    )


BUILT = Lockfile(
    ecosystem="rubygems",
    path="Gemfile.lock",
    format="Gemfile.lock (bundler 2.5.6)",
    # Deliberately not in Bundler's order: the writer sorts.
    packages=(
        gem("rack", "3.0.9"),
        gem("nokogiri", "1.16.2", "racc ~> 1.4", platform="x86_64-linux"),
        gem("nokogiri", "1.16.2", "racc ~> 1.4", "mini_portile2 ~> 2.8.2"),
        gem("mini_portile2", "2.8.5"),
        gem("racc", "1.7.3"),
        gem(
            "rack-session",
            "2.0.0",
            "rack >= 3.0.0",
            source="https://github.com/rack/rack-session.git",
            source_type="git",
            revision="0123456789abcdef0123456789abcdef01234567",
            tag="v2.0.0",
        ),
    ),
    extra={
        "platforms": ["x86_64-linux", "ruby"],
        "dependencies": [
            {"name": "rack-session", "constraint": "", "pinned_source": True},
            {"name": "nokogiri", "constraint": "< 2, >= 1.16", "pinned_source": False},
            {"name": "rack", "constraint": ">= 0", "pinned_source": False},
        ],
        "checksums": True,
        "bundled_with": "2.5.6",
    },
)

BUILT_TEXT = f"""\
GIT
  remote: https://github.com/rack/rack-session.git
  revision: 0123456789abcdef0123456789abcdef01234567
  tag: v2.0.0
  specs:
    rack-session (2.0.0)
      rack (>= 3.0.0)

GEM
  remote: https://rubygems.org/
  specs:
    mini_portile2 (2.8.5)
    nokogiri (1.16.2)
      mini_portile2 (~> 2.8.2)
      racc (~> 1.4)
    nokogiri (1.16.2-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.3)
    rack (3.0.9)

PLATFORMS
  ruby
  x86_64-linux

DEPENDENCIES
  nokogiri (>= 1.16, < 2)
  rack
  rack-session!

CHECKSUMS
  mini_portile2 (2.8.5) {sha256("mini_portile2-2.8.5")}
  nokogiri (1.16.2) {sha256("nokogiri-1.16.2")}
  nokogiri (1.16.2-x86_64-linux) {sha256("nokogiri-1.16.2")}
  racc (1.7.3) {sha256("racc-1.7.3")}
  rack (3.0.9) {sha256("rack-3.0.9")}
  rack-session (2.0.0)

BUNDLED WITH
   2.5.6
"""


def test_write_built_model(tmp_path: Path) -> None:
    text = write_gemfile_lock(BUILT)
    assert text == BUILT_TEXT
    back = read_gemfile_lock(write(tmp_path / "Gemfile.lock", text))
    assert sorted(back.packages, key=repr) == sorted(
        (
            LockedPackage(
                p.name, p.version, p.source, p.hashes, tuple(sorted(p.dependencies)), extra=p.extra
            )
            for p in BUILT.packages
        ),
        key=repr,
    )
    assert back.format == BUILT.format
    assert back.extra["platforms"] == ["ruby", "x86_64-linux"]
    assert [d["name"] for d in back.extra["dependencies"]] == ["nokogiri", "rack", "rack-session"]
    assert back.extra["dependencies"][0]["constraint"] == ">= 1.16, < 2"
    assert back.extra["checksums"] is True
    # The text read back writes the same text again.
    assert write_gemfile_lock(back) == text


def test_write_minimal_model_defaults_to_ruby_platform() -> None:
    lock = Lockfile("rubygems", "Gemfile.lock", "Gemfile.lock", (gem("rake", "13.1.0"),))
    assert write_gemfile_lock(lock) == (
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.1.0)\n"
        "\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n"
    )


def test_write_normalizes_requirements_as_gem_requirement_to_s() -> None:
    # What Bundler 2.3 writes for `gem "a", "~>1.0"`, `gem "c", "2.0"` and a dependency
    # `a: ~>1.0, >=1.0.0` (measured with bundle lock).
    rake = LockedPackage(
        "b",
        "1.0",
        "https://rubygems.org/",
        dependencies=("a ~>1.0, >=1.0.0",),
        extra={"source_type": "gem"},
    )
    deps = [
        {"name": "a", "constraint": "~>1.0", "pinned_source": False},
        {"name": "c", "constraint": "2.0", "pinned_source": False},
        {"name": "d", "constraint": ">= 1.0-rc1", "pinned_source": False},
    ]
    lock = Lockfile("rubygems", "Gemfile.lock", "Gemfile.lock", (rake,), {"dependencies": deps})
    text = write_gemfile_lock(lock)
    assert "    b (1.0)\n      a (~> 1.0, >= 1.0.0)\n" in text
    assert "DEPENDENCIES\n  a (~> 1.0)\n  c (= 2.0)\n  d (>= 1.0.pre.rc1)\n" in text
