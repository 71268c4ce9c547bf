"""Field-level differences between two JSON-like values, and their redaction for display.

The diff is hand-written rather than taken from RFC 6902 JSON Patch (``jsonpatch``): a patch is
built to be *applied*, so it may emit ``move``/``copy`` operations and drops the old value of a
``replace``. A plan is read by a reviewer, who needs every changed field with its old and its new
value, in document order. Lists are compared position by position, which is predictable and keeps
:func:`apply_changes` exact (see the gaps in the module's callers for keyed list matching).

Values are compared strictly: ``1``, ``1.0`` and ``True`` differ (they serialise differently), a
``Sensitive`` string equals the plain string, and a tuple equals the list with the same items.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from tuskops.core.resource import FieldPath, Resource, Sensitive, walk

ChangeKind = Literal["add", "remove", "change"]


class Redacted(str):
    """The marker shown instead of a secret value; renders without quotes."""

    __slots__ = ()


#: What a reviewer sees instead of a secret.
REDACTED = Redacted("(sensitive value)")


@dataclass(frozen=True)
class FieldChange:
    """One field that differs. ``old`` is None for "add", ``new`` is None for "remove"."""

    path: FieldPath
    kind: ChangeKind
    old: Any = None
    new: Any = None
    #: Set by :func:`redact_changes` when a value was (partly) hidden.
    sensitive: bool = False


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list | tuple)


def _scalar_type(value: Any) -> str:
    # bool is a subclass of int and str subclasses (Sensitive) are still strings: compare by
    # the JSON type the value serialises as.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def values_equal(old: Any, new: Any) -> bool:
    """Deep, type-strict equality of two JSON-like values."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(values_equal(old[k], new[k]) for k in old)
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return len(old) == len(new) and all(
            values_equal(a, b) for a, b in zip(old, new, strict=True)
        )
    if _is_container(old) or _is_container(new):
        return False
    return _scalar_type(old) == _scalar_type(new) and bool(old == new)


def diff_values(old: Any, new: Any, path: FieldPath = ()) -> list[FieldChange]:
    """Every field that differs between ``old`` and ``new``, in document order.

    Objects are compared key by key (keys only in ``old`` are removals, only in ``new`` are
    additions), lists index by index; anything else that differs, including a change of type, is
    one "change" of the whole value at that path.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key, old_item in old.items():
            key_path = (*path, str(key))
            if key in new:
                changes.extend(diff_values(old_item, new[key], key_path))
            else:
                changes.append(FieldChange(key_path, "remove", old=old_item))
        for key, new_item in new.items():
            if key not in old:
                changes.append(FieldChange((*path, str(key)), "add", new=new_item))
        return changes
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        changes = []
        for index in range(max(len(old), len(new))):
            if index >= len(old):
                changes.append(FieldChange((*path, index), "add", new=new[index]))
            elif index >= len(new):
                changes.append(FieldChange((*path, index), "remove", old=old[index]))
            else:
                changes.extend(diff_values(old[index], new[index], (*path, index)))
        return changes
    if values_equal(old, new):
        return []
    return [FieldChange(path, "change", old=old, new=new)]


def leaf_additions(value: Any) -> list[FieldChange]:
    """A new value as one "add" per leaf (scalars and empty containers), for showing a create."""
    return [
        FieldChange(path, "add", new=item)
        for path, item in walk(value)
        if not _is_container(item) or not item
    ]


def apply_changes(value: Any, changes: Iterable[FieldChange]) -> Any:
    """``value`` with ``changes`` applied (a copy): ``apply_changes(a, diff_values(a, b)) == b``.

    List removals are applied last, highest index first, so earlier removals do not shift the
    indices of later ones.
    """
    result = copy.deepcopy(_as_lists(value))
    list_removals: list[FieldChange] = []
    for change in changes:
        if not change.path:
            result = copy.deepcopy(_as_lists(change.new))
            continue
        parent = _resolve(result, change.path[:-1])
        key = change.path[-1]
        if change.kind == "remove":
            if isinstance(parent, list):
                list_removals.append(change)
            else:
                del parent[key]
        elif isinstance(parent, list) and change.kind == "add":
            parent.insert(int(key), copy.deepcopy(_as_lists(change.new)))
        else:
            parent[key] = copy.deepcopy(_as_lists(change.new))
    for change in sorted(list_removals, key=lambda c: c.path, reverse=True):
        del _resolve(result, change.path[:-1])[change.path[-1]]
    return result


def _as_lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_lists(item) for item in value]
    return value


def _resolve(value: Any, path: FieldPath) -> Any:
    for part in path:
        value = value[part]
    return value


# --- redaction --------------------------------------------------------------------------------


def secret_paths_in(body: Any, declared: Iterable[FieldPath] = ()) -> set[FieldPath]:
    """Secret paths of an arbitrary body (e.g. what a target holds now), by the same rules as
    :meth:`Resource.secret_field_paths`: declared paths, Sensitive values, secret key names."""
    probe = Resource(operator="", kind="", name="", body=body, secret_paths=tuple(declared))
    return probe.secret_field_paths()


def _under(path: FieldPath, secret_paths: set[FieldPath]) -> bool:
    """Whether ``path`` is a secret path or lies below one."""
    return any(path[: len(secret)] == secret for secret in secret_paths)


def _holds_secret(path: FieldPath, secret_paths: set[FieldPath]) -> bool:
    """Whether a secret path lies strictly below ``path``."""
    return any(len(secret) > len(path) and secret[: len(path)] == path for secret in secret_paths)


def redact_value(value: Any, path: FieldPath, secret_paths: set[FieldPath]) -> tuple[Any, bool]:
    """``value`` (found at ``path``) with every secret part replaced by :data:`REDACTED`.

    Returns the display value and whether anything was hidden. A scalar that has a secret path
    below it (e.g. a file that no longer parses, where a field used to be secret) cannot be
    partly hidden, so it is hidden whole.
    """
    if isinstance(value, Sensitive) or _under(path, secret_paths):
        return REDACTED, True
    if isinstance(value, dict):
        hidden = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key], item_hidden = redact_value(item, (*path, str(key)), secret_paths)
            hidden = hidden or item_hidden
        return out, hidden
    if isinstance(value, list | tuple):
        hidden = False
        items: list[Any] = []
        for index, item in enumerate(value):
            shown, item_hidden = redact_value(item, (*path, index), secret_paths)
            items.append(shown)
            hidden = hidden or item_hidden
        return items, hidden
    if _holds_secret(path, secret_paths):
        return REDACTED, True
    return value, False


def redact_changes(
    changes: Iterable[FieldChange], secret_paths: set[FieldPath]
) -> list[FieldChange]:
    """Changes safe to show: secret values replaced by :data:`REDACTED`, ``sensitive`` set.

    ``secret_paths`` should cover both sides (the desired body and what the target holds now), so
    a field that stops or starts being secret is hidden either way. The change itself, its path
    and its kind are kept: a reviewer still sees *that* a secret changed.
    """
    shown: list[FieldChange] = []
    for change in changes:
        old, old_hidden = (
            redact_value(change.old, change.path, secret_paths)
            if change.kind != "add"
            else (None, False)
        )
        new, new_hidden = (
            redact_value(change.new, change.path, secret_paths)
            if change.kind != "remove"
            else (None, False)
        )
        shown.append(replace(change, old=old, new=new, sensitive=old_hidden or new_hidden))
    return shown
