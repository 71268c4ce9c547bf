"""Bundler's ``Gemfile`` (``gems.rb``) and ``Gemfile.lock`` (``gems.locked``).

A Gemfile is Ruby code, and it is *not* executed here. :func:`read_gemfile` reads the
documented Bundler DSL statically (gemfile(5)): ``source`` (also with a block), ``ruby``,
``gem`` with its requirements and options (``require``, ``group``/``groups``,
``platform``/``platforms``, ``git``/``branch``/``tag``/``ref``/``submodules``/``glob``,
``github``/``gitlab``/``bitbucket``/``gist``, ``path``, ``source``, ``force_ruby_platform``),
``group``, ``platforms``, ``git``, ``path`` and ``source`` blocks, ``gemspec`` and ``plugin``.
Values may be single- or double-quoted strings (without ``#{}`` interpolation), symbols,
``%w[]``/``%i[]`` and ``[...]`` arrays, ``true``/``false``/``nil``; calls may use
parentheses; options may be ``key: value`` or ``:key => value``. Anything else (conditionals,
variables, constants such as ``ENV``, other method calls, brace blocks) raises
:class:`ManifestError` at its ``line:col`` saying it is not supported when read statically:
a line is never silently skipped, because skipping it could change which gems are declared.

A gem's ``kind`` is its first group (``default`` is ``"normal"``); all groups go to
``extra["groups"]``. ``optional`` is set for gems in a ``group ..., optional: true`` block.
``markers`` lists the platforms, comma-separated. ``source`` is the gem's non-default source
(source block or option, git URL, or path).

:func:`read_gemfile_lock` reads the lockfile Bundler writes: ``GEM``, ``GIT``, ``PATH`` and
``PLUGIN SOURCE`` sections (remote, revision, branch/tag/ref, specs with their indented
dependencies), ``PLATFORMS``, ``DEPENDENCIES`` (``!`` marks a non-default source), ``CHECKSUMS``
(Bundler 2.5+), ``RUBY VERSION`` and ``BUNDLED WITH``. A platform-specific spec
``nokogiri (1.16.0-x86_64-linux)`` is version ``1.16.0`` with ``extra["platform"]``. A
package's ``extra`` has ``source_type`` (``gem``, ``git``, ``path``, ``plugin``) and its
section's ``revision``/``branch``/``tag``/``ref``/``submodules``/``glob``; the lockfile's
``extra`` has ``sources`` (each section's keys, in file order), ``platforms``,
``dependencies`` (``name``, ``constraint``, ``pinned_source``), ``checksums`` (True when the
section is present), ``other_checksums`` (checksum lines of no listed spec, e.g. ``bundler``),
``ruby_version`` and ``bundled_with``.

:func:`write_gemfile_lock` writes what Bundler's ``LockfileGenerator`` writes: the source
sections (one blank line apart) with their specs sorted by full name (``name-version`` or
``name-version-platform``) and each spec's dependencies sorted, ``PLATFORMS`` (sorted),
``DEPENDENCIES`` (sorted, ``!`` for a pinned source), ``CHECKSUMS`` (sorted; written when
``extra["checksums"]`` is true), ``RUBY VERSION`` and ``BUNDLED WITH`` (indented by three
spaces, as Bundler does). Requirement lists are written as Bundler does, sorted in reverse
(``>= 1.2, < 3``). Sections come in the order of ``extra["sources"]``; Bundler sorts the
non-gem ones by an internal identifier, which a model built in code does not have, so sources
derived from packages alone are written GIT, then PATH, then PLUGIN SOURCE (each in order of
first appearance), then GEM. Without ``extra["platforms"]`` the platform is ``ruby``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from tuskops.errors import ManifestError
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

__all__ = ["read_gemfile", "read_gemfile_lock", "write_gemfile_lock"]

ECOSYSTEM = "rubygems"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(str(path), f"not UTF-8 text: {exc.reason}") from None


# --- Gemfile: tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # str sym list ident label num punct nl eof
    value: Any
    line: int
    col: int

    @property
    def where(self) -> str:
        return f"{self.line}:{self.col}"


class _Symbol(str):
    """A Ruby symbol (``:test``); behaves as its name."""

    __slots__ = ()


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[?!]?")
_NUMBER = re.compile(r"[0-9][0-9_.]*")
_WORD_LIST = re.compile(r"%([wWiI])([\[({<])")
_CLOSE = {"[": "]", "(": ")", "{": "}", "<": ">"}
_ESCAPES = {"n": "\n", "t": "\t", "s": " ", "0": "\0", "e": "\x1b", "r": "\r"}


class _Lexer:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def error(self, message: str, line: int, col: int) -> ManifestError:
        return ManifestError(self.file, message, f"{line}:{col}")

    def unsupported(self, what: str, line: int, col: int) -> ManifestError:
        return self.error(f"{what} is not supported when the Gemfile is read statically", line, col)

    def _advance(self, n: int) -> None:
        for _ in range(n):
            if self.text[self.pos] == "\n":
                self.line += 1
                self.line_start = self.pos + 1
            self.pos += 1

    def tokens(self) -> Iterator[_Tok]:
        """Tokens on demand, so that errors are reported in file order."""
        text = self.text
        while True:
            # whitespace, comments, line continuations
            while self.pos < len(text):
                c = text[self.pos]
                if c in " \t\r":
                    self.pos += 1
                elif c == "\\" and text[self.pos + 1 : self.pos + 2] == "\n":
                    self._advance(2)
                elif c == "#":
                    while self.pos < len(text) and text[self.pos] != "\n":
                        self.pos += 1
                else:
                    break
            line, col = self.line, self.pos - self.line_start + 1
            if self.pos >= len(text):
                while True:
                    yield _Tok("eof", None, line, col)
            if col == 1 and text.startswith("=begin", self.pos):
                end = text.find("\n=end", self.pos)
                if end < 0:
                    raise self.error("=begin without =end", line, col)
                stop = text.find("\n", end + 1)
                self._advance((len(text) if stop < 0 else stop) - self.pos)
                continue
            if text.startswith("__END__", self.pos) and col == 1:
                while True:
                    yield _Tok("eof", None, line, col)
            yield self._token(line, col)

    def _token(self, line: int, col: int) -> _Tok:
        text = self.text
        c = text[self.pos]
        if c in "\n;":
            self._advance(1)
            return _Tok("nl", c, line, col)
        if c in "'\"":
            value = self._string(c, line, col)
            if text.startswith(":", self.pos) and not text.startswith("::", self.pos):
                self.pos += 1
                return _Tok("label", value, line, col)
            return _Tok("str", value, line, col)
        if c == "%":
            m = _WORD_LIST.match(text, self.pos)
            if m is None:
                raise self.unsupported("this % literal", line, col)
            close = _CLOSE[m.group(2)]
            end = text.find(close, m.end())
            if end < 0:
                raise self.error(f"unterminated %{m.group(1)} list", line, col)
            words = text[m.end() : end].split()
            self._advance(end + 1 - self.pos)
            symbols = m.group(1) in "iI"
            return _Tok("list", [_Symbol(w) if symbols else w for w in words], line, col)
        if c == ":":
            if text.startswith("::", self.pos):
                raise self.unsupported("a constant path (::)", line, col)
            self.pos += 1
            if self.pos < len(text) and text[self.pos] in "'\"":
                return _Tok("sym", _Symbol(self._string(text[self.pos], line, col)), line, col)
            m = _IDENT.match(text, self.pos)
            if m is None:
                raise self.error("expected a symbol name after ':'", line, col)
            self.pos = m.end()
            return _Tok("sym", _Symbol(m.group()), line, col)
        if c == "=" and text.startswith("=>", self.pos):
            self.pos += 2
            return _Tok("punct", "=>", line, col)
        if c in ",()[]{}|.=":
            self.pos += 1
            return _Tok("punct", c, line, col)
        m = _IDENT.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            if (
                text.startswith(":", self.pos)
                and not text.startswith("::", self.pos)
                and m.group()[-1] not in "?!"
            ):
                self.pos += 1
                return _Tok("label", m.group(), line, col)
            return _Tok("ident", m.group(), line, col)
        m = _NUMBER.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            return _Tok("num", m.group(), line, col)
        raise self.unsupported(f"the character {c!r}", line, col)

    def _string(self, quote: str, line: int, col: int) -> str:
        text = self.text
        self.pos += 1
        parts: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated string", line, col)
            c = text[self.pos]
            if c == quote:
                self.pos += 1
                return "".join(parts)
            if c == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                if quote == "'":
                    parts.append(nxt if nxt in "\\'" else c + nxt)
                else:
                    parts.append(_ESCAPES.get(nxt, nxt))
                self._advance(2)
                continue
            if quote == '"' and text.startswith("#{", self.pos):
                ecol = self.pos - self.line_start + 1
                raise self.unsupported("string interpolation #{...}", self.line, ecol)
            parts.append(c)
            self._advance(1)


# --- Gemfile: statements ------------------------------------------------------------------------

_Value: TypeAlias = Any
_GEM_OPTIONS = frozenset(
    {
        "require",
        "group",
        "groups",
        "platform",
        "platforms",
        "git",
        "branch",
        "tag",
        "ref",
        "submodules",
        "glob",
        "github",
        "gitlab",
        "bitbucket",
        "gist",
        "path",
        "source",
        "force_ruby_platform",
        "type",
    }
)
_GIT_OPTIONS = ("branch", "tag", "ref", "submodules", "glob")
_PLATFORMS_WORDS = ("platforms", "platform")


@dataclass
class _Call:
    name: str
    tok: _Tok
    args: list[tuple[_Value, _Tok]]
    options: dict[str, tuple[_Value, _Tok]]


@dataclass
class _Context:
    groups: tuple[str, ...] = ()
    optional: bool = False
    platforms: tuple[str, ...] = ()
    source: str | None = None
    source_extra: dict[str, Any] = field(default_factory=dict)


def _git_url(kind: str, repo: str) -> str:
    if kind == "github":
        repo = repo if "/" in repo else f"{repo}/{repo}"
        return f"https://github.com/{repo}.git"
    if kind == "gitlab":
        repo = repo if "/" in repo else f"{repo}/{repo}"
        return f"https://gitlab.com/{repo}.git"
    if kind == "bitbucket":
        user, _, name = repo.partition("/")
        name = name or user
        return f"https://{user}@bitbucket.org/{user}/{name}.git"
    return f"https://gist.github.com/{repo}.git"


class _GemfileParser:
    def __init__(self, file: str, lexer: _Lexer) -> None:
        self.file = file
        self._stream = lexer.tokens()
        self.toks: list[_Tok] = []
        self.i = 0
        self.lexer = lexer
        self.dependencies: list[Dependency] = []
        self.sources: list[str] = []
        self.ruby: dict[str, Any] | None = None
        self.gemspecs: list[dict[str, Any]] = []
        self.plugins: list[dict[str, Any]] = []

    # helpers
    def peek(self, ahead: int = 0) -> _Tok:
        while len(self.toks) <= self.i + ahead:
            self.toks.append(next(self._stream))
        return self.toks[self.i + ahead]

    @property
    def tok(self) -> _Tok:
        return self.peek()

    def next(self) -> _Tok:
        tok = self.peek()
        self.i += 1
        return tok

    def skip_newlines(self) -> None:
        while self.tok.kind == "nl":
            self.i += 1

    def error(self, message: str, tok: _Tok) -> ManifestError:
        return ManifestError(self.file, message, tok.where)

    def unsupported(self, what: str, tok: _Tok) -> ManifestError:
        return self.lexer.unsupported(what, tok.line, tok.col)

    def describe(self, tok: _Tok) -> str:
        if tok.kind == "ident":
            return f"`{tok.value}`"
        if tok.kind == "punct":
            return f"'{tok.value}'"
        return {"eof": "the end of the file", "nl": "the end of the line"}.get(tok.kind, tok.kind)

    # statements
    def parse(self) -> None:
        self.block(_Context(), None)

    def block(self, ctx: _Context, opener: _Tok | None) -> None:
        while True:
            self.skip_newlines()
            tok = self.tok
            if tok.kind == "eof":
                if opener is not None:
                    raise self.error(
                        f"the `do` block opened at {opener.where} has no `end`", opener
                    )
                return
            if tok.kind == "ident" and tok.value == "end":
                if opener is None:
                    raise self.error("`end` without a block to close", tok)
                self.i += 1
                self.end_of_statement()
                return
            self.statement(ctx)

    def end_of_statement(self) -> None:
        tok = self.tok
        if tok.kind in ("nl", "eof") or (tok.kind == "ident" and tok.value == "end"):
            return
        if tok.kind == "ident" and tok.value in ("if", "unless", "while", "until", "rescue"):
            raise self.unsupported(f"the `{tok.value}` modifier", tok)
        if tok.kind == "punct" and tok.value == "{":
            raise self.unsupported("a { } block", tok)
        if tok.kind == "punct" and tok.value == ".":
            raise self.unsupported("a method call (.)", tok)
        raise self.error(f"unexpected {self.describe(tok)}; expected the end of the line", tok)

    def statement(self, ctx: _Context) -> None:
        tok = self.tok
        if tok.kind != "ident":
            raise self.unsupported(f"a statement starting with {self.describe(tok)}", tok)
        name = tok.value
        nxt = self.peek(1)
        if nxt.kind == "punct" and nxt.value == "=":
            raise self.unsupported(f"assigning the variable `{name}`", tok)
        if nxt.kind == "punct" and nxt.value == ".":
            raise self.unsupported(f"calling a method on `{name}`", tok)
        handlers = {
            "source": self.on_source,
            "ruby": self.on_ruby,
            "gem": self.on_gem,
            "group": self.on_group,
            "platforms": self.on_platforms,
            "platform": self.on_platforms,
            "gemspec": self.on_gemspec,
            "git": self.on_git,
            "path": self.on_path,
            "github": self.on_git,
            "plugin": self.on_plugin,
        }
        handler = handlers.get(name)
        if handler is None:
            if name in ("if", "unless", "case", "while", "until", "begin", "def", "class"):
                raise self.unsupported(f"`{name}`", tok)
            if name[:1].isupper():
                raise self.unsupported(f"the constant `{name}`", tok)
            raise self.unsupported(f"the method `{name}`", tok)
        self.i += 1
        call = self.call(name, tok)
        handler(call, ctx)

    def call(self, name: str, tok: _Tok) -> _Call:
        call = _Call(name, tok, [], {})
        paren = self.tok.kind == "punct" and self.tok.value == "("
        if paren:
            self.i += 1
            self.skip_newlines()
            if self.tok.kind == "punct" and self.tok.value == ")":
                self.i += 1
                return call
        elif self.tok.kind in ("nl", "eof") or (
            self.tok.kind == "ident" and self.tok.value in ("do", "end")
        ):
            return call
        while True:
            self.argument(call)
            if paren:
                self.skip_newlines()
            if self.tok.kind == "punct" and self.tok.value == ",":
                self.i += 1
                self.skip_newlines()
                continue
            break
        if paren:
            if not (self.tok.kind == "punct" and self.tok.value == ")"):
                raise self.error(f"expected ')' but found {self.describe(self.tok)}", self.tok)
            self.i += 1
        return call

    def argument(self, call: _Call) -> None:
        tok = self.tok
        if tok.kind == "label":
            self.i += 1
            self.skip_newlines()
            call.options[str(tok.value)] = (self.value(), tok)
            return
        value = self.value()
        if self.tok.kind == "punct" and self.tok.value == "=>":
            self.i += 1
            self.skip_newlines()
            if not isinstance(value, str):
                raise self.unsupported("a hash key that is not a symbol or string", tok)
            call.options[str(value)] = (self.value(), tok)
            return
        if call.options:
            raise self.error("a positional argument after options", tok)
        call.args.append((value, tok))

    def value(self) -> _Value:
        tok = self.next()
        if tok.kind in ("str", "sym", "list", "num"):
            return tok.value
        if tok.kind == "ident" and tok.value in ("true", "false", "nil"):
            return {"true": True, "false": False, "nil": None}[tok.value]
        if tok.kind == "punct" and tok.value == "[":
            items: list[_Value] = []
            self.skip_newlines()
            while not (self.tok.kind == "punct" and self.tok.value == "]"):
                items.append(self.value())
                self.skip_newlines()
                if self.tok.kind == "punct" and self.tok.value == ",":
                    self.i += 1
                    self.skip_newlines()
                elif not (self.tok.kind == "punct" and self.tok.value == "]"):
                    raise self.error(
                        f"expected ',' or ']' but found {self.describe(self.tok)}", self.tok
                    )
            self.i += 1
            return items
        if tok.kind == "ident":
            what = f"the constant `{tok.value}`" if tok.value[:1].isupper() else f"`{tok.value}`"
            raise self.unsupported(f"{what} as a value", tok)
        if tok.kind == "punct" and tok.value in ("{", "->"):
            raise self.unsupported("a hash or lambda literal", tok)
        raise self.error(f"expected a value but found {self.describe(tok)}", tok)

    def has_block(self) -> _Tok | None:
        tok = self.tok
        if tok.kind == "ident" and tok.value == "do":
            self.i += 1
            if self.tok.kind == "punct" and self.tok.value == "|":
                raise self.unsupported("a block with parameters", self.tok)
            return tok
        if tok.kind == "punct" and tok.value == "{":
            raise self.unsupported("a { } block", tok)
        self.end_of_statement()
        return None

    # argument helpers
    def string_arg(self, call: _Call, what: str) -> str:
        if not call.args:
            raise self.error(f"`{call.name}` needs {what}", call.tok)
        value, tok = call.args[0]
        if not isinstance(value, str) or isinstance(value, _Symbol):
            raise self.error(f"`{call.name}` expects {what} as a string", tok)
        return value

    def names(self, value: _Value, tok: _Tok) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in items):
            raise self.error("expected symbols or strings", tok)
        return tuple(str(v) for v in items)

    def check_options(self, call: _Call, allowed: frozenset[str] | set[str]) -> None:
        for key, (_, tok) in call.options.items():
            if key not in allowed:
                raise self.error(f"unknown option `{key}` for `{call.name}`", tok)

    def text_options(self, call: _Call) -> dict[str, Any]:
        return {k: v for k, (v, _) in call.options.items()}

    # handlers
    def on_source(self, call: _Call, ctx: _Context) -> None:
        url = self.string_arg(call, "a URL")
        self.check_options(call, {"type"})
        opener = self.has_block()
        if url not in self.sources:
            self.sources.append(url)
        if opener is not None:
            self.block(_Context(ctx.groups, ctx.optional, ctx.platforms, url, {}), opener)

    def on_ruby(self, call: _Call, ctx: _Context) -> None:
        self.check_options(call, {"engine", "engine_version", "patchlevel", "file"})
        ruby: dict[str, Any] = {}
        if call.args:
            ruby["version"] = ", ".join(self.names([v for v, _ in call.args], call.tok))
        elif "file" not in call.options:
            raise self.error("`ruby` needs a version or file:", call.tok)
        ruby.update(self.text_options(call))
        self.ruby = ruby
        self.end_of_statement()

    def on_gemspec(self, call: _Call, ctx: _Context) -> None:
        self.check_options(
            call, {"path", "name", "glob", "development_group", "autorequire", "require"}
        )
        self.gemspecs.append({"path": ".", **self.text_options(call)})
        self.end_of_statement()

    def on_plugin(self, call: _Call, ctx: _Context) -> None:
        name = self.string_arg(call, "a plugin name")
        self.plugins.append({"name": name, **self.text_options(call)})
        self.end_of_statement()

    def on_group(self, call: _Call, ctx: _Context) -> None:
        if not call.args:
            raise self.error("`group` needs at least one group name", call.tok)
        self.check_options(call, {"optional"})
        groups: list[str] = list(ctx.groups)
        for value, tok in call.args:
            groups += [g for g in self.names(value, tok) if g not in groups]
        optional = bool(call.options.get("optional", (False, call.tok))[0])
        opener = self.has_block()
        if opener is None:
            raise self.error("`group` needs a `do ... end` block", call.tok)
        inner = _Context(
            tuple(groups), ctx.optional or optional, ctx.platforms, ctx.source, ctx.source_extra
        )
        self.block(inner, opener)

    def on_platforms(self, call: _Call, ctx: _Context) -> None:
        if not call.args:
            raise self.error(f"`{call.name}` needs at least one platform", call.tok)
        self.check_options(call, set())
        platforms = list(ctx.platforms)
        for value, tok in call.args:
            platforms += [p for p in self.names(value, tok) if p not in platforms]
        opener = self.has_block()
        if opener is None:
            raise self.error(f"`{call.name}` needs a `do ... end` block", call.tok)
        inner = _Context(ctx.groups, ctx.optional, tuple(platforms), ctx.source, ctx.source_extra)
        self.block(inner, opener)

    def on_git(self, call: _Call, ctx: _Context) -> None:
        repo = self.string_arg(call, "a repository")
        self.check_options(call, set(_GIT_OPTIONS))
        url = repo if call.name == "git" else _git_url(call.name, repo)
        extra: dict[str, Any] = {"git": url, **self.text_options(call)}
        if call.name != "git":
            extra[call.name] = repo
        opener = self.has_block()
        if opener is None:
            raise self.error(f"`{call.name}` needs a `do ... end` block", call.tok)
        self.block(_Context(ctx.groups, ctx.optional, ctx.platforms, url, extra), opener)

    def on_path(self, call: _Call, ctx: _Context) -> None:
        path = self.string_arg(call, "a path")
        self.check_options(call, {"glob", "name", "version"})
        opener = self.has_block()
        if opener is None:
            raise self.error("`path` needs a `do ... end` block", call.tok)
        extra = {"path": path, **self.text_options(call)}
        self.block(_Context(ctx.groups, ctx.optional, ctx.platforms, path, extra), opener)

    def on_gem(self, call: _Call, ctx: _Context) -> None:
        name = self.string_arg(call, "a gem name")
        self.check_options(call, _GEM_OPTIONS)
        requirements: list[str] = []
        for value, tok in call.args[1:]:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not isinstance(item, str) or isinstance(item, _Symbol):
                    raise self.error(f"a version requirement of {name} must be a string", tok)
                requirements.append(item.strip())
        opts = {k: v for k, (v, _) in call.options.items()}
        groups = list(ctx.groups)
        for key in ("group", "groups"):
            if key in opts:
                groups += [g for g in self.names(*call.options[key]) if g not in groups]
        platforms = list(ctx.platforms)
        for key in _PLATFORMS_WORDS:
            if key in opts:
                platforms += [p for p in self.names(*call.options[key]) if p not in platforms]

        extra: dict[str, Any] = {}
        source = ctx.source
        extra.update(ctx.source_extra)
        kinds = [k for k in ("git", "github", "gitlab", "bitbucket", "gist", "path") if k in opts]
        if len(kinds) > 1:
            raise self.error(
                f"{name} names more than one source ({', '.join(kinds)})", call.options[kinds[1]][1]
            )
        if kinds:
            kind = kinds[0]
            value = opts[kind]
            if not isinstance(value, str):
                raise self.error(f"`{kind}:` expects a string", call.options[kind][1])
            extra = {kind: value}
            if kind == "path":
                source = value
            else:
                source = value if kind == "git" else _git_url(kind, value)
                extra["git"] = source
        if "source" in opts:
            source = str(opts["source"])
            extra["source"] = source
        for key in _GIT_OPTIONS:
            if key in opts:
                if "git" not in extra:
                    raise self.error(f"`{key}:` needs a git source", call.options[key][1])
                extra[key] = opts[key]
        if "require" in opts:
            extra["require"] = opts["require"]
        if "force_ruby_platform" in opts:
            extra["force_ruby_platform"] = opts["force_ruby_platform"]
        if "type" in opts:
            extra["type"] = str(opts["type"])
        if groups:
            extra["groups"] = groups
        if platforms:
            extra["platforms"] = platforms
        first = groups[0] if groups else "default"
        self.dependencies.append(
            Dependency(
                name=name,
                constraint=", ".join(requirements),
                kind="normal" if first == "default" else first,
                optional=ctx.optional,
                markers=", ".join(platforms) or None,
                source=source,
                extra=extra,
            )
        )
        self.end_of_statement()


def read_gemfile(path: Path) -> Manifest:
    """Read a Gemfile (or ``gems.rb``) statically; see the module docstring."""
    path = Path(path)
    file = str(path)
    lexer = _Lexer(file, _read_text(path))
    parser = _GemfileParser(file, lexer)
    parser.parse()
    extra: dict[str, Any] = {"sources": parser.sources}
    if parser.ruby is not None:
        extra["ruby"] = parser.ruby
    if parser.gemspecs:
        extra["gemspec"] = parser.gemspecs
    if parser.plugins:
        extra["plugins"] = parser.plugins
    return Manifest(
        ecosystem=ECOSYSTEM,
        path=file,
        name=None,
        version=None,
        dependencies=tuple(parser.dependencies),
        extra=extra,
    )


# --- Gemfile.lock -------------------------------------------------------------------------------

#: Bundler's ``NAME_VERSION``: name, then an optional "(version[-platform])", then "!".
_SPEC = re.compile(r"(?P<name>[^ ()!,]+)(?: \((?P<version>[^-)]*)(?:-(?P<platform>[^)]*))?\))?\Z")
_DEP = re.compile(r"(?P<name>[^ ()!,]+)(?: \((?P<req>[^)]*)\))?(?P<bang>!)?\Z")
_CHECKSUM = re.compile(r"(?P<spec>[^ ]+(?: \([^)]*\))?)(?: (?P<sums>\S+))?\Z")
_SOURCE_SECTIONS = {"GEM": "gem", "GIT": "git", "PATH": "path", "PLUGIN SOURCE": "plugin"}
_SOURCE_KEYS = frozenset(
    {"remote", "revision", "branch", "tag", "ref", "submodules", "glob", "type"}
)


@dataclass
class _Spec:
    name: str
    version: str
    platform: str | None
    section: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)


def read_gemfile_lock(path: Path) -> Lockfile:
    """Read Bundler's ``Gemfile.lock`` (or ``gems.locked``); see the module docstring."""
    path = Path(path)
    file = str(path)
    lines = _read_text(path).splitlines()

    def fail(message: str, number: int, col: int = 1) -> ManifestError:
        return ManifestError(file, message, f"{number}:{col}")

    specs: list[_Spec] = []
    platforms: list[str] = []
    dependencies: list[dict[str, Any]] = []
    checksums: dict[str, tuple[str, ...]] = {}
    extra: dict[str, Any] = {}
    sources: list[dict[str, Any]] = []
    section: str | None = None
    source: dict[str, Any] | None = None
    in_specs = False
    current: _Spec | None = None

    for number, line in enumerate(lines, 1):
        if not line.strip():
            section, source, current = None, None, None
            continue
        if line.startswith(("<<<<<<<", "=======", ">>>>>>>")):
            raise fail("a merge-conflict marker: resolve the conflict and re-run bundle", number)
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if "\t" in line[: indent + 1]:
            raise fail("a tab in the indentation (Bundler indents with spaces)", number)
        if indent == 0:
            if line not in (*_SOURCE_SECTIONS, "PLATFORMS", "DEPENDENCIES", "CHECKSUMS") and (
                line not in ("RUBY VERSION", "BUNDLED WITH")
            ):
                raise fail(f"unknown section {line!r}", number)
            section, current, in_specs = line, None, False
            if line == "CHECKSUMS":
                extra["checksums"] = True
            if line in _SOURCE_SECTIONS:
                source = {"type": _SOURCE_SECTIONS[line]}
                sources.append(source)
            continue
        if section is None:
            raise fail("an indented line outside any section", number, indent + 1)
        if section in _SOURCE_SECTIONS:
            assert source is not None
            if indent == 2:
                key, sep, value = stripped.partition(":")
                if key == "specs" and sep and not value.strip():
                    in_specs = True
                    continue
                if not sep or key not in _SOURCE_KEYS or not value.startswith(" "):
                    raise fail(f"expected `key: value` in a {section} section", number, 3)
                if key == "remote" and "remote" in source:
                    source.setdefault("remotes", [source["remote"]]).append(value.strip())
                else:
                    # "type:" names a PLUGIN SOURCE's plugin; "type" is the section kind here.
                    source["plugin_type" if key == "type" else key] = value.strip()
            elif indent == 4 and in_specs:
                m = _SPEC.match(stripped)
                if m is None or m.group("version") is None:
                    raise fail("expected a spec `name (version)`", number, 5)
                current = _Spec(m.group("name"), m.group("version"), m.group("platform"), source)
                specs.append(current)
            elif indent == 6 and current is not None:
                m = _DEP.match(stripped)
                if m is None or m.group("bang"):
                    raise fail("expected a dependency `name (requirements)`", number, 7)
                req = m.group("req")
                current.dependencies.append(f"{m.group('name')} {req}" if req else m.group("name"))
            else:
                raise fail(f"unexpected indentation ({indent} spaces)", number, indent + 1)
        elif indent != 2 and section not in ("RUBY VERSION", "BUNDLED WITH"):
            raise fail(f"unexpected indentation ({indent} spaces) in {section}", number, indent + 1)
        elif section == "PLATFORMS":
            platforms.append(stripped)
        elif section == "DEPENDENCIES":
            m = _DEP.match(stripped)
            if m is None:
                raise fail("expected a dependency `name (requirements)`", number, 3)
            dependencies.append(
                {
                    "name": m.group("name"),
                    "constraint": m.group("req") or "",
                    "pinned_source": bool(m.group("bang")),
                }
            )
        elif section == "CHECKSUMS":
            m = _CHECKSUM.match(stripped)
            spec_m = _SPEC.match(m.group("spec")) if m else None
            if m is None or spec_m is None or spec_m.group("version") is None:
                raise fail("expected a checksum `name (version) algorithm=digest`", number, 3)
            sums = tuple(m.group("sums").split(",")) if m.group("sums") else ()
            for entry in sums:
                if not re.fullmatch(r"[a-z0-9]+=[0-9a-fA-F]+", entry):
                    col = 3 + stripped.index(entry)
                    raise fail(f"malformed checksum {entry!r}", number, col)
            checksums[m.group("spec")] = sums
        elif section == "RUBY VERSION":
            extra["ruby_version"] = stripped.strip()
        else:
            extra["bundled_with"] = stripped.strip()

    packages: list[LockedPackage] = []
    labels = {_lock_name(spec.name, spec.version, spec.platform) for spec in specs}
    other_checksums = {k: v for k, v in checksums.items() if k not in labels}
    if other_checksums:
        extra["other_checksums"] = other_checksums
    for spec in specs:
        src = spec.section
        label = f"{spec.name} ({spec.version}{'-' + spec.platform if spec.platform else ''})"
        pkg_extra: dict[str, Any] = {"source_type": src["type"]}
        if spec.platform:
            pkg_extra["platform"] = spec.platform
        for key in ("revision", "branch", "tag", "ref", "submodules", "glob"):
            if key in src:
                pkg_extra[key] = src[key]
        if src["type"] == "gem" and "remotes" in src:
            pkg_extra["remotes"] = src["remotes"]
        packages.append(
            LockedPackage(
                name=spec.name,
                version=spec.version,
                source=src.get("remote"),
                hashes=checksums.get(label, ()),
                dependencies=tuple(spec.dependencies),
                extra=pkg_extra,
            )
        )
    extra = {
        "platforms": platforms,
        "dependencies": dependencies,
        "sources": sources,
        **extra,
    }
    fmt = "Gemfile.lock"
    if "bundled_with" in extra:
        fmt += f" (bundler {extra['bundled_with']})"
    return Lockfile(
        ecosystem=ECOSYSTEM, path=file, format=fmt, packages=tuple(packages), extra=extra
    )


