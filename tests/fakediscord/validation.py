"""Validation of what a bot sends, against Discord's documented limits.

Every check returns a list of :class:`FieldError`; an empty list means valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import (
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldError:
    path: Path
    code: str
    message: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<root>"
        return f"{where}: {self.code}: {self.message}"


def errors_to_discord(errors: list[FieldError]) -> dict[str, Any]:
    """Nest errors like Discord's 50035 "Invalid Form Body" response."""
    root: dict[str, Any] = {}
    for err in errors:
        node = root
        for part in err.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return root


class _V:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: Path, code: str, message: str) -> None:
        self.errors.append(FieldError(path, code, message))

    def max_len(self, path: Path, value: Any, limit: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        elif len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Path, value: Any, lo: int, hi: int) -> None:
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        elif not lo <= len(value) <= hi:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")

    def max_items(self, path: Path, value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


# -- embeds ------------------------------------------------------------------


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    for f in embed.get("fields") or []:
        if isinstance(f, dict):
            total += len(str(f.get("name") or "")) + len(str(f.get("value") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or ""))
    total += len(str((embed.get("author") or {}).get("name") or ""))
    return total


def _check_embeds(v: _V, embeds: Any) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        v.add(("embeds",), "LIST_TYPE_CONVERT", "Must be an array.")
        return
    v.max_items(("embeds",), embeds, 10)
    total = 0
    for i, e in enumerate(embeds):
        p: Path = ("embeds", i)
        if not isinstance(e, dict):
            v.add(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        v.max_len((*p, "title"), e.get("title"), 256)
        v.max_len((*p, "description"), e.get("description"), 4096)
        fields = e.get("fields") or []
        v.max_items((*p, "fields"), fields, 25)
        for j, f in enumerate(fields):
            fp: Path = (*p, "fields", j)
            for key, limit in (("name", 256), ("value", 1024)):
                val = f.get(key)
                if val is None or val == "":
                    v.add((*fp, key), "BASE_TYPE_REQUIRED", "This field is required")
                else:
                    v.max_len((*fp, key), val, limit)
        footer = e.get("footer")
        if footer is not None:
            v.max_len((*p, "footer", "text"), footer.get("text"), 2048)
        author = e.get("author")
        if author is not None:
            v.max_len((*p, "author", "name"), author.get("name"), 256)
        colour = e.get("color")
        if colour is not None and (not isinstance(colour, int) or not 0 <= colour <= 0xFFFFFF):
            v.add((*p, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215 and >= 0.")
        total += _embed_chars(e)
    if total > 6000:
        v.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of 6000 ({total})",
        )


# -- components --------------------------------------------------------------

_SELECT_TYPES = {3, 5, 6, 7, 8}


def _check_button(v: _V, p: Path, b: dict[str, Any], seen: set[str]) -> None:
    style = b.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        v.add(
            (*p, "style"),
            "BASE_TYPE_CHOICES",
            f"Value must be one of (1, 2, 3, 4, 5, 6). got {style!r}",
        )
    v.max_len((*p, "label"), b.get("label"), 80)
    if style == 5:
        if not b.get("url"):
            v.add((*p, "url"), "BASE_TYPE_REQUIRED", "This field is required")
        if b.get("custom_id") is not None:
            v.add(
                (*p, "custom_id"),
                "BUTTON_COMPONENT_LINK_CANNOT_HAVE_CUSTOM_ID",
                "Link buttons cannot have a custom_id",
            )
    elif style == 6:
        if not b.get("sku_id"):
            v.add((*p, "sku_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _check_custom_id(v, p, b, seen)
        if b.get("url") is not None:
            v.add(
                (*p, "url"),
                "BUTTON_COMPONENT_NON_LINK_CANNOT_HAVE_URL",
                "Non-link buttons cannot have a url",
            )
    if style != 6 and not b.get("label") and not b.get("emoji"):
        v.add(p, "BUTTON_COMPONENT_MISSING_LABEL_OR_EMOJI", "A label or emoji is required")


def _check_custom_id(v: _V, p: Path, c: dict[str, Any], seen: set[str]) -> None:
    cid = c.get("custom_id")
    if not isinstance(cid, str) or not cid:
        v.add((*p, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    v.max_len((*p, "custom_id"), cid, 100)
    if cid in seen:
        v.add(
            (*p, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            f"Component custom id cannot be duplicated ({cid})",
        )
    seen.add(cid)


def _check_select(v: _V, p: Path, s: dict[str, Any], seen: set[str]) -> None:
    _check_custom_id(v, p, s, seen)
    v.max_len((*p, "placeholder"), s.get("placeholder"), 150)
    lo = s.get("min_values", 1)
    hi = s.get("max_values", 1)
    if not isinstance(lo, int) or not 0 <= lo <= 25:
        v.add((*p, "min_values"), "NUMBER_TYPE_MAX", "min_values must be between 0 and 25")
    if not isinstance(hi, int) or not 1 <= hi <= 25:
        v.add((*p, "max_values"), "NUMBER_TYPE_MAX", "max_values must be between 1 and 25")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        v.add(
            (*p, "min_values"),
            "SELECT_COMPONENT_MIN_VALUES_GT_MAX",
            "min_values exceeds max_values",
        )
    if s.get("type") == 3:
        options = s.get("options") or []
        if not 1 <= len(options) <= 25:
            v.add((*p, "options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        values: set[str] = set()
        for i, o in enumerate(options):
            op: Path = (*p, "options", i)
            v.length_between((*op, "label"), o.get("label"), 1, 100)
            v.length_between((*op, "value"), o.get("value"), 1, 100)
            v.max_len((*op, "description"), o.get("description"), 100)
            if o.get("value") in values:
                v.add(
                    (*op, "value"),
                    "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    "Option values must be unique",
                )
            values.add(o.get("value"))
        if isinstance(hi, int) and options and hi > len(options):
            v.add((*p, "max_values"), "BASE_TYPE_MAX", "max_values exceeds the number of options")


def _check_row(v: _V, p: Path, row: dict[str, Any], seen: set[str]) -> None:
    children = row.get("components") or []
    if not children:
        v.add((*p, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        return
    kinds = {c.get("type") for c in children}
    if kinds & _SELECT_TYPES:
        if len(children) != 1:
            v.add(
                (*p, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "A select menu must be alone in its action row",
            )
    elif len(children) > 5:
        v.add((*p, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    for i, c in enumerate(children):
        cp: Path = (*p, "components", i)
        t = c.get("type")
        if t == 2:
            _check_button(v, cp, c, seen)
        elif t in _SELECT_TYPES:
            _check_select(v, cp, c, seen)
        else:
            v.add(
                (*cp, "type"),
                "UNION_TYPE_CHOICES",
                f'Value of field "type" must be one of (2, 3, 5, 6, 7, 8). got {t!r}',
            )


def _check_components(v: _V, components: Any, *, v2: bool) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        v.add(("components",), "LIST_TYPE_CONVERT", "Must be an array.")
        return
    seen: set[str] = set()
    if not v2:
        v.max_items(("components",), components, 5)
        for i, row in enumerate(components):
            p: Path = ("components", i)
            if row.get("type") != 1:
                v.add(
                    (*p, "type"),
                    "UNION_TYPE_CHOICES",
                    "Top-level components must be action rows (type 1)",
                )
                continue
            _check_row(v, p, row, seen)
        return
    # Components v2: check the tree generically.
    from .models import iter_components

    flat = iter_components(components)
    if len(flat) > 40:
        v.add(("components",), "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer components in total.")
    for i, c in enumerate(flat):
        t = c.get("type")
        p = ("components", f"#{i}")
        if t == 1:
            _check_row(v, p, c, seen)
        elif t == 10:
            v.max_len((*p, "content"), c.get("content"), 4000)
        elif t == 9 and isinstance(c.get("accessory"), dict) and c["accessory"].get("type") == 2:
            _check_button(v, (*p, "accessory"), c["accessory"], seen)


def check_allowed_mentions(v: _V, am: Any) -> None:
    if am is None:
        return
    parse = am.get("parse", [])
    for i, item in enumerate(parse):
        if item not in ("roles", "users", "everyone"):
            v.add(
                ("allowed_mentions", "parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for key in ("users", "roles"):
        if key in parse and am.get(key):
            v.add(
                ("allowed_mentions", key),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )
        v.max_items(("allowed_mentions", key), am.get(key), 100)


def validate_message(
    payload: dict[str, Any], *, interaction: bool = False, edit: bool = False
) -> list[FieldError]:
    v = _V()
    flags = payload.get("flags") or 0
    v2 = bool(flags & FLAG_IS_COMPONENTS_V2)
    content = payload.get("content")
    if content is not None:
        v.max_len(("content",), content, 2000)
    _check_embeds(v, payload.get("embeds"))
    _check_components(v, payload.get("components"), v2=v2)
    check_allowed_mentions(v, payload.get("allowed_mentions"))
    if v2 and (payload.get("content") or payload.get("embeds")):
        v.add(
            ("content",),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used with IS_COMPONENTS_V2",
        )
    allowed = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
    if interaction:
        allowed |= FLAG_EPHEMERAL
    if flags & ~allowed:
        v.add(("flags",), "MESSAGE_FLAGS_INVALID", f"Invalid message flags {flags}")
    nonce = payload.get("nonce")
    if nonce is not None and isinstance(nonce, str) and len(nonce) > 25:
        v.add(("nonce",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    if not edit and not any(
        payload.get(k)
        for k in ("content", "embeds", "components", "sticker_ids", "attachments", "poll")
    ):
        v.add((), "MESSAGE_EMPTY", "Cannot send an empty message")
    return v.errors


# -- modals --------------------------------------------------------------------


def _check_text_input(
    v: _V, p: Path, ti: dict[str, Any], seen: set[str], *, in_label: bool
) -> None:
    _check_custom_id(v, p, ti, seen)
    if ti.get("style") not in (1, 2):
        v.add((*p, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
    if in_label:
        if ti.get("label") is not None:
            v.add(
                (*p, "label"),
                "TEXT_INPUT_LABEL_IN_LABEL",
                "A text input inside a label component cannot have a label",
            )
    else:
        v.length_between((*p, "label"), ti.get("label"), 1, 45)
    lo, hi = ti.get("min_length"), ti.get("max_length")
    if lo is not None and not 0 <= lo <= 4000:
        v.add((*p, "min_length"), "NUMBER_TYPE_MAX", "min_length must be between 0 and 4000")
    if hi is not None and not 1 <= hi <= 4000:
        v.add((*p, "max_length"), "NUMBER_TYPE_MAX", "max_length must be between 1 and 4000")
    v.max_len((*p, "value"), ti.get("value"), 4000)
    v.max_len((*p, "placeholder"), ti.get("placeholder"), 100)


def validate_modal(data: Any) -> list[FieldError]:
    v = _V()
    if not isinstance(data, dict):
        v.add(("data",), "BASE_TYPE_REQUIRED", "This field is required")
        return v.errors
    v.length_between(("data", "custom_id"), data.get("custom_id"), 1, 100)
    v.length_between(("data", "title"), data.get("title"), 1, 45)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= 5:
        v.add(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    seen: set[str] = set()
    for i, c in enumerate(comps):
        p: Path = ("data", "components", i)
        t = c.get("type")
        if t == 1:
            inner = c.get("components") or []
            if len(inner) != 1:
                v.add((*p, "components"), "BASE_TYPE_BAD_LENGTH", "Must be 1 in length.")
            for j, ti in enumerate(inner):
                if ti.get("type") != 4:
                    v.add(
                        (*p, "components", j, "type"),
                        "UNION_TYPE_CHOICES",
                        "Only text inputs are allowed in modal rows",
                    )
                else:
                    _check_text_input(v, (*p, "components", j), ti, seen, in_label=False)
        elif t == 18:
            v.length_between((*p, "label"), c.get("label"), 1, 45)
            v.max_len((*p, "description"), c.get("description"), 100)
            inner_c = c.get("component") or {}
            it = inner_c.get("type")
            if it == 4:
                _check_text_input(v, (*p, "component"), inner_c, seen, in_label=True)
            elif it in _SELECT_TYPES:
                _check_select(v, (*p, "component"), inner_c, seen)
            else:
                v.add(
                    (*p, "component", "type"),
                    "UNION_TYPE_CHOICES",
                    f"Invalid component type {it!r} in label",
                )
        elif t == 10:
            v.length_between((*p, "content"), c.get("content"), 1, 4000)
        else:
            v.add((*p, "type"), "UNION_TYPE_CHOICES", f"Invalid modal component type {t!r}")
    return v.errors


# -- autocomplete --------------------------------------------------------------


def validate_autocomplete(data: Any) -> list[FieldError]:
    v = _V()
    choices = (data or {}).get("choices")
    if not isinstance(choices, list):
        v.add(("data", "choices"), "BASE_TYPE_REQUIRED", "This field is required")
        return v.errors
    v.max_items(("data", "choices"), choices, 25)
    for i, ch in enumerate(choices):
        p: Path = ("data", "choices", i)
        v.length_between((*p, "name"), ch.get("name"), 1, 100)
        val = ch.get("value")
        if isinstance(val, str):
            v.max_len((*p, "value"), val, 100)
        elif not isinstance(val, int | float) or isinstance(val, bool):
            v.add(
                (*p, "value"),
                "BASE_TYPE_REQUIRED",
                "Choice value must be a string, integer or number",
            )
    return v.errors


# -- application commands ------------------------------------------------------


def _valid_name(name: Any) -> bool:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    return all(ch.isalnum() or ch in "-_" for ch in name)


def _check_name(v: _V, p: Path, name: Any, *, lowercase: bool) -> None:
    if not _valid_name(name):
        v.add(
            p,
            "APPLICATION_COMMAND_INVALID_NAME",
            f"Command name is invalid: {name!r} (must match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$)",
        )
    elif lowercase and name != name.lower():
        v.add(p, "APPLICATION_COMMAND_INVALID_NAME", f"Command name must be lowercase: {name!r}")


def _check_options(v: _V, p: Path, options: Any, *, depth: int) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        v.add(p, "LIST_TYPE_CONVERT", "Must be an array.")
        return
    v.max_items(p, options, 25)
    names: set[str] = set()
    seen_optional = False
    types = [o.get("type") for o in options]
    has_sub = any(t in (1, 2) for t in types)
    if has_sub and not all(t in (1, 2) for t in types):
        v.add(
            p,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive "
            "to all other types",
        )
    for i, o in enumerate(options):
        op: Path = (*p, i)
        t = o.get("type")
        _check_name(v, (*op, "name"), o.get("name"), lowercase=True)
        v.length_between((*op, "description"), o.get("description"), 1, 100)
        if o.get("name") in names:
            v.add(
                (*op, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(o.get("name"))
        if not isinstance(t, int) or not 1 <= t <= 11:
            v.add((*op, "type"), "BASE_TYPE_CHOICES", f"Invalid option type {t!r}")
            continue
        if t == 2:
            if depth != 0:
                v.add(
                    (*op, "type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups can only be top level",
                )
            inner = o.get("options") or []
            if any(x.get("type") != 1 for x in inner):
                v.add(
                    (*op, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Groups may only contain sub-commands",
                )
            _check_options(v, (*op, "options"), inner, depth=depth + 1)
            continue
        if t == 1:
            if depth > 1:
                v.add(
                    (*op, "type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands nested too deep",
                )
            inner = o.get("options") or []
            if any(x.get("type") in (1, 2) for x in inner):
                v.add(
                    (*op, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands cannot contain sub-commands",
                )
            _check_options(v, (*op, "options"), inner, depth=depth + 2)
            continue
        if o.get("required"):
            if seen_optional:
                v.add(
                    (*op, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = o.get("choices")
        if choices:
            if t not in (3, 4, 10):
                v.add(
                    (*op, "choices"),
                    "BASE_TYPE_CHOICES",
                    "Only string, integer and number options can have choices",
                )
            if o.get("autocomplete"):
                v.add(
                    (*op, "autocomplete"),
                    "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES_INVALID",
                    "Autocomplete and choices are mutually exclusive",
                )
            v.max_items((*op, "choices"), choices, 25)
            for j, ch in enumerate(choices):
                cp: Path = (*op, "choices", j)
                v.length_between((*cp, "name"), ch.get("name"), 1, 100)
                if t == 3:
                    v.length_between((*cp, "value"), ch.get("value"), 1, 100)
        if o.get("autocomplete") and t not in (3, 4, 10):
            v.add(
                (*op, "autocomplete"),
                "BASE_TYPE_CHOICES",
                "Only string, integer and number options can autocomplete",
            )
        for key in ("min_length", "max_length"):
            if o.get(key) is not None and (t != 3 or not 0 <= o[key] <= 6000):
                v.add(
                    (*op, key),
                    "NUMBER_TYPE_MAX",
                    f"{key} must be between 0 and 6000 on string options",
                )


def validate_command(cmd: Any, path: Path = ()) -> list[FieldError]:
    v = _V()
    if not isinstance(cmd, dict):
        v.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return v.errors
    ctype = cmd.get("type", 1)
    if ctype == 1:
        _check_name(v, (*path, "name"), cmd.get("name"), lowercase=True)
        v.length_between((*path, "description"), cmd.get("description"), 1, 100)
        _check_options(v, (*path, "options"), cmd.get("options"), depth=0)
    elif ctype in (2, 3):
        name = cmd.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            v.add((*path, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        if cmd.get("description"):
            v.add(
                (*path, "description"),
                "APPLICATION_COMMAND_DESCRIPTION_INVALID",
                "Context menu commands cannot have a description",
            )
        if cmd.get("options"):
            v.add(
                (*path, "options"),
                "APPLICATION_COMMAND_OPTIONS_INVALID",
                "Context menu commands cannot have options",
            )
    elif ctype != 4:
        v.add((*path, "type"), "BASE_TYPE_CHOICES", f"Invalid command type {ctype!r}")
    return v.errors


def validate_command_list(cmds: Any, *, guild: bool) -> list[FieldError]:
    v = _V()
    if not isinstance(cmds, list):
        v.add((), "LIST_TYPE_CONVERT", "Must be an array.")
        return v.errors
    per_type: dict[int, int] = {}
    names: set[tuple[int, str]] = set()
    for i, cmd in enumerate(cmds):
        v.errors.extend(validate_command(cmd, (i,)))
        if not isinstance(cmd, dict):
            continue
        t = cmd.get("type", 1)
        per_type[t] = per_type.get(t, 0) + 1
        key = (t, str(cmd.get("name")))
        if key in names:
            v.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique ({key[1]})",
            )
        names.add(key)
    limits = {1: 100, 2: 15, 3: 15}
    for t, n in per_type.items():
        if n > limits.get(t, 100):
            v.add(
                (),
                "APPLICATION_COMMANDS_TOO_MANY",
                f"Maximum number of {'guild' if guild else 'global'} application commands "
                f"of type {t} reached ({limits.get(t)})",
            )
    return v.errors
