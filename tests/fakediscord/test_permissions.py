"""Permission resolution (no server needed)."""

from __future__ import annotations

from tests.fakediscord import permissions as P
from tests.fakediscord.emulator import Emulator


def test_member_without_roles_has_everyone_permissions() -> None:
    emu = Emulator()
    g = emu.add_guild("g")
    m = emu.add_member(g, "plain")
    ch = g.text_channels[0]
    assert g.base_permissions(m) == P.DEFAULT_EVERYONE
    assert emu.permissions_for(m, ch) == P.DEFAULT_EVERYONE


def test_overwrite_order_everyone_roles_member() -> None:
    emu = Emulator()
    g = emu.add_guild("g")
    mod = emu.add_role(g, "mod", P.MANAGE_MESSAGES)
    m = emu.add_member(g, "m", roles=[mod])
    ch = g.text_channels[0]
    emu.set_overwrite(ch, g.everyone, deny=P.SEND_MESSAGES)
    assert not emu.permissions_for(m, ch) & P.SEND_MESSAGES
    assert not emu.permissions_for(m, ch) & P.EMBED_LINKS  # implicit: no send -> no embeds
    emu.set_overwrite(ch, mod, allow=P.SEND_MESSAGES)
    assert emu.permissions_for(m, ch) & P.SEND_MESSAGES
    emu.set_overwrite(ch, m, deny=P.SEND_MESSAGES)
    assert not emu.permissions_for(m, ch) & P.SEND_MESSAGES
    emu.set_overwrite(ch, g.everyone, deny=P.VIEW_CHANNEL)
    emu.remove_overwrite(ch, mod)
    assert emu.permissions_for(m, ch) == 0  # no view -> nothing


def test_administrator_and_owner_bypass() -> None:
    emu = Emulator()
    g = emu.add_guild("g")
    admin = emu.add_member(g, "admin", roles=[emu.add_role(g, "admin", P.ADMINISTRATOR)])
    ch = g.text_channels[0]
    emu.set_overwrite(ch, g.everyone, deny=P.VIEW_CHANNEL | P.SEND_MESSAGES)
    emu.set_overwrite(ch, admin, deny=P.VIEW_CHANNEL)
    assert emu.permissions_for(admin, ch) == P.ALL
    owner = g.members[g.owner_id]
    assert emu.permissions_for(owner, ch) == P.ALL


def test_app_permissions_follow_bot_role_overwrites() -> None:
    emu = Emulator()
    g = emu.add_guild("g")
    ch = g.text_channels[0]
    assert emu.app_permissions(ch) & P.SEND_MESSAGES
    emu.set_overwrite(ch, emu.bot_role(g), deny=P.SEND_MESSAGES)
    assert not emu.app_permissions(ch) & P.SEND_MESSAGES
    assert emu.app_permissions(ch) & P.VIEW_CHANNEL