# --- Gemfile.lock writer -------------------------------------------------------------------------

_SECTION_NAMES = {v: k for k, v in _SOURCE_SECTIONS.items()}
#: The keys of a source that tell one section from another, and which packages belong to it.
_SOURCE_IDENTITY = ("revision", "branch", "tag", "ref", "submodules", "glob")


def _lock_name(name: str, version: str, platform: str | None) -> str:
    return (
        f"{name} ({version}-{platform})"
        if platform and platform != "ruby"
        else f"{name} ({version})"
    )


_REQUIREMENT_PART = re.compile(r"\s*(~>|!=|>=|<=|=|>|<)?\s*(\S+)\s*\Z")


def _requirement_part(part: str) -> str:
    """One part as ``Gem::Requirement#to_s`` writes it: ``op version`` with one space, ``=``
    when no operator is written (``~>1.0`` -> ``~> 1.0``, ``2.0`` -> ``= 2.0``)."""
    match = _REQUIREMENT_PART.match(part)
    if match is None:
        return part.strip()
    return f"{match.group(1) or '='} {match.group(2).replace('-', '.pre.')}"


def _requirement(text: str) -> str:
    """A requirement list as Bundler writes it: each part normalized, the parts sorted, then
    reversed; ``>= 0`` (no requirement) is left out."""
    parts = [_requirement_part(p) for p in text.split(",") if p.strip()]
    if parts in ([], [">= 0"]):
        return ""
    return ", ".join(sorted(set(parts), reverse=True))


