"""REST: interaction callbacks (types 4/5/6/7/8/9, ``with_response``) within the deadline,
once each, and the interaction's webhook: followups (the first after a defer replaces the
"thinking" message) and reading, editing and deleting @original and followups, for
``webhook_ttl`` seconds. Neither needs the bot token."""

from __future__ import annotations

import copy
import time
from typing import Any

from ..context import Context
from ..interactions import CallbackResponse, Interaction
from ..models import FLAG_EPHEMERAL, FLAG_LOADING, Member, Message
from ..rest import ApiError, Checks, Request, Violation, not_found, route
from ..validation import FieldError, validate_autocomplete, validate_message, validate_modal
from ..world import Upload, World

WEBHOOK_MESSAGE = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"
# Discord: "Apps are limited to 5 followup messages per interaction if it was initiated from a
# user-installed app and isn't installed in the server (meaning the authorizing integration
# owners object only contains USER_INSTALL)"; past it, 40094.
USER_INSTALL_FOLLOWUP_LIMIT = 5

# the callback types Discord accepts for each interaction type
ALLOWED_CALLBACKS = {
    2: {4, 5, 9},  # application command
    3: {4, 5, 6, 7, 9},  # message component
    4: {8},  # autocomplete
    5: {4, 5, 6, 7},  # modal submit
}


