"""Request bodies checked against Discord's published OpenAPI schema (JSON Schema 2020-12).

The schemas come from ``../shared/discord-openapi/discord-openapi-subset.json`` (see its
README): the request bodies of the routes the bot calls, keyed ``"METHOD /path/template"``,
plus every component schema they reference. A clone with nothing beside it has no such file;
then :func:`load_schema` returns ``None`` and the emulator runs without this check.

Each route's validator is compiled once, on first use, and shared by every emulator in the
process. An invalid body gives :class:`SchemaError` s, one per problem, whose paths read like
``data.options[2].max_value``. Where the schema offers alternatives (``oneOf`` / ``anyOf``:
the option types of a command, the component types, "an embed or null"), the alternatives
whose ``type`` discriminator (or JSON type) does not fit the value are set aside, and the
errors of the one that was meant are reported rather than "not valid under any of ...".

Speed: a message's components are a union of seven kinds, each of which nests unions of its
own, and the standard keywords try every branch of every level: milliseconds per message. So
the validator's ``oneOf`` / ``anyOf`` skip a branch where it would fail anyway (the value's
JSON type is not the branch's, or its ``type`` field is not in the branch's ``enum``), ``$ref``
takes the component from the dict, and a property or item whose schema is only a type and
bounds is checked in place; whenever such a shortcut is not sure, the standard keyword
decides, so what is valid (and every error) stays the standard's.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from .validation import FieldError

# Discord's own error codes for the JSON Schema keywords (a 50035 "Invalid Form Body" tree).
_CODES = {
    "maximum": "NUMBER_TYPE_MAX",
    "exclusiveMaximum": "NUMBER_TYPE_MAX",
    "minimum": "NUMBER_TYPE_MIN",
    "exclusiveMinimum": "NUMBER_TYPE_MIN",
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "maxProperties": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "minProperties": "BASE_TYPE_MIN_LENGTH",
    "required": "BASE_TYPE_REQUIRED",
    "enum": "BASE_TYPE_CHOICES",
    "const": "BASE_TYPE_CHOICES",
    "pattern": "STRING_TYPE_REGEX",
    "uniqueItems": "BASE_TYPE_DUPLICATES",
    "oneOf": "UNION_TYPE_CHOICES",
    "anyOf": "UNION_TYPE_CHOICES",
}
_TYPE_CODES = {
    "integer": "NUMBER_TYPE_COERCE",
    "number": "NUMBER_TYPE_COERCE",
    "string": "STRING_TYPE_CONVERT",
    "boolean": "BOOLEAN_TYPE_CONVERT",
    "array": "LIST_TYPE_CONVERT",
    "object": "DICT_TYPE_CONVERT",
}


@dataclass(frozen=True)
class SchemaError(FieldError):
    """A place where a body leaves Discord's OpenAPI schema.

    ``path`` and ``code`` nest into the 50035 error tree like the emulator's other checks;
    ``str()`` reads ``data.options[2].max_value: 9007199254740992 is greater than the maximum
    of 9007199254740991 (NUMBER_TYPE_MAX, Discord's OpenAPI schema)``."""

    route: str = ""

    def __str__(self) -> str:
        return f"{readable_path(self.path)}: {self.message} ({self.code}, Discord's OpenAPI schema)"


def readable_path(path: Iterable[str | int]) -> str:
    """``("data", "options", 2, "max_value")`` -> ``data.options[2].max_value``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<body>"


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _names(branches: list[Any]) -> str:
    names = []
    for branch in branches:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str):
            names.append(ref.rsplit("/", 1)[-1])
        elif isinstance(branch, dict) and "type" in branch:
            names.append(str(branch["type"]))
    return ", ".join(names) or "the alternatives"


def _describe(err: ValidationError) -> tuple[tuple[str | int, ...], str, str]:
    """(path, Discord code, message) of one leaf error."""
    kw = str(err.validator)
    limit: Any = err.validator_value
    value: Any = err.instance
    path: tuple[str | int, ...] = tuple(err.absolute_path)
    code = _CODES.get(kw, f"SCHEMA_{kw.upper()}")
    if kw in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        message = err.message  # "9007199254740992 is greater than the maximum of ..."
    elif kw in ("maxLength", "minLength"):
        more = "longer" if kw == "maxLength" else "shorter"
        message = f"{_short(value)} is {len(value)} characters, {more} than the limit of {limit}"
    elif kw in ("maxItems", "minItems", "maxProperties", "minProperties"):
        more = "more" if kw.startswith("max") else "fewer"
        noun = "items" if kw.endswith("Items") else "properties"
        message = f"has {len(value)} {noun}, {more} than the limit of {limit}"
    elif kw == "required":
        missing = [p for p in limit if isinstance(value, dict) and p not in value]
        name = next((p for p in missing if err.message.startswith(repr(p))), None)
        if name is not None:
            path = (*path, name)
        message = "is required" if name is not None else err.message
    elif kw == "type":
        types = [limit] if isinstance(limit, str) else list(limit)
        code = next((_TYPE_CODES[t] for t in types if t in _TYPE_CODES), code)
        message = f"{_short(value)} is not of type {' or '.join(types)}"
    elif kw in ("enum", "const"):
        allowed = limit if kw == "enum" else [limit]
        message = f"{_short(value)} is not one of {_short(allowed, 120)}"
    elif kw == "pattern":
        message = f"{_short(value)} does not match {limit}"
    elif kw in ("oneOf", "anyOf"):
        message = err.message  # written by _union_keywords, with the value shortened
    else:
        message = err.message if len(err.message) <= 200 else err.message[:199] + "…"
    return path, code, message


def _rules_out(err: ValidationError) -> bool:
    """Whether an error inside one alternative of a union says "not this alternative": the
    value has another JSON type, or its ``type`` discriminator has another value."""
    rel = list(err.relative_path)
    if not rel and err.validator == "type":
        return True
    return rel == ["type"] and err.validator in ("enum", "const")


def _leaves(err: ValidationError) -> Iterator[ValidationError]:
    if err.validator in ("oneOf", "anyOf") and err.context:
        branches: dict[int, list[ValidationError]] = {}
        for sub in err.context:
            branches.setdefault(int(sub.schema_path[0]), []).append(sub)
        meant = [errs for errs in branches.values() if not any(map(_rules_out, errs))]
        if meant:
            # The alternative that was meant; if several are plausible, the closest one.
            for sub in min(meant, key=len):
                yield from _leaves(sub)
            return
    yield err


_ANNOTATIONS = frozenset({"title", "description", "format", "deprecated", "x-discord-union"})
_WITH_CONST = _ANNOTATIONS | {"const"}
_NO_CONST = object()


def _is_kind(instance: Any, kind: str) -> bool:
    """JSON Schema's type test for decoded JSON (as draft 2020-12: 1.0 is an integer)."""
    if kind == "object":
        return isinstance(instance, dict)
    if kind == "array":
        return isinstance(instance, list)
    if kind == "string":
        return isinstance(instance, str)
    if kind == "null":
        return instance is None
    if kind == "boolean":
        return isinstance(instance, bool)
    if isinstance(instance, bool):
        return False
    if kind == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    return kind == "number" and isinstance(instance, int | float)


_LEAF_KEYWORDS = _WITH_CONST | {"type", "enum", "maxLength", "minLength", "maximum", "minimum"}


def _leaf_fits(schema: dict[str, Any], value: Any) -> bool:
    """True when ``value`` surely fits a leaf ``schema`` (see :func:`_is_leaf`); False when it
    may not, and the full keyword checks must say how."""
    kinds = schema.get("type")
    if kinds is not None:
        if isinstance(kinds, str):
            kinds = (kinds,)
        if not any(_is_kind(value, kind) for kind in kinds):
            return False
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            return False
        if len(value) < schema.get("minLength", 0):
            return False
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "maximum" in schema and value > schema["maximum"]:
            return False
        if "minimum" in schema and value < schema["minimum"]:
            return False
    if "enum" in schema or "const" in schema:
        if isinstance(value, bool | dict | list):  # where == is not JSON equality
            return False
        allowed = schema["enum"] if "enum" in schema else [schema["const"]]
        return value in allowed
    return True


@dataclass(frozen=True)
class _Branch:
    """What can rule an alternative of a union out before it is tried."""

    kinds: tuple[str, ...] | None  # its JSON types
    const: Any  # its const (_NO_CONST if none)
    only_const: bool  # nothing but the const (and annotations): no need to descend
    discriminator: tuple[Any, ...] | None  # the enum of its "type" property

    def may_fit(self, instance: Any) -> bool:
        if self.const is not _NO_CONST and instance != self.const:
            return False
        if self.kinds is not None and not any(_is_kind(instance, k) for k in self.kinds):
            return False
        return not (
            self.discriminator is not None
            and isinstance(instance, dict)
            and "type" in instance
            and instance["type"] not in self.discriminator
        )


def _ruled_out(instance: Any, branches: list[Any], infos: list[_Branch]) -> str | None:
    """Why no alternative of a union could take ``instance``, or None if it is not simple."""
    names = _names(branches)
    if all(info.kinds is not None for info in infos):
        kinds = list(dict.fromkeys(k for info in infos for k in info.kinds or ()))
        if not any(_is_kind(instance, k) for k in kinds):
            return f"{_short(instance)} is not of type {' or '.join(kinds)} ({names})"
    if all(info.const is not _NO_CONST for info in infos):
        return f"{_short(instance)} is not one of {_short([i.const for i in infos], 120)}"
    discriminators = [info.discriminator for info in infos if info.discriminator is not None]
    if isinstance(instance, dict) and "type" in instance and discriminators:
        allowed = list(dict.fromkeys(v for d in discriminators for v in d))
        return f"type {_short(instance['type'])} is not one of {_short(allowed, 120)} ({names})"
    return None


def _keywords(components: dict[str, Any]) -> dict[str, Any]:
    """Keywords that give the standard's answers faster (see the module doc): ``oneOf`` /
    ``anyOf`` that skip the alternatives that cannot fit, ``$ref`` to the components without a
    registry lookup, and ``properties`` / ``items`` that check a leaf value in place."""
    schemas: dict[str, Any] = components.get("schemas", {})
    prefix = "#/components/schemas/"
    plans: dict[int, tuple[list[Any], list[_Branch]]] = {}

    def target(branch: Any) -> Any:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str) and ref.startswith(prefix) and len(branch) == 1:
            return schemas.get(ref[len(prefix) :], branch)
        return branch

    def describe(branch: Any) -> _Branch:
        schema = target(branch)
        if not isinstance(schema, dict):
            return _Branch(None, _NO_CONST, False, None)
        kinds = schema.get("type")
        prop = (schema.get("properties") or {}).get("type")
        allowed = prop.get("enum") if isinstance(prop, dict) else None
        return _Branch(
            kinds=((kinds,) if isinstance(kinds, str) else tuple(kinds)) if kinds else None,
            const=schema.get("const", _NO_CONST),
            only_const=schema is branch and "const" in schema and set(schema) <= _WITH_CONST,
            discriminator=tuple(allowed) if isinstance(allowed, list) else None,
        )

    def plan(branches: list[Any]) -> list[_Branch]:
        found = plans.get(id(branches))
        if found is None or found[0] is not branches:
            found = plans[id(branches)] = (branches, [describe(b) for b in branches])
        return found[1]

    def union(
        validator: Validator, branches: list[Any], instance: Any, exactly_one: bool
    ) -> Iterator[ValidationError]:
        errors: list[ValidationError] = []
        fits: list[int] = []
        simple = not isinstance(instance, bool | dict | list)  # where == is JSON equality
        for index, (branch, info) in enumerate(zip(branches, plan(branches), strict=True)):
            if not info.may_fit(instance):
                continue
            if info.only_const and simple:
                found = []  # == its const, and nothing else to check
            else:
                found = list(validator.descend(instance, branch, schema_path=index))
            if found:
                errors.extend(found)
                continue
            fits.append(index)
            if not exactly_one or len(fits) > 1:
                break
        if not fits:
            message = f"{_short(instance)} does not fit any of {_names(branches)}"
            if not errors:  # every alternative was ruled out before it was tried: say why
                message = _ruled_out(instance, branches, plan(branches)) or message
            yield ValidationError(message, context=errors)
        elif len(fits) > 1:
            several = _names([branches[i] for i in fits])
            yield ValidationError(f"{_short(instance)} fits more than one of {several}")

    def one_of(
        validator: Validator, branches: list[Any], instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        yield from union(validator, branches, instance, exactly_one=True)

    def any_of(
        validator: Validator, branches: list[Any], instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        yield from union(validator, branches, instance, exactly_one=False)

    standard_ref = Draft202012Validator.VALIDATORS["$ref"]

    def ref(
        validator: Validator, ref: str, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        # "#/components/schemas/X" straight from the dict: a lookup through `referencing`
        # costs more than validating most of what it points at. Anything else: the standard.
        found = schemas.get(ref[len(prefix) :]) if ref.startswith(prefix) else None
        if found is None:
            yield from standard_ref(validator, ref, instance, schema)
        else:
            yield from validator.descend(instance, found)

    leaves: dict[int, tuple[Any, bool]] = {}

    def is_leaf(sub: Any) -> bool:
        """A schema of nothing but a type and bounds (most properties): checked in place."""
        found = leaves.get(id(sub))
        if found is None or found[0] is not sub:
            leaf = isinstance(sub, dict) and set(sub) <= _LEAF_KEYWORDS
            found = leaves[id(sub)] = (sub, leaf)
        return found[1]

    def properties(
        validator: Validator, props: dict[str, Any], instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if not isinstance(instance, dict):
            return
        for name, sub in props.items():
            if name in instance:
                value = instance[name]
                if is_leaf(sub) and _leaf_fits(sub, value):
                    continue
                yield from validator.descend(value, sub, path=name, schema_path=name)

    standard_items = Draft202012Validator.VALIDATORS["items"]

    def items(
        validator: Validator, sub: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if not isinstance(instance, list) or "prefixItems" in schema:
            yield from standard_items(validator, sub, instance, schema)
            return
        leaf = is_leaf(sub)
        for index, item in enumerate(instance):
            if leaf and _leaf_fits(sub, item):
                continue
            yield from validator.descend(item, sub, path=index)

    return {
        "oneOf": one_of,
        "anyOf": any_of,
        "$ref": ref,
        "properties": properties,
        "items": items,
    }


@dataclass
class DiscordSchema:
    """The route schemas of the subset, with a validator per route compiled on first use."""

    routes: dict[str, Any]
    components: dict[str, Any]
    _validators: dict[str, Validator] = field(default_factory=dict, repr=False)
    _cls: Any = field(default=None, repr=False)
    _candidates: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def from_file(cls, path: Path) -> DiscordSchema:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(routes=dict(doc["routes"]), components=dict(doc["components"]))

    def validator(self, route: str) -> Validator:
        """The compiled validator of ``route`` ("METHOD /path/template" of the subset)."""
        found = self._validators.get(route)
        if found is None:
            if self._cls is None:
                self._cls = extend(Draft202012Validator, _keywords(self.components))
            # The route's schema refers to "#/components/schemas/...": one root holds both.
            root = {**self.routes[route], "components": self.components}
            found = self._validators[route] = self._cls(root)
        return found

    def route_for(
        self, method: str, template: str, params: dict[str, str] | None = None
    ) -> str | None:
        """The subset's route for a request the emulator matched as ``method template``
        (with path ``params``), or ``None`` when the subset has no schema for it.

        Parameter names may differ (the emulator's ``/webhooks/{application_id}/
        {interaction_token}`` is the subset's ``/webhooks/{webhook_id}/{webhook_token}``);
        where the subset has a literal segment (``messages/@original``) the request's value
        there must be that literal."""
        key = (method, template)
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = self._candidates[key] = self._match_templates(method, template)
        for route, literals in candidates:
            if all((params or {}).get(name) == text for name, text in literals.items()):
                return route
        return None

    def _match_templates(self, method: str, template: str) -> list[tuple[str, dict[str, str]]]:
        found: list[tuple[str, dict[str, str]]] = []
        ours = template.strip("/").split("/")
        for route in self.routes:
            m, _, theirs_template = route.partition(" ")
            theirs = theirs_template.strip("/").split("/")
            if m != method or len(theirs) != len(ours):
                continue
            literals: dict[str, str] = {}
            for a, b in zip(ours, theirs, strict=True):
                if _PARAM.fullmatch(a) and not _PARAM.fullmatch(b):
                    literals[a[1:-1]] = b  # our parameter must hold their literal
                elif not _PARAM.fullmatch(a) and not _PARAM.fullmatch(b) and a != b:
                    break
            else:
                found.append((route, literals))
        # The most specific first: ".../messages/@original" before ".../messages/{message_id}".
        found.sort(key=lambda item: -len(item[1]))
        return found

    def errors(self, route: str, body: Any) -> list[SchemaError]:
        """Every place where ``body`` leaves the schema of ``route``; empty when it fits."""
        out: list[SchemaError] = []
        for err in self.validator(route).iter_errors(body):
            for leaf in _leaves(err):
                path, code, message = _describe(leaf)
                out.append(SchemaError(path, code, message, route))
        return out

    def check(
        self, method: str, template: str, params: dict[str, str] | None, body: Any
    ) -> list[SchemaError]:
        """``errors`` for a request the emulator matched; empty for routes without a schema."""
        route = self.route_for(method, template, params)
        return [] if route is None else self.errors(route, body)


_PARAM = re.compile(r"\{[a-z_]+\}")


@functools.cache
def load_schema(path: Path | None = None) -> DiscordSchema | None:
    """Discord's schemas from ``path`` (by default ``tests.shared.DISCORD_OPENAPI``), loaded
    once per process; ``None`` when the file is not there (a clone with nothing beside it)."""
    if path is None:
        from tests.shared import DISCORD_OPENAPI

        path = DISCORD_OPENAPI
    if not path.exists():
        return None
    return DiscordSchema.from_file(path)