def _dependency_line(entry: str) -> tuple[str, str]:
    """(sort key, text) of a ``"name requirements"`` entry, as Bundler's ``Dependency#to_lock``."""
    name, _, req = entry.strip().partition(" ")
    requirement = _requirement(req)
    # Bundler sorts by Gem::Dependency#to_s, "name (requirement)" with ">= 0" for none.
    key = f"{name} ({requirement or '>= 0'})"
    return key, f"{name} ({requirement})" if requirement else name


def _source_key(kind: str, remote: Any, values: Any) -> tuple[Any, ...]:
    return (kind, remote, *(values.get(k) for k in _SOURCE_IDENTITY))


def _package_source_key(package: LockedPackage) -> tuple[Any, ...]:
    kind = str(package.extra.get("source_type", "gem"))
    return _source_key(kind, package.source, package.extra)


def _derived_source(package: LockedPackage) -> dict[str, Any]:
    source: dict[str, Any] = {"type": str(package.extra.get("source_type", "gem"))}
    if package.source is not None:
        source["remote"] = package.source
    if source["type"] == "gem" and package.extra.get("remotes"):
        source["remotes"] = list(package.extra["remotes"])
    for key in _SOURCE_IDENTITY:
        if key in package.extra:
            source[key] = package.extra[key]
    return source


