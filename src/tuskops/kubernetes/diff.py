"""What a server-side apply of a manifest would change, field by field, in the fields tuskops sets.

Server-side apply (https://kubernetes.io/docs/reference/using-api/server-side-apply/) merges
the applied configuration into the live object and records, per field manager, which fields
each manager set (``metadata.managedFields``). So the preview here is:

* **additions and changes**: walk the *desired* manifest and compare each field it sets with
  the live object (or the server's dry-run result, which already has defaults and
  normalisation applied). Fields desired does not mention are not compared: the server's
  defaults (``imagePullPolicy``, ``terminationMessagePath``...), ``status`` and server-owned
  metadata (``uid``, ``resourceVersion``, ``generation``, ``creationTimestamp``,
  ``managedFields``, ``selfLink``) are ignored. Lists are compared the way SSA merges them:
  associative lists ("list-map", ``x-kubernetes-list-type: map``) item by item by their key
  fields, from a small table of the built-in API's keys (``containers``/``env``/``volumes`` by
  ``name``, container ports by ``containerPort``+``protocol``, Service ports by ``port``+
  ``protocol``, ``volumeMounts`` by ``mountPath``...; see ``_LIST_MAP_KEYS``); other lists are
  atomic, compared by position when their lengths agree and as a whole otherwise, except
  sets of scalars (``metadata.finalizers``), where only items desired adds are changes.
* **removals**: fields tuskops applied last time (the ``fieldsV1`` set of the ``Apply`` entry of
  manager ``managed_by``) that desired no longer has. SSA removes such a field unless another
  manager also owns it, so fields another manager owns (or owns something below) are left out.
  Pass the live object from *before* the apply for this: a dry-run result already has them
  removed.

``fieldsV1`` (``k8s.io/apimachinery`` ``FieldsV1``; structured-merge-diff's serialisation) is a
JSON tree whose keys are ``f:<field>``, ``k:<json object of key fields>`` (an item of a list-map),
``v:<json value>`` (an item of a set) and ``i:<index>``; ``.`` inside a node marks the node
itself as owned, and an empty object ``{}`` marks a leaf. :func:`parse_fields_v1` turns it into a
set of paths.

Secrets: ``stringData`` is folded into ``data`` (base64) first, as the API server does on write,
and every change under ``data`` is marked ``sensitive`` with its values replaced by
:data:`REDACTED` (a map keeps its keys, never its values).

Deviations: SSA's defaulting of a key field is modelled only for ``protocol`` (``TCP``); resource
quantities (``requests``, ``limits``, ``hard``, ``capacity``, ``overhead``) compare by value, so
``1000m`` equals ``1``; an empty map or list in desired that the live object omits is not a
change (the API server usually omits empty values).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from tuskops.errors import KubernetesError

REDACTED = "(sensitive)"

Op = Literal["add", "change", "remove"]

#: Metadata the API server sets; never compared.
SERVER_METADATA = frozenset(
    {
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    }
)

#: Key fields of the built-in associative lists, by field name (Kubernetes API conventions,
#: ``+listType=map`` / ``+listMapKey`` in ``k8s.io/api``). ``ports`` is resolved per list.
_LIST_MAP_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "conditions": ("type",),
    "webhooks": ("name",),
}

#: Key fields the server defaults before merging, with their default.
_KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}

#: Lists of scalars that are sets (``+listType=set``): items merge, order does not matter.
_SET_LISTS = frozenset({"finalizers"})

_QUANTITY_PARENTS = frozenset({"requests", "limits", "hard", "capacity", "overhead"})


@dataclass(frozen=True)
class FieldChange:
    """One field an apply would add, change or remove.

    ``path`` is dotted, with ``[name=web]`` for an item of a list-map (several keys joined by
    commas), ``[=value]`` for an item of a set, ``[0]`` for a position, and ``["a.b/c"]`` for a
    map key that is not a plain identifier. The empty path means the whole object (a create).
    """

    path: str
    old: Any
    new: Any
    op: Op
    sensitive: bool = False


# --- paths --------------------------------------------------------------------------------------

_PLAIN_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


def _name_segment(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) else f"[{json.dumps(name)}]"


def _scalar_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _key_segment(pairs: Sequence[tuple[str, Any]]) -> str:
    return "[" + ",".join(f"{k}={_scalar_text(_thaw(v))}" for k, v in pairs) + "]"


def _join(segments: Sequence[str]) -> str:
    out = ""
    for seg in segments:
        out += seg if (seg.startswith("[") or not out) else "." + seg
    return out


# --- fieldsV1 -----------------------------------------------------------------------------------

#: One step of a managed path: ("f", name) | ("k", ((field, value), ...)) | ("v", value) |
#: ("i", index). Values are frozen (maps and lists become tuples) so paths are hashable.
PathElement = tuple[str, Any]
ManagedPath = tuple[PathElement, ...]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ("__map__", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("__list__", tuple(_freeze(v) for v in value))
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__map__":
        return {k: _thaw(v) for k, v in value[1]}
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__list__":
        return [_thaw(v) for v in value[1]]
    return value


def _parse_element(key: str) -> PathElement:
    prefix, sep, rest = key.partition(":")
    if not sep:
        raise KubernetesError(f"fieldsV1: unknown key {key!r} (expected f:, k:, v: or i:)")
    try:
        if prefix == "f":
            return ("f", rest)
        if prefix == "k":
            fields = json.loads(rest)
            if not isinstance(fields, dict) or not fields:
                raise KubernetesError(f"fieldsV1: {key!r}: a key must be a non-empty object")
            return ("k", tuple(sorted((str(k), _freeze(v)) for k, v in fields.items())))
        if prefix == "v":
            return ("v", _freeze(json.loads(rest)))
        if prefix == "i":
            return ("i", int(rest))
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise KubernetesError(f"fieldsV1: malformed key {key!r}: {exc}") from exc
    raise KubernetesError(f"fieldsV1: unknown key {key!r} (expected f:, k:, v: or i:)")


def parse_fields_v1(fields: Mapping[str, Any]) -> frozenset[ManagedPath]:
    """The owned paths of a ``fieldsV1`` tree: its leaves and the nodes marked with ``.``."""
    owned: set[ManagedPath] = set()

    def walk(node: Any, prefix: ManagedPath) -> None:
        if not isinstance(node, Mapping):
            where = render_managed_path(prefix) or "the root"
            raise KubernetesError(f"fieldsV1: {where} is {type(node).__name__}, not an object")
        for key, child in node.items():
            if key == ".":
                if prefix:
                    owned.add(prefix)
                continue
            path = (*prefix, _parse_element(str(key)))
            if isinstance(child, Mapping) and not child:
                owned.add(path)
            else:
                walk(child, path)

    walk(fields, ())
    return frozenset(owned)


def render_managed_path(path: ManagedPath) -> str:
    """``path`` in :class:`FieldChange`'s notation (``spec.containers[name=web].image``)."""
    segments: list[str] = []
    for kind, value in path:
        if kind == "f":
            segments.append(_name_segment(value))
        elif kind == "k":
            segments.append(_key_segment(value))
        elif kind == "v":
            segments.append(f"[={_scalar_text(_thaw(value))}]")
        else:
            segments.append(f"[{value}]")
    return _join(segments)