class InteractionRoutes:
    def __init__(
        self,
        ctx: Context,
        world: World,
        checks: Checks,
        *,
        interaction_deadline: float,
        webhook_ttl: float,
    ) -> None:
        self.ctx = ctx
        self.world = world
        self.checks = checks
        self.interaction_deadline = interaction_deadline
        self.webhook_ttl = webhook_ttl
        self.latencies: list[float] = []
        self.late_callbacks: list[Interaction] = []

    @route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
    async def callback(self, req: Request) -> Any:
        iid = req.params["interaction_id"]
        inter = self.world.interactions.get(int(iid)) if iid.isdigit() else None
        if inter is None or inter.token != req.params["interaction_token"]:
            raise not_found("interaction", 10062)
        stats = self.ctx.stats
        stats["callbacks"] += 1
        elapsed = time.monotonic() - inter.dispatched_at
        if inter.callback is not None:
            inter.rejected.append({"status": 400, "code": 40060, "payload": req.payload})
            stats["callbacks:double"] += 1
            self.ctx.notify()
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > self.interaction_deadline:
            inter.rejected.append(
                {"status": 404, "code": 10062, "payload": req.payload, "elapsed": elapsed}
            )
            self.late_callbacks.append(inter)
            stats["callbacks:late"] += 1
            self.ctx.notify()
            raise not_found("interaction", 10062)
        body = req.payload if isinstance(req.payload, dict) else {}
        ctype = body.get("type")
        data = body.get("data") or {}
        if ctype not in ALLOWED_CALLBACKS.get(inter.type, set()):
            raise self.checks.violation(
                req,
                [
                    FieldError(
                        ("type",),
                        "INTERACTION_CALLBACK_TYPE_INVALID",
                        f"Callback type {ctype!r} is not valid for interaction type {inter.type}",
                    )
                ],
            )
        check = self.checks.check
        if ctype in (4, 7):
            check(req, validate_message(data, interaction=True, edit=ctype == 7), body)
        elif ctype == 5 and data.get("flags") and data["flags"] & ~FLAG_EPHEMERAL:
            raise self.checks.violation(
                req, [FieldError(("data", "flags"), "MESSAGE_FLAGS_INVALID", "Invalid flags")]
            )
        elif ctype == 8:
            check(req, validate_autocomplete(data), body)
            self._check_choice_types(req, inter, data, body)
        elif ctype == 9:
            check(req, validate_modal(data), body)

        message: Message | None = None
        if ctype in (4, 5):
            flags = int(data.get("flags") or 0)
            payload = (
                dict(data) if ctype == 4 else {"flags": (flags & FLAG_EPHEMERAL) | FLAG_LOADING}
            )
            if ctype == 4:
                payload["flags"] = flags
            if inter.forced_ephemeral:
                payload["flags"] = int(payload.get("flags") or 0) | FLAG_EPHEMERAL
            message = self._interaction_message(inter, payload, req.files if ctype == 4 else [])
            inter.original_id = message.id
        elif ctype in (6, 7):
            inter.original_id = inter.source_message_id
            if ctype == 7:
                src = self.world.messages.get(inter.source_message_id or 0)
                if src is None or src.deleted:
                    raise not_found("Message", 10008)
                message = self.world.edit_message(src, data, req.files)
        latency = time.monotonic() - inter.dispatched_at
        inter.callback = CallbackResponse(int(ctype), copy.deepcopy(data), latency, message)
        self.latencies.append(latency)
        self.ctx.notify()
        if req.query.get("with_response") not in ("1", "true", "True"):
            return None
        result: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": ctype == 5,
                "response_message_ephemeral": bool(message and message.is_ephemeral),
            }
        }
        if message is not None:
            result["resource"] = {"type": ctype, "message": message.to_payload()}
        elif ctype != 6:
            result["resource"] = {"type": ctype}
        return result

    @route("POST", "/webhooks/{application_id}/{interaction_token}", auth=False)
    async def followup(self, req: Request) -> Any:
        inter = self._webhook_interaction(req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        self.checks.check(req, validate_message(payload, interaction=True), payload)
        original = inter.original_message
        replaces_thinking = (
            original is not None
            and original.is_loading
            and inter.callback is not None
            and inter.callback.type == 5
        )
        if (
            not replaces_thinking
            and inter.user_install_only
            and len(inter.followup_ids) >= USER_INSTALL_FOLLOWUP_LIMIT
        ):
            error = FieldError(
                (),
                "MAX_FOLLOWUP_MESSAGES",
                f"follow-up {len(inter.followup_ids) + 1} to an interaction authorized by a user "
                f"install alone (authorizing_integration_owners {inter.owners}); Discord allows "
                f"{USER_INSTALL_FOLLOWUP_LIMIT}",
            )
            self.checks.violations.append(Violation(req.method, req.path, [error], payload))
            self.ctx.stats["violations"] += 1
            self.ctx.stats["followups:over_limit"] += 1
            self.ctx.notify()
            raise ApiError(
                400, 40094, "This interaction has hit the maximum number of follow up messages"
            )
        self.ctx.stats["followups"] += 1
        if inter.forced_ephemeral:
            payload = {**payload, "flags": int(payload.get("flags") or 0) | FLAG_EPHEMERAL}
        if replaces_thinking:
            assert original is not None
            # The first followup after a deferred response replaces the "thinking" message.
            msg = self.world.edit_message(
                original, {k: v for k, v in payload.items() if k != "flags"}, req.files
            )
        else:
            msg = self._interaction_message(inter, payload, req.files)
            inter.followup_ids.append(msg.id)
        self.ctx.notify()
        if req.query.get("wait") in ("1", "true", "True"):
            return msg.to_payload()
        return None

    @route("GET", WEBHOOK_MESSAGE, auth=False)
    async def get_message(self, req: Request) -> Any:
        inter = self._webhook_interaction(req)
        return self._webhook_message(inter, req).to_payload()

    @route("PATCH", WEBHOOK_MESSAGE, auth=False)
    async def edit_message(self, req: Request) -> Any:
        inter = self._webhook_interaction(req)
        msg = self._webhook_message(inter, req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        self.checks.check(req, validate_message(payload, interaction=True, edit=True), payload)
        return self.world.edit_message(msg, payload, req.files).to_payload()

    @route("DELETE", WEBHOOK_MESSAGE, auth=False)
    async def delete_message(self, req: Request) -> Any:
        inter = self._webhook_interaction(req)
        self.world.delete_message(self._webhook_message(inter, req))
        return None

    # ----------------------------------------------------------------------
    def _interaction_message(
        self, inter: Interaction, payload: dict[str, Any], files: list[Upload]
    ) -> Message:
        """A response or followup message of ``inter``."""
        return self.world.new_message(
            inter.channel,
            payload,
            files,
            interaction_id=inter.id,
            interaction_user=inter.user.user if isinstance(inter.user, Member) else inter.user,
            interaction_name=inter.command_name,
            interaction_type=inter.type,
            interaction_owners=dict(inter.owners) or None,
            webhook_id=self.ctx.application_id,
        )

    def _check_choice_types(
        self, req: Request, inter: Interaction, data: dict[str, Any], body: Any
    ) -> None:
        focused = inter.focused_type
        errors = []
        for i, ch in enumerate(data.get("choices") or []):
            val = ch.get("value")
            if focused == 3 and not isinstance(val, str):
                errors.append(
                    FieldError(
                        ("data", "choices", i, "value"),
                        "STRING_TYPE_CONVERT",
                        "Choice value must be a string for a string option",
                    )
                )
            if focused == 4 and (not isinstance(val, int) or isinstance(val, bool)):
                errors.append(
                    FieldError(
                        ("data", "choices", i, "value"),
                        "NUMBER_TYPE_COERCE",
                        "Choice value must be an integer for an integer option",
                    )
                )
        self.checks.check(req, errors, body)

    def _webhook_interaction(self, req: Request) -> Interaction:
        inter = self.world.interactions_by_token.get(req.params["interaction_token"])
        if inter is None or req.params["application_id"] != str(self.ctx.application_id):
            raise not_found("Webhook", 10015)
        if time.monotonic() - inter.dispatched_at > self.webhook_ttl:
            self.ctx.stats["webhooks:expired"] += 1
            raise not_found("Webhook", 10015)
        if inter.callback is None:
            raise not_found("Webhook", 10015)
        return inter

    def _webhook_message(self, inter: Interaction, req: Request) -> Message:
        mid = req.params["message_id"]
        if mid == "@original":
            if inter.original_id is None:
                raise not_found("Message", 10008)
            msg = self.world.messages.get(inter.original_id)
        else:
            msg = self.world.messages.get(int(mid)) if mid.isdigit() else None
            if msg is not None and msg.id not in (inter.original_id, *inter.followup_ids):
                msg = None
        if msg is None or msg.deleted:
            raise not_found("Message", 10008)
        return msg
