"""Building the data of an application command interaction the way Discord does: option
values typed and checked against the registered command (string lengths, number ranges,
choices, channel types), users, members, roles and channels sent as ids with their
``resolved`` objects, and subcommands nested. A test's mistake is an ``AssertionError``."""

from __future__ import annotations

from typing import Any

from .models import Channel, Guild, Member, Role, User


def option_value(
    opt: dict[str, Any],
    value: Any,
    guild: Guild | None,
    resolved: dict[str, dict[str, Any]],
    channel: Channel,
    *,
    focused: bool = False,
) -> Any:
    """``value`` as the interaction carries it for option ``opt`` (an object's id, with the
    object added to ``resolved``); ``focused``: what is typed so far, as a string."""
    t = opt["type"]
    name = opt["name"]
    if focused:
        return str(value)
    if t == 3:
        if not isinstance(value, str):
            raise AssertionError(f"option {name!r} is a string option, got {value!r}")
        lo, hi = opt.get("min_length"), opt.get("max_length")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise AssertionError(
                f"option {name!r}: length must be in [{lo}, {hi}], got {len(value)}"
            )
    elif t == 4:
        if not isinstance(value, int) or isinstance(value, bool):
            raise AssertionError(f"option {name!r} is an integer option, got {value!r}")
    elif t == 10:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise AssertionError(f"option {name!r} is a number option, got {value!r}")
    elif t == 5 and not isinstance(value, bool):
        raise AssertionError(f"option {name!r} is a boolean option, got {value!r}")
    if t in (4, 10):
        lo, hi = opt.get("min_value"), opt.get("max_value")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise AssertionError(f"option {name!r}: value must be in [{lo}, {hi}], got {value}")
    if t in (3, 4, 10) and opt.get("choices"):
        allowed = [c["value"] for c in opt["choices"]]
        if value not in allowed:
            raise AssertionError(f"option {name!r}: {value!r} is not one of the choices {allowed}")
    if t in (6, 9) and isinstance(value, Member | User):
        user = value.user if isinstance(value, Member) else value
        resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
        member = guild.members.get(user.id) if guild else None
        if member is not None and guild is not None:
            resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                with_user=False, permissions=guild.permissions_in(member, channel)
            )
        return str(user.id)
    if t in (8, 9) and isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
        return str(value.id)
    if t == 7 and isinstance(value, Channel):
        types = opt.get("channel_types")
        if types and value.type not in types:
            raise AssertionError(f"option {name!r}: channel type {value.type} not in {types}")
        data = value.to_payload()
        if guild is not None:
            data["permissions"] = str(guild.permissions_in(guild.me, value))
        resolved.setdefault("channels", {})[str(value.id)] = data
        return str(value.id)
    if t in (6, 7, 8, 9, 11):
        raise AssertionError(
            f"option {name!r} (type {t}) needs a Member/User/Role/Channel object, got {value!r}"
        )
    return value


def build_options(
    leaf_options: list[dict[str, Any]],
    values: dict[str, Any],
    guild: Guild | None,
    channel: Channel,
    *,
    focused: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], int | None]:
    """The ``options`` of a (sub)command with ``leaf_options`` given ``values``, their
    ``resolved`` objects, and the type of the ``focused`` option (autocomplete)."""
    known = {o["name"]: o for o in leaf_options}
    for key in values:
        if key not in known:
            raise AssertionError(f"unknown option {key!r}; the command has {sorted(known)}")
    resolved: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    focused_type: int | None = None
    for opt in leaf_options:
        name = opt["name"]
        if name not in values:
            if opt.get("required") and focused is None:
                raise AssertionError(f"required option {name!r} missing")
            continue
        is_focused = name == focused
        if is_focused and not opt.get("autocomplete"):
            raise AssertionError(f"option {name!r} does not have autocomplete enabled")
        item: dict[str, Any] = {
            "name": name,
            "type": opt["type"],
            "value": option_value(opt, values[name], guild, resolved, channel, focused=is_focused),
        }
        if is_focused:
            item["focused"] = True
            focused_type = opt["type"]
        out.append(item)
    return out, resolved, focused_type


def command_data(
    cmd: dict[str, Any],
    path: list[str],
    options: list[dict[str, Any]],
    resolved: dict[str, Any],
) -> dict[str, Any]:
    """The interaction's ``data``: ``options`` nested under the subcommand ``path``."""
    nested = options
    for name in reversed(path):
        sub_type = 1 if name == path[-1] else 2
        nested = [{"name": name, "type": sub_type, "options": nested}]
    data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": cmd.get("type", 1)}
    if nested:
        data["options"] = nested
    if resolved:
        data["resolved"] = resolved
    if cmd.get("guild_id"):
        data["guild_id"] = cmd["guild_id"]
    return data