def _item_matches(item: Any, pairs: Sequence[tuple[str, Any]]) -> bool:
    if not isinstance(item, Mapping):
        return False
    return all(_freeze(item.get(k, _KEY_DEFAULTS.get(k))) == v for k, v in pairs)


def _lookup(doc: Any, path: ManagedPath) -> tuple[bool, Any]:
    """``(found, value)`` of ``path`` in ``doc``; a ``None`` value counts as absent."""
    node = doc
    for kind, value in path:
        if kind == "f":
            if not isinstance(node, Mapping) or node.get(value) is None:
                return False, None
            node = node[value]
        elif not isinstance(node, list):
            return False, None
        elif kind == "k":
            match = next((item for item in node if _item_matches(item, value)), None)
            if match is None:
                return False, None
            node = match
        elif kind == "v":
            match = next((item for item in node if _freeze(item) == value), None)
            if match is None:
                return False, None
            node = match
        else:
            if not 0 <= value < len(node):
                return False, None
            node = node[value]
    return True, node


# --- comparing values ---------------------------------------------------------------------------

_QUANTITY = re.compile(
    r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?|[eE]([+-]?\d+))"
)
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def _power_of_ten(exponent: int) -> Fraction:
    return Fraction(10**exponent) if exponent >= 0 else Fraction(1, 10**-exponent)


