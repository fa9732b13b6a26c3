"""Build frozen dataclasses from TOML tables, with errors that name the offending key.

``parse(SomeConfig, table, "train")`` checks every key against the dataclass fields (unknown keys are
errors, with a close-match suggestion), converts and checks types from the annotations (str, int, float,
bool, Literal, lists, tuples, dicts, optionals, nested dataclasses and unions of dataclasses told apart by
their ``type`` field), and runs each dataclass's ``__post_init__``, where ``require(...)`` turns a failed
check into a ``ConfigError`` naming the full key path, e.g. ``train.lora.r: must be > 0, got 0``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from synthmix.errors import ConfigError

T = TypeVar("T")


class KeyProblem(ValueError):
    """Raised inside ``__post_init__``; ``parse`` prefixes the key with its path in the recipe."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        self.message = message


def require(condition: bool, key: str, message: str) -> None:
    """In a config's ``__post_init__``: fail with a message about ``key`` unless ``condition`` holds."""
    if not condition:
        raise KeyProblem(key, message)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "nothing"
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin in (list, tuple):
        return "a list"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: must be one of {_type_name(tp)}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        classes = [a for a in args if dataclasses.is_dataclass(a)]
        if len(classes) == 1 and isinstance(value, dict):
            return parse(classes[0], value, where)  # type: ignore[arg-type]
        if classes and isinstance(value, dict):
            return _parse_tagged(classes, value, where)
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(
            errors[0] if len(errors) == 1 else f"{where}: expected {_type_name(tp)}, got {value!r}"
        )
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return parse(tp, value, where)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_tp, *_rest) = get_args(tp) or (Any,)
        items = [_convert(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        _key_tp, val_tp = get_args(tp) or (str, Any)
        return {str(k): _convert(val_tp, v, _join(where, str(k))) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"config type {tp!r} at {where} is not supported by synthmix.config.base")


def _parse_tagged(classes: list[Any], value: dict[str, Any], where: str) -> Any:
    """Pick the dataclass whose ``type`` Literal matches ``value['type']``."""
    by_tag = {}
    for cls in classes:
        hint = get_type_hints(cls).get("type")
        for tag in get_args(hint) if get_origin(hint) is Literal else ():
            by_tag[tag] = cls
    tag = value.get("type")
    if tag not in by_tag:
        raise ConfigError(
            f"{_join(where, 'type')}: must be one of {', '.join(map(repr, by_tag))}, got {tag!r}"
        )
    return parse(by_tag[tag], value, where)


def parse(cls: type[T], table: dict[str, Any], where: str = "") -> T:
    """Build ``cls`` from a TOML table, checking keys and types; errors name ``where.key``."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where or 'recipe'}: expected a table, got {table!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    # TOML keys may use names that are Python keywords; a field ``from_`` reads key ``from``.
    key_to_field = {name.rstrip("_"): name for name in fields if fields[name].init}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key not in key_to_field:
            close = difflib.get_close_matches(key, list(key_to_field), n=1)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else f"; known keys: {', '.join(sorted(key_to_field))}"
            )
            raise ConfigError(f"{_join(where, key)}: unknown key{hint}")
        name = key_to_field[key]
        kwargs[name] = _convert(hints[name], value, _join(where, key))
    missing = [
        k
        for k, f in key_to_field.items()
        if f not in kwargs
        and fields[f].default is dataclasses.MISSING
        and fields[f].default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{_join(where, missing[0])}: required key is missing")
    try:
        return cls(**kwargs)
    except KeyProblem as e:
        raise ConfigError(f"{_join(where, e.key)}: {e.message}") from None


def defaults(cls: type[T]) -> T:
    """The config with every default (what an absent recipe section means)."""
    return parse(cls, {})


def as_table(obj: Any) -> Any:
    """A config back as a TOML-like table (for manifests, cards and ``--dry-run`` plans)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name.rstrip("_"): as_table(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: as_table(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [as_table(v) for v in obj]
    return obj


__all__ = ["KeyProblem", "as_table", "defaults", "parse", "require"]