def _source_header(source: Mapping[str, Any]) -> list[str]:
    kind = source["type"]
    lines = [_SECTION_NAMES[kind]]
    if kind == "gem":
        remotes = source.get("remotes") or ([source["remote"]] if "remote" in source else [])
        lines += [f"  remote: {r}" for r in remotes]
    else:
        if "remote" in source:
            lines.append(f"  remote: {source['remote']}")
        # The keys in the order Bundler's Git/Path/Plugin sources write them.
        order = ("revision", "ref", "branch", "tag", "submodules", "glob")
        if kind == "plugin":
            if "plugin_type" in source:
                lines.append(f"  type: {source['plugin_type']}")
            order = ("revision", "branch", "tag", "ref", "submodules", "glob")
        lines += [f"  {key}: {source[key]}" for key in order if key in source]
    lines.append("  specs:")
    return lines


def _full_name(package: LockedPackage) -> str:
    platform = package.extra.get("platform")
    suffix = f"-{platform}" if platform and platform != "ruby" else ""
    return f"{package.name}-{package.version}{suffix}"


def write_gemfile_lock(lock: Lockfile) -> str:
    """``lock`` as Bundler writes ``Gemfile.lock``; see the module docstring."""
    sources: list[dict[str, Any]] = [dict(s) for s in lock.extra.get("sources", ())]
    members: dict[tuple[Any, ...], list[LockedPackage]] = {}
    for source in sources:
        members.setdefault(_source_key(source["type"], source.get("remote"), source), [])
    derived: list[dict[str, Any]] = []
    for package in lock.packages:
        key = _package_source_key(package)
        if key not in members:
            members[key] = []
            derived.append(_derived_source(package))
        members[key].append(package)
    rank = {"git": 0, "path": 1, "plugin": 2, "gem": 3}
    sources += sorted(derived, key=lambda s: rank.get(s["type"], 3))

    blocks: list[list[str]] = []
    for source in sources:
        if source["type"] not in _SECTION_NAMES:
            raise ValueError(f"unknown source type {source['type']!r}")
        block = _source_header(source)
        packages = members.get(_source_key(source["type"], source.get("remote"), source), [])
        for package in sorted(packages, key=_full_name):
            if package.name == "bundler":
                continue
            platform = package.extra.get("platform")
            block.append(f"    {_lock_name(package.name, package.version, platform)}")
            lines = sorted(dict(map(_dependency_line, package.dependencies)).items())
            block += [f"      {text}" for _, text in lines]
        blocks.append(block)

    platforms = lock.extra.get("platforms") or ["ruby"]
    blocks.append(["PLATFORMS", *(f"  {p}" for p in sorted(set(map(str, platforms))))])

    dependencies: dict[str, tuple[str, str]] = {}
    for dep in lock.extra.get("dependencies", ()):
        name = str(dep["name"])
        if name in dependencies:
            continue  # Bundler writes each name once
        sort_key, text = _dependency_line(f"{name} {dep.get('constraint') or ''}")
        dependencies[name] = (sort_key, text + ("!" if dep.get("pinned_source") else ""))
    blocks.append(["DEPENDENCIES", *(f"  {text}" for _, text in sorted(dependencies.values()))])

    if lock.extra.get("checksums"):
        entries: dict[str, str] = {}
        for package in lock.packages:
            label = _lock_name(package.name, package.version, package.extra.get("platform"))
            entries[label] = " ".join([label, ",".join(sorted(package.hashes))]).rstrip()
        for label, sums in lock.extra.get("other_checksums", {}).items():
            entries[label] = " ".join([label, ",".join(sorted(sums))]).rstrip()
        blocks.append(["CHECKSUMS", *(f"  {e}" for e in sorted(entries.values()))])
    if lock.extra.get("ruby_version"):
        blocks.append(["RUBY VERSION", f"   {lock.extra['ruby_version']}"])
    if lock.extra.get("bundled_with"):
        blocks.append(["BUNDLED WITH", f"   {lock.extra['bundled_with']}"])
    return "\n".join("\n".join(block) + "\n" for block in blocks)