def _quantity(value: Any) -> Fraction | None:
    """The value of a Kubernetes resource quantity (``500m``, ``1Gi``, ``1e3``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Fraction(value)
    if not isinstance(value, str):
        return None
    m = _QUANTITY.fullmatch(value.strip())
    if m is None:
        return None
    number, suffix, exponent = Fraction(m.group(1)), m.group(2), m.group(3)
    if suffix in _BINARY:
        return number * (1 << _BINARY[suffix])
    if suffix:
        return number * _power_of_ten(_DECIMAL[suffix])
    if exponent:
        return number * _power_of_ten(int(exponent))
    return number


def _same(desired: Any, live: Any, keys: Sequence[str]) -> bool:
    if isinstance(desired, bool) != isinstance(live, bool):
        return False
    if desired == live:
        return True
    if len(keys) >= 2 and keys[-2] in _QUANTITY_PARENTS:
        a, b = _quantity(desired), _quantity(live)
        return a is not None and a == b
    return False


def list_keys_of(field: str, items: Sequence[Any]) -> tuple[str, ...] | None:
    """The key fields of list ``field`` when every item has them, else None (atomic)."""
    if field == "ports":
        is_container = any(isinstance(i, Mapping) and "containerPort" in i for i in items)
        keys: tuple[str, ...] | None = (
            ("containerPort", "protocol") if is_container else ("port", "protocol")
        )
    else:
        keys = _LIST_MAP_KEYS.get(field)
    if keys is None:
        return None
    for item in items:
        if not isinstance(item, Mapping):
            return None
        if any(item.get(k) is None and k not in _KEY_DEFAULTS for k in keys):
            return None
    return keys


def item_key(item: Mapping[str, Any], keys: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, _freeze(item.get(k, _KEY_DEFAULTS.get(k)))) for k in keys))


def _is_empty(value: Any) -> bool:
    return isinstance(value, Mapping | list) and not value


def _diff(
    desired: Any,
    live: Any,
    segments: list[str],
    keys: list[str],
    out: list[FieldChange],
) -> None:
    if isinstance(desired, Mapping) and isinstance(live, Mapping):
        for name, value in desired.items():
            if value is None:
                continue
            seg = [*segments, _name_segment(str(name))]
            if live.get(name) is None:
                if not _is_empty(value):
                    out.append(FieldChange(_join(seg), None, value, "add"))
                continue
            _diff(value, live[name], seg, [*keys, str(name)], out)
    elif isinstance(desired, list) and isinstance(live, list):
        field = keys[-1] if keys else ""
        list_keys = list_keys_of(field, desired)
        if field in _SET_LISTS:
            present = {_freeze(item) for item in live}
            for item in desired:
                if _freeze(item) not in present:
                    seg = [*segments, f"[={_scalar_text(item)}]"]
                    out.append(FieldChange(_join(seg), None, item, "add"))
        elif list_keys is not None and list_keys_of(field, live) is not None:
            by_key = {item_key(i, list_keys): i for i in live}
            for item in desired:
                pairs = item_key(item, list_keys)
                seg = [*segments, _key_segment(pairs)]
                if pairs not in by_key:
                    out.append(FieldChange(_join(seg), None, item, "add"))
                else:
                    _diff(item, by_key[pairs], seg, [*keys, "[]"], out)
        elif len(desired) != len(live):
            out.append(FieldChange(_join(segments), live, desired, "change"))
        else:
            for index, (d, v) in enumerate(zip(desired, live, strict=True)):
                _diff(d, v, [*segments, f"[{index}]"], [*keys, "[]"], out)
    elif not _same(desired, live, keys):
        out.append(FieldChange(_join(segments), live, desired, "change"))


# --- removals -----------------------------------------------------------------------------------


def _ignored(path: ManagedPath) -> bool:
    if path[:1] == (("f", "status"),):
        return True
    return len(path) >= 2 and path[0] == ("f", "metadata") and path[1][1] in SERVER_METADATA


def _owned_sets(
    live: Mapping[str, Any], managed_by: str
) -> tuple[frozenset[ManagedPath], frozenset[ManagedPath]]:
    """``(ours, others)``: paths in our last Apply entry, and paths any other entry owns."""
    ours: set[ManagedPath] = set()
    others: set[ManagedPath] = set()
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("fieldsType", "FieldsV1") != "FieldsV1":
            raise KubernetesError(
                f"managedFields of {entry.get('manager')!r}: unknown fieldsType"
                f" {entry.get('fieldsType')!r}"
            )
        paths = parse_fields_v1(entry.get("fieldsV1") or {})
        mine = (
            entry.get("manager") == managed_by
            and entry.get("operation") == "Apply"
            and not entry.get("subresource")
        )
        (ours if mine else others).update(paths)
    return frozenset(ours), frozenset(others)


def _removals(
    desired: Mapping[str, Any], previous: Mapping[str, Any], managed_by: str
) -> list[FieldChange]:
    ours, others = _owned_sets(previous, managed_by)
    dropped: set[ManagedPath] = set()
    for path in ours:
        if _ignored(path):
            continue
        for n in range(1, len(path) + 1):
            prefix = path[:n]
            if prefix in ours and not _lookup(desired, prefix)[0]:
                dropped.add(prefix)
                break
    changes: list[FieldChange] = []
    for path in dropped:
        if any(other[: len(path)] == path for other in others):
            continue
        found, old = _lookup(previous, path)
        if found:
            changes.append(FieldChange(render_managed_path(path), old, None, "remove"))
    return changes


# --- secrets ------------------------------------------------------------------------------------


def _is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret"


def _fold_string_data(secret: Mapping[str, Any]) -> dict[str, Any]:
    """``secret`` with ``stringData`` merged into ``data`` as the API server does on write."""
    folded = copy.deepcopy(dict(secret))
    string_data = folded.pop("stringData", None) or {}
    if string_data:
        data = dict(folded.get("data") or {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode("ascii")
        folded["data"] = data
    return folded


def _redact(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict.fromkeys(value, REDACTED)
    return REDACTED


def _redact_secret(obj: Mapping[str, Any]) -> dict[str, Any]:
    redacted = dict(obj)
    for field in ("data", "stringData"):
        if field in redacted:
            redacted[field] = _redact(redacted[field])
    return redacted


def _is_sensitive_path(path: str) -> bool:
    return any(path == f or path.startswith((f + ".", f + "[")) for f in ("data", "stringData"))


# --- the public entry points --------------------------------------------------------------------


def _strip_server_fields(desired: Mapping[str, Any]) -> dict[str, Any]:
    stripped = {k: v for k, v in desired.items() if k != "status"}
    meta = stripped.get("metadata")
    if isinstance(meta, Mapping):
        stripped["metadata"] = {k: v for k, v in meta.items() if k not in SERVER_METADATA}
    return stripped


def field_diff(
    desired: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    *,
    managed_by: str = "tuskops",
    previous: Mapping[str, Any] | None = None,
) -> list[FieldChange]:
    """The changes applying ``desired`` (as field manager ``managed_by``) would make to ``live``.

    ``live`` is the object as it is, or the result of a server-side dry-run apply; ``None``
    means it does not exist (one ``add`` with the empty path: a create). Removals are read
    from the managedFields of ``previous`` (default: ``live``), which must be the object
    *before* the apply. Changes are sorted by path; removals come after additions/changes.
    """
    secret = _is_secret(desired)
    target = _strip_server_fields(_fold_string_data(desired) if secret else desired)
    if live is None:
        new = _redact_secret(target) if secret else target
        return [FieldChange("", None, new, "add", sensitive=secret)]
    changes: list[FieldChange] = []
    _diff(target, live, [], [], changes)
    changes.sort(key=lambda c: c.path)
    removals = _removals(target, previous if previous is not None else live, managed_by)
    # A removal inside a field already shown as replaced (an atomic list) is not shown twice.
    changes += sorted(
        (r for r in removals if not any(_within(r.path, c.path) for c in changes)),
        key=lambda c: c.path,
    )
    if not secret:
        return changes
    return [
        FieldChange(c.path, _redact(c.old), _redact(c.new), c.op, sensitive=True)
        if _is_sensitive_path(c.path)
        else c
        for c in changes
    ]


def _within(path: str, outer: str) -> bool:
    return path == outer or path.startswith((outer + ".", outer + "["))


def _value_text(value: Any) -> str:
    if value is None:
        return "(unset)"
    if value == REDACTED:
        return REDACTED
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


_SYMBOL: dict[str, str] = {"add": "+", "change": "~", "remove": "-"}


def render_changes(obj_key: str, changes: Sequence[FieldChange]) -> str:
    """Plain text, one line per change: ``~ Deployment/shop/web  spec.replicas: 2 -> 3``.

    A create renders as ``+ Deployment/shop/web  (create)``, no changes as
    ``  Deployment/shop/web  (no changes)``.
    """
    if not changes:
        return f"  {obj_key}  (no changes)"
    lines: list[str] = []
    for change in changes:
        symbol = _SYMBOL[change.op]
        if change.path == "" and change.op == "add":
            lines.append(f"{symbol} {obj_key}  (create)")
            continue
        old, new = _value_text(change.old), _value_text(change.new)
        lines.append(f"{symbol} {obj_key}  {change.path or '(object)'}: {old} -> {new}")
    return "\n".join(lines)
