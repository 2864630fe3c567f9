"""The test driver: acts as Discord users (slash commands, autocomplete, button clicks,
selects, modal submits, a hostile message) by sending the bot interactions, and waits for what
the bot does (its messages, their edits, its commands). Each interaction is an
:class:`~.interactions.Interaction` handle."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import permissions as P
from .context import Context
from .interactions import Interaction
from .models import Channel, Guild, Member, Message, User, snowflake
from .options import build_options, command_data, option_value
from .world import World

if TYPE_CHECKING:
    from .emulator import Emulator

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
# Discord's interaction context types
CONTEXT_NAMES = {0: "a server (GUILD)", 1: "the bot's DM (BOT_DM)", 2: "a private channel"}


def interaction_context(guild: Guild | None, channel: Channel) -> int:
    """0 GUILD, 1 BOT_DM (the DM with the app's bot user), 2 PRIVATE_CHANNEL (group DMs and
    DMs between users)."""
    if guild is not None:
        return 0
    return 1 if channel.with_bot else 2


class Driver:
    """``emu`` is the facade: the driver calls its ``_new_interaction`` and ``_check_can_use``
    (so a subclass's override or a test's monkeypatch of them applies) and hands it to every
    :class:`Interaction`."""

    def __init__(self, emu: Emulator, ctx: Context, world: World, *, command_wait: float) -> None:
        self.emu = emu
        self.ctx = ctx
        self.world = world
        # how long slash() and friends wait for the command to be registered
        self.command_wait = command_wait

    # ======================================================================
    # waiting for the bot
    # ======================================================================
    async def wait_for_commands(
        self, *names: str, guild: Guild | None = None, timeout: float = 10.0
    ) -> None:
        await self.ctx.wait_until(
            lambda: all(self.world.find_command(n, guild) is not None for n in names),
            timeout,
            f"application commands {names} to be registered",
        )

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 10.0,
        *,
        include_interactions: bool = False,
        after: int = 0,
    ) -> Message:
        """Wait for a (non-deleted) message the bot posted in ``channel``.

        By default only plain channel messages (POST /channels/{id}/messages) count.
        ``after``: only messages with an id greater than this one.
        """
        cid = channel if isinstance(channel, int) else channel.id
        found: list[Message] = []

        def check() -> bool:
            for m in self.world.channel_messages(cid):
                if m.id <= after or (m.interaction_id is not None and not include_interactions):
                    continue
                if predicate is None or predicate(m):
                    found.append(m)
                    return True
            return False

        await self.ctx.wait_until(check, timeout, f"a bot message in channel {cid}")
        return found[0]

    async def wait_for_edit(
        self,
        message: Message | int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 10.0,
        *,
        after_version: int = 0,
    ) -> Message:
        """Wait until the message was edited (version > after_version) and predicate holds."""
        mid = message if isinstance(message, int) else message.id

        def check() -> bool:
            m = self.world.messages.get(mid)
            return (
                m is not None and m.version > after_version and (predicate is None or predicate(m))
            )

        await self.ctx.wait_until(check, timeout, f"an edit of message {mid}")
        return self.world.messages[mid]

    # ======================================================================
    # a hostile message
    # ======================================================================
    def craft_bot_message(self, channel: Channel, custom_ids: list[str]) -> Message:
        """A hostile test's message: it shows as the bot's, in ``channel``, with one button per
        custom_id (say, a copy of another server's game buttons). Clicking one sends the bot
        an interaction it never made that button for."""
        buttons = [
            {"type": 2, "style": 1, "label": f"button {n}", "custom_id": custom_id}
            for n, custom_id in enumerate(custom_ids)
        ]
        rows = [{"type": 1, "components": buttons[i : i + 5]} for i in range(0, len(buttons), 5)]
        return self.world.new_message(channel, {"components": rows}, [])

    # ======================================================================
    # interactions
    # ======================================================================
    def new_interaction(
        self,
        itype: int,
        guild: Guild | None,
        channel: Channel,
        user: Member | User,
        data: dict[str, Any],
        *,
        message: Message | None = None,
        locale: str = "en-US",
        name: str = "",
        owners: dict[str, str] | None = None,
    ) -> Interaction:
        """Dispatch INTERACTION_CREATE of type ``itype`` from ``user`` (the facade's
        ``_new_interaction``). ``owners``: its ``authorizing_integration_owners`` (default: those
        of the message's interaction for a component, else the server's or bot DM's install).

        In a server (installed or not) it carries ``guild_id``, ``member`` and context 0; in a DM
        or group DM ``user`` and context 1 (the bot's DM) or 2 (any other private channel). It
        goes to the session of the guild's shard, shard 0 without a guild."""
        session = self.world.shards.for_interaction(guild.id if guild else None)
        if session is None:
            raise AssertionError("the bot is not connected to the emulator's gateway (no session)")
        if channel.deleted:
            raise AssertionError(f"channel {channel.name!r} was deleted")
        if owners is None:
            owners = self._default_owners(guild, channel, user, message)
        iid = snowflake()
        token = f"aW50ZXJhY3Rpb246{iid}:" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.ctx.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
            "authorizing_integration_owners": owners,
            "context": interaction_context(guild, channel),
            "app_permissions": str(self.world.app_permissions(channel)),
        }
        forced_ephemeral = False
        if guild is not None:
            assert isinstance(user, Member), "guild interactions need a Member"
            if user.id not in guild.members:
                raise AssertionError(f"{user.name!r} is not a member of guild {guild.name!r}")
            member_perms = guild.permissions_in(user, channel)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=user.to_payload(permissions=member_perms),
                channel={**channel.to_payload(), "permissions": str(member_perms)},
            )
            # Discord's USE_EXTERNAL_APPS: without it, an app the server did not install
            # answers the member ephemerally.
            forced_ephemeral = not guild.installed and not member_perms & P.USE_EXTERNAL_APPS
        else:
            u = user.user if isinstance(user, Member) else user
            if channel.is_private and not any(r.id == u.id for r in channel.recipients):
                raise AssertionError(f"{u.username!r} is not in that private channel")
            payload.update(user=u.to_payload(), channel=channel.to_payload())
        if message is not None:
            payload["message"] = message.to_payload()
        inter = Interaction(
            self.emu, iid, token, itype, payload, guild, channel, user, command_name=name
        )
        inter.forced_ephemeral = forced_ephemeral
        if message is not None:
            inter.source_message_id = message.id
        self.world.interactions[iid] = inter
        self.world.interactions_by_token[token] = inter
        self.ctx.stats[f"interactions:type{itype}"] += 1
        inter.dispatched_at = time.monotonic()
        session.dispatch("INTERACTION_CREATE", payload)
        return inter

    def _default_owners(
        self,
        guild: Guild | None,
        channel: Channel,
        user: Member | User,
        message: Message | None,
    ) -> dict[str, str]:
        """A component's interaction keeps the owners of the interaction that made its
        message; anything else counts as the server's (or bot DM's) guild install."""
        if message is not None and message.interaction_owners is not None:
            return dict(message.interaction_owners)
        if guild is not None:
            if guild.installed:
                return {"0": str(guild.id)}
            return {"1": str(user.id)}
        return {"0": "0"} if channel.with_bot else {"1": str(user.id)}

    def authorizing_owners(
        self, cmd: dict[str, Any], guild: Guild | None, channel: Channel, user: Member | User
    ) -> dict[str, str]:
        """The ``authorizing_integration_owners`` of ``cmd`` used by ``user`` in ``channel``:
        ``"0"`` (the server's id; ``"0"`` in the bot's DM) when a guild install of the app
        covers it, ``"1"`` (the user's id) when the user's own install does. AssertionError
        when neither does or the command's ``contexts`` leave this place out: Discord would
        not show it there."""
        where = interaction_context(guild, channel)
        name = cmd.get("name", "?")
        types: list[int] = [0]
        contexts: list[int] = [0]
        if cmd.get("guild_id") is None:  # a guild command: that server's install only
            types = list(cmd.get("integration_types") or [0])
            declared = cmd.get("contexts")
            if declared is not None:
                contexts = list(declared)
            elif cmd.get("dm_permission", True) is not False:  # Discord's default: every one
                contexts = [0, 1, 2]
        if where not in contexts:
            raise AssertionError(
                f"/{name} is not offered in {CONTEXT_NAMES[where]} (its contexts: {contexts}); "
                "Discord would not show it there"
            )
        owners: dict[str, str] = {}
        if 0 in types:
            if where == 0 and guild is not None and guild.installed:
                owners["0"] = str(guild.id)
            elif where == 1 and self._shares_a_server_with_the_bot(user):
                owners["0"] = "0"
        if 1 in types and self.world.user_installed(user):
            owners["1"] = str(user.id)
        if not owners:
            installs = {0: "guild", 1: "user"}
            if where == 0 and guild is not None and not guild.installed and 1 not in types:
                why = "the server did not install the app"
            else:
                why = "no install of the app covers it"
            hint = (
                " (install_for_user() the user?)"
                if 1 in types and not self.world.user_installed(user)
                else ""
            )
            who = user.name if isinstance(user, Member) else user.username
            raise AssertionError(
                f"/{name} (integration_types {[installs.get(t, t) for t in types]}) is not "
                f"available to {who!r} in {CONTEXT_NAMES[where]}: {why}{hint}; "
                "Discord would not show it there"
            )
        return owners

    def _shares_a_server_with_the_bot(self, user: Member | User) -> bool:
        return any(user.id in g.members for g in self.world.guilds)

    def _resolve_command(
        self, guild: Guild | None, full_name: str
    ) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
        parts = full_name.strip().lstrip("/").split()
        cmd = self.world.find_command(parts[0], guild)
        if cmd is None:
            raise AssertionError(
                f"no registered slash command {parts[0]!r}; registered: "
                f"{sorted({c['name'] for c in self.world.all_commands(guild)})}"
            )
        options: list[dict[str, Any]] = cmd.get("options") or []
        path: list[str] = []
        for part in parts[1:]:
            sub = next((o for o in options if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                raise AssertionError(
                    f"command {cmd['name']!r} has no subcommand (group) {part!r} at {path}"
                )
            path.append(part)
            options = sub.get("options") or []
        if any(o["type"] in (1, 2) for o in options):
            subs = [o["name"] for o in options if o["type"] in (1, 2)]
            raise AssertionError(f"{full_name!r} needs a subcommand: one of {subs}")
        return cmd, path, options

    def check_can_use(
        self, cmd: dict[str, Any], guild: Guild | None, channel: Channel, user: Member | User
    ) -> None:
        """``user`` could run ``cmd`` in ``channel``: Discord would show it to them (the facade's
        ``_check_can_use``): an install of the app covers it there (see
        :meth:`authorizing_owners`), and in a server the member may use commands."""
        self.authorizing_owners(cmd, guild, channel, user)
        if guild is None or not isinstance(user, Member):
            return
        perms = guild.permissions_in(user, channel)
        if not perms & P.VIEW_CHANNEL:
            raise AssertionError(f"{user.name!r} cannot see channel {channel.name!r}")
        if not perms & P.USE_APPLICATION_COMMANDS:
            raise AssertionError(
                f"{user.name!r} lacks USE_APPLICATION_COMMANDS in {channel.name!r}"
            )
        required = cmd.get("default_member_permissions")
        if guild.installed and required is not None and not P.has(perms, int(required)):
            raise AssertionError(
                f"{user.name!r} cannot use /{cmd['name']} (default_member_permissions={required}); "
                "Discord would not show the command"
            )

    async def _await_command(self, guild: Guild | None, name: str) -> None:
        first = name.strip().lstrip("/").split()[0]
        with contextlib.suppress(AssertionError):
            await self.ctx.wait_until(
                lambda: self.world.find_command(first, guild) is not None,
                self.command_wait,
                f"command {first!r}",
            )

    async def slash(
        self,
        guild: Guild | None,
        channel: Channel,
        member: Member | User,
        command: str,
        options: dict[str, Any] | None = None,
        /,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        """Invoke a slash command (``"trivia play"`` for subcommands) as ``member``: in a server
        (whether it installed the bot or only ``member`` did, see :meth:`install_for_user`), or
        with ``guild=None`` in a DM or group DM channel."""
        await self._await_command(guild, command)
        cmd, path, leaf = self._resolve_command(guild, command)
        self.emu._check_can_use(cmd, guild, channel, member)
        owners = self.authorizing_owners(cmd, guild, channel, member)
        values = {**(options or {}), **kw_options}
        opts, resolved, _ = build_options(leaf, values, guild, channel)
        data = command_data(cmd, path, opts, resolved)
        return self.emu._new_interaction(
            2, guild, channel, member, data, locale=locale, name=command, owners=owners
        )

    async def slash_dm(
        self,
        user: User | Member,
        command: str,
        options: dict[str, Any] | None = None,
        /,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        """``user`` runs a command in their DM with the app's bot user (context BOT_DM): they
        installed the app (:meth:`install_for_user`), or share a server with the bot."""
        u = user.user if isinstance(user, Member) else user
        channel = self.world.bot_dm(u)
        return await self.slash(None, channel, u, command, options, locale=locale, **kw_options)

    async def slash_private(
        self,
        channel: Channel,
        user: User | Member,
        command: str,
        options: dict[str, Any] | None = None,
        /,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        """``user`` runs a command of their user install in a group DM or a DM with another
        user (context PRIVATE_CHANNEL; see :meth:`group_dm`, :meth:`user_dm`)."""
        assert channel.is_private and not channel.with_bot, "not a group DM or a DM between users"
        u = user.user if isinstance(user, Member) else user
        return await self.slash(None, channel, u, command, options, locale=locale, **kw_options)

    async def slash_user_install(
        self,
        guild: Guild,
        channel: Channel,
        member: Member,
        command: str,
        options: dict[str, Any] | None = None,
        /,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        """``member`` runs a command of their user install in a server that did not install
        the bot (``add_guild(..., installed=False)``): ``guild_id`` and ``member`` present,
        ``authorizing_integration_owners`` ``{"1": user id}``."""
        assert not guild.installed, f"{guild.name!r} installed the bot; use slash()"
        return await self.slash(
            guild, channel, member, command, options, locale=locale, **kw_options
        )

    async def autocomplete(
        self,
        guild: Guild | None,
        channel: Channel,
        member: Member | User,
        command: str,
        /,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        timeout: float = 5.0,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> list[dict[str, Any]]:
        """Type ``value`` into option ``focused`` and return the bot's choices."""
        inter = await self.autocomplete_interaction(
            guild, channel, member, command, focused, value, options, locale=locale, **kw_options
        )
        resp = await inter.response(timeout)
        return resp.choices

    async def autocomplete_interaction(
        self,
        guild: Guild | None,
        channel: Channel,
        member: Member | User,
        command: str,
        /,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        locale: str = "en-US",
        **kw_options: Any,
    ) -> Interaction:
        await self._await_command(guild, command)
        cmd, path, leaf = self._resolve_command(guild, command)
        self.emu._check_can_use(cmd, guild, channel, member)
        owners = self.authorizing_owners(cmd, guild, channel, member)
        values = {**(options or {}), **kw_options, focused: value}
        opts, resolved, ftype = build_options(leaf, values, guild, channel, focused=focused)
        data = command_data(cmd, path, opts, resolved)
        inter = self.emu._new_interaction(
            4, guild, channel, member, data, locale=locale, name=command, owners=owners
        )
        inter.focused_type = ftype
        return inter

    def _as_message(self, message: Message | Interaction | int) -> Message:
        if isinstance(message, Interaction):
            return message.message
        if isinstance(message, int):
            return self.world.messages[message]
        return self.world.messages.get(message.id, message)

    def _check_component_access(self, msg: Message, member: Member | User) -> None:
        if msg.deleted:
            raise AssertionError(f"message {msg.id} was deleted")
        if (
            msg.is_ephemeral
            and msg.interaction_user is not None
            and msg.interaction_user.id != member.id
        ):
            raise AssertionError(
                f"message {msg.id} is ephemeral; only {msg.interaction_user.username!r} can use it"
            )

    async def click(
        self,
        message: Message | Interaction | int,
        label_or_custom_id: str,
        member: Member | User,
        channel: Channel | None = None,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Click a button on a message the bot sent."""
        msg = self._as_message(message)
        self._check_component_access(msg, member)
        button = msg.button(label_or_custom_id)
        if button.get("disabled"):
            raise AssertionError(f"button {label_or_custom_id!r} on message {msg.id} is disabled")
        if button.get("style") == 5 or "custom_id" not in button:
            raise AssertionError(
                f"button {label_or_custom_id!r} is a link/premium button; "
                "clicking it sends no interaction"
            )
        channel = channel or self.world.channels[msg.channel_id]
        guild = self.world.find_guild(msg.guild_id)
        data: dict[str, Any] = {"custom_id": button["custom_id"], "component_type": 2}
        if "id" in button:
            data["id"] = button["id"]
        return self.emu._new_interaction(
            3,
            guild,
            channel,
            member,
            data,
            message=msg,
            locale=locale,
            name=str(button["custom_id"]),
        )

    async def select(
        self,
        message: Message | Interaction | int,
        custom_id: str,
        values: list[Any],
        member: Member | User,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Pick ``values`` in a select menu (by custom_id or placeholder)."""
        msg = self._as_message(message)
        self._check_component_access(msg, member)
        sel = next(
            (
                c
                for c in msg.all_components
                if c.get("type") in (3, 5, 6, 7, 8)
                and custom_id in (c.get("custom_id"), c.get("placeholder"))
            ),
            None,
        )
        if sel is None:
            raise AssertionError(f"message {msg.id} has no select {custom_id!r}")
        if sel.get("disabled"):
            raise AssertionError(f"select {custom_id!r} is disabled")
        lo, hi = sel.get("min_values", 1), sel.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise AssertionError(f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
        channel = self.world.channels[msg.channel_id]
        guild = self.world.find_guild(msg.guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        str_values: list[str] = []
        if sel["type"] == 3:
            allowed = [o["value"] for o in sel.get("options", [])]
            for v in values:
                if v not in allowed:
                    raise AssertionError(
                        f"{v!r} is not an option of select {custom_id!r}: {allowed}"
                    )
            str_values = [str(v) for v in values]
        else:
            fake_opt_type = {5: 6, 6: 8, 7: 9, 8: 7}[sel["type"]]
            for v in values:
                str_values.append(
                    option_value(
                        {"type": fake_opt_type, "name": custom_id}, v, guild, resolved, channel
                    )
                )
        data: dict[str, Any] = {
            "custom_id": sel["custom_id"],
            "component_type": sel["type"],
            "values": str_values,
        }
        if resolved:
            data["resolved"] = resolved
        return self.emu._new_interaction(
            3, guild, channel, member, data, message=msg, locale=locale, name=str(sel["custom_id"])
        )

    async def submit_modal(
        self,
        opened_by: Interaction,
        values: dict[str, str],
        member: Member | User | None = None,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Fill in and submit the modal the bot opened in response to ``opened_by``."""
        cb = opened_by.callback
        if cb is None or cb.type != 9:
            raise AssertionError(
                f"{opened_by!r} did not open a modal (response: {cb and cb.type_name})"
            )
        member = member or opened_by.user
        modal = cb.data
        remaining = dict(values)
        out: list[dict[str, Any]] = []

        def fill(comp: dict[str, Any], label: str | None) -> dict[str, Any]:
            cid = comp.get("custom_id")
            key = cid if cid in remaining else (label if label in remaining else None)
            if comp.get("type") == 4:
                value = remaining.pop(key) if key is not None else str(comp.get("value") or "")
                if comp.get("required", True) and not value:
                    raise AssertionError(f"required text input {label or cid!r} left empty")
                lo, hi = comp.get("min_length"), comp.get("max_length")
                if value and (
                    (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)
                ):
                    raise AssertionError(
                        f"text input {label or cid!r}: length must be in [{lo}, {hi}]"
                    )
                res = {"type": 4, "custom_id": cid, "value": value}
            else:
                chosen = remaining.pop(key) if key is not None else []
                res = {
                    "type": comp.get("type"),
                    "custom_id": cid,
                    "values": chosen if isinstance(chosen, list) else [chosen],
                }
            if "id" in comp:
                res["id"] = comp["id"]
            return res

        for row in modal.get("components", []):
            if row.get("type") == 1:
                inner = [fill(c, c.get("label")) for c in row.get("components", [])]
                out.append(
                    {"type": 1, **({"id": row["id"]} if "id" in row else {}), "components": inner}
                )
            elif row.get("type") == 18:
                out.append(
                    {
                        "type": 18,
                        **({"id": row["id"]} if "id" in row else {}),
                        "component": fill(row["component"], row.get("label")),
                    }
                )
            elif row.get("type") == 10:
                out.append({"type": 10, **({"id": row["id"]} if "id" in row else {})})
        if remaining:
            raise AssertionError(
                f"modal {modal.get('custom_id')!r} has no fields {sorted(remaining)}"
            )
        data = {"custom_id": modal["custom_id"], "components": out}
        src = self.world.messages.get(opened_by.source_message_id or 0)
        inter = self.emu._new_interaction(
            5,
            opened_by.guild,
            opened_by.channel,
            member,
            data,
            message=src,
            locale=locale,
            name=str(modal["custom_id"]),
            owners=dict(opened_by.payload["authorizing_integration_owners"]),
        )
        return inter
