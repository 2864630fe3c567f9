"""REST plumbing: the ``@route`` decorator and the router, the request pipeline (auth, the
global and per-bucket rate limits, injected faults, body reading, the schema check), and the
record of what the bot got wrong (violations, unknown routes). The handlers are in routes/."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from . import gateway as gw
from .context import API_PREFIX, Context
from .schema import DiscordSchema
from .validation import FieldError, errors_to_discord
from .world import Upload

log = logging.getLogger("fakediscord")


class ApiError(Exception):
    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def not_found(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON response with exactly ``Content-Type: application/json`` (discord.py compares
    the header verbatim; aiohttp's json_response would append a charset)."""
    out = dict(headers or {})
    out["Content-Type"] = "application/json"
    return web.Response(body=gw.dumps(data).encode(), status=status, headers=out)


@dataclass
class Violation:
    """Something the bot sent that Discord would have rejected."""

    method: str
    path: str
    errors: list[FieldError]
    payload: Any

    def __str__(self) -> str:
        errs = "; ".join(str(e) for e in self.errors)
        body = json.dumps(self.payload, ensure_ascii=False, default=str)
        if len(body) > 20000:
            body = body[:20000] + "...<truncated>"
        return f"{self.method} {self.path}: {errs}\n  payload={body}"


@dataclass
class UnknownRoute:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Request:
    """One REST request, as a handler sees it (``template`` is the matched route's)."""

    method: str
    path: str
    template: str
    params: dict[str, str]
    query: dict[str, str]
    payload: Any
    files: list[Upload] = field(default_factory=list)
    raw: web.Request | None = None


Handler = Callable[[Request], Awaitable[Any]]
AnyHandler = TypeVar("AnyHandler", bound=Callable[..., Awaitable[Any]])


# ==========================================================================
# routing
# ==========================================================================
@dataclass(frozen=True)
class _RouteMark:
    method: str
    template: str
    auth: bool


_MARKS = "__fakediscord_routes__"


def route(method: str, *templates: str, auth: bool = True) -> Callable[[AnyHandler], AnyHandler]:
    """Mark a handler method as serving ``method`` on each of ``templates`` (paths under
    ``/api/v10``, with ``{name}`` for a path parameter, which ``req.params`` holds).

    ``auth``: the route needs the bot token and counts towards the global rate limit; the
    interaction callback and webhook routes (and ``/gateway``) do neither, as on Discord.
    :meth:`Router.include` registers the marked methods of an object."""

    def mark(handler: AnyHandler) -> AnyHandler:
        marks: list[_RouteMark] = getattr(handler, _MARKS, [])
        marks += [_RouteMark(method, t, auth) for t in templates]
        setattr(handler, _MARKS, marks)
        return handler

    return mark


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sorts literal segments before parameters (``/users/@me`` before ``/users/{id}``)."""
        return tuple(1 if "{" in part else 0 for part in self.template.split("/"))


def _route_regex(template: str) -> re.Pattern[str]:
    out = ""
    for part in re.split(r"(\{[a-z_]+\})", template):
        if part.startswith("{"):
            out += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        # candidates by (method, number of "/"): a parameter never spans a "/"
        self._index: dict[tuple[str, int], list[Route]] = {}

    def include(self, *resources: object) -> None:
        """Register every method of ``resources`` marked with :func:`route`."""
        for resource in resources:
            for name, member in vars(type(resource)).items():
                for mark in getattr(member, _MARKS, ()):
                    self.add(mark.method, mark.template, getattr(resource, name), auth=mark.auth)

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        if self.find(method, template) is not None:
            raise ValueError(f"route {method} {template} registered twice")
        r = Route(method, template, _route_regex(template), handler, auth)
        self.routes.append(r)
        candidates = self._index.setdefault((method, template.count("/")), [])
        candidates.append(r)
        candidates.sort(key=lambda c: c.specificity)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self._index.get((method, path.count("/")), ()):
            mo = r.pattern.match(path)
            if mo is not None:
                return r, mo.groupdict()
        return None

    def find(self, method: str, template: str) -> Route | None:
        return next((r for r in self.routes if (r.method, r.template) == (method, template)), None)

    def rebind(self, handler: Handler, replacement: Handler) -> None:
        """Serve ``handler``'s routes with ``replacement`` (which may call ``handler``)."""
        for r in self.routes:
            if r.handler == handler:
                r.handler = replacement


# ==========================================================================
# checks: the schema, the handlers' rules, and the record of violations
# ==========================================================================
class Checks:
    """The validation hooks. A body outside Discord's OpenAPI schema, or one that breaks a
    handler's rules (``check``), is answered 400 / 50035 and recorded in ``violations``."""

    def __init__(self, ctx: Context, schema: DiscordSchema | None) -> None:
        self.ctx = ctx
        # Discord's OpenAPI request schemas (../shared); None in a clone without them.
        self.schema = schema
        self.violations: list[Violation] = []

    def violation(self, req: Request, errors: list[FieldError], payload: Any = None) -> ApiError:
        v = Violation(req.method, req.path, errors, req.payload if payload is None else payload)
        self.violations.append(v)
        self.ctx.stats["violations"] += 1
        log.warning("violation: %s", v)
        self.ctx.notify()
        return ApiError(400, 50035, "Invalid Form Body", errors_to_discord(errors))

    def check(self, req: Request, errors: list[FieldError], payload: Any = None) -> None:
        if errors:
            raise self.violation(req, errors, payload)

    def check_schema(self, req: Request) -> None:
        """The body (a multipart's ``payload_json``) against Discord's OpenAPI schema, before
        the handler's own checks; a request without a body has nothing to check."""
        if self.schema is not None and req.payload is not None:
            errors = self.schema.check(req.method, req.template, req.params, req.payload)
            self.check(req, list[FieldError](errors))


# ==========================================================================
# the request pipeline
# ==========================================================================
@dataclass
class _Injection:
    method: str
    pattern: str
    remaining: int
    status: int
    retry_after: float = 0.0
    is_global: bool = False


@dataclass
class _Bucket:
    limit: int
    window: float
    reset_at: float = 0.0
    used: int = 0


class RestApi:
    """Serves ``/api/v10/...``: matches the route, checks auth, applies the global and the
    per-bucket rate limits and any injected fault, reads the body, runs the schema check and
    the handler, and answers (JSON, 204 for ``None``, or the ``ApiError`` raised)."""

    def __init__(
        self,
        ctx: Context,
        router: Router,
        checks: Checks,
        *,
        global_rate_limit: int,
        bucket_limit: int,
        bucket_window: float,
    ) -> None:
        self.ctx = ctx
        self.router = router
        self.checks = checks
        self.global_rate_limit = global_rate_limit
        self.bucket_limit = bucket_limit
        self.bucket_window = bucket_window
        self.unknown_routes: list[UnknownRoute] = []
        self.request_log: deque[tuple[float, str, str, int]] = deque(maxlen=5000)
        self._injections: list[_Injection] = []
        self._global_window: deque[float] = deque()
        self._buckets: dict[str, _Bucket] = {}

    # ----------------------------------------------------------------------
    # faults a test injects
    # ----------------------------------------------------------------------
    def inject_429(
        self,
        method: str,
        route_pattern: str,
        count: int = 1,
        retry_after: float = 0.1,
        *,
        is_global: bool = False,
    ) -> None:
        """The next ``count`` matching requests get a 429. ``route_pattern`` is a route
        template (``/channels/{channel_id}/messages``) or a glob on the real path."""
        self._injections.append(
            _Injection(method.upper(), route_pattern, count, 429, retry_after, is_global)
        )

    def inject_error(
        self, method: str, route_pattern: str, status: int = 500, count: int = 1
    ) -> None:
        """The next ``count`` matching requests get ``status`` (e.g. 500, 502)."""
        self._injections.append(_Injection(method.upper(), route_pattern, count, status))

    def after_handling(
        self,
        method: str,
        template: str,
        then: Callable[[Any], Awaitable[Any]],
        count: int = 1,
    ) -> None:
        """For the next ``count`` requests to the route ``template``: do what Discord does
        (the message exists, fans see it), then ``await then(result)`` before answering. It may
        sleep (a slow Discord) or raise ``ApiError`` (an answer lost after the work was done,
        which only a nonce makes safe to retry); what it returns is the answer."""
        r = self.router.find(method, template)
        if r is None:
            raise AssertionError(f"the emulator has no route {method} {template}")
        handler = r.handler
        left = [count]

        async def handled_then(req: Request) -> Any:
            result = await handler(req)
            if left[0] > 0:
                left[0] -= 1
                return await then(result)
            return result

        r.handler = handled_then

    def _take_injection(self, method: str, template: str, path: str) -> _Injection | None:
        for inj in self._injections:
            if inj.remaining <= 0 or inj.method not in ("*", method):
                continue
            if inj.pattern == template or fnmatch.fnmatchcase(path, inj.pattern):
                inj.remaining -= 1
                return inj
        return None

    # ----------------------------------------------------------------------
    # rate limits
    # ----------------------------------------------------------------------
    def _ratelimit_429(
        self, retry_after: float, *, scope: str, is_global: bool, bucket: str = ""
    ) -> web.Response:
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": is_global,
            "code": 0,
        }
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.bucket_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": bucket,
                }
            )
        stats = self.ctx.stats
        stats["429"] += 1
        stats["429:global" if is_global else f"429:{scope}"] += 1
        return json_response(body, status=429, headers=headers)

    def _bucket_key(self, template: str, params: dict[str, str]) -> tuple[str, str]:
        bucket_hash = hashlib.sha1(template.encode()).hexdigest()[:16]
        major = "+".join(
            params[k] for k in ("channel_id", "guild_id", "interaction_token") if k in params
        )
        if template.startswith("/webhooks/"):
            major = params.get("interaction_token", "")
        return bucket_hash, f"{bucket_hash}:{major}"

    # ----------------------------------------------------------------------
    # a request
    # ----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        full = request.path
        if not full.startswith(API_PREFIX + "/"):
            return self._unknown_route(method, full)
        path = full[len(API_PREFIX) :]
        matched = self.router.match(method, path)
        if matched is None:
            return self._unknown_route(method, path)
        r, params = matched
        template, handler, needs_auth = r.template, r.handler, r.auth
        stats = self.ctx.stats
        stats[f"{method} {template}"] += 1
        stats["requests"] += 1
        now = time.monotonic()

        if needs_auth and request.headers.get("Authorization") != f"Bot {self.ctx.token}":
            stats["401"] += 1
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)

        # global rate limit (interaction endpoints are exempt, like on Discord)
        if needs_auth and self.global_rate_limit:
            win = self._global_window
            while win and win[0] <= now - 1.0:
                win.popleft()
            if len(win) >= self.global_rate_limit:
                return self._ratelimit_429(
                    win[0] + 1.0 - now + 0.01, scope="global", is_global=True
                )
            win.append(now)

        bucket_hash, bucket_key = self._bucket_key(template, params)
        inj = self._take_injection(method, template, path)
        if inj is not None:
            if inj.status == 429:
                stats["429:injected"] += 1
                return self._ratelimit_429(
                    inj.retry_after,
                    scope="shared" if not inj.is_global else "global",
                    is_global=inj.is_global,
                    bucket=bucket_hash,
                )
            stats["errors:injected"] += 1
            return json_response(
                {"message": f"{inj.status}: injected error", "code": 0}, status=inj.status
            )

        bucket = self._buckets.get(bucket_key)
        if bucket is None:
            bucket = self._buckets[bucket_key] = _Bucket(self.bucket_limit, self.bucket_window)
        if now >= bucket.reset_at:
            bucket.reset_at = now + bucket.window
            bucket.used = 0
        if bucket.used >= bucket.limit:
            return self._ratelimit_429(
                bucket.reset_at - now, scope="user", is_global=False, bucket=bucket_hash
            )
        bucket.used += 1
        reset_after = max(0.0, bucket.reset_at - now)
        rl_headers = {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(bucket.limit - bucket.used),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }

        try:
            payload, files = await self._read_body(request)
            req = Request(
                method, path, template, params, dict(request.query), payload, files, request
            )
            self.checks.check_schema(req)
            result = await handler(req)
        except ApiError as exc:
            stats[str(exc.status)] += 1
            self.request_log.append((time.time(), method, path, exc.status))
            return json_response(exc.body(), status=exc.status, headers=rl_headers)
        self.request_log.append((time.time(), method, path, 200 if result is not None else 204))
        if result is None:
            return web.Response(status=204, headers=rl_headers)
        return json_response(result, headers=rl_headers)

    def _unknown_route(self, method: str, path: str) -> web.Response:
        self.unknown_routes.append(UnknownRoute(method, path))
        self.ctx.stats["unknown_routes"] += 1
        self.ctx.notify()
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Upload]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        files: list[Upload] = []
        if ctype.startswith("multipart/"):
            payload: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not hasattr(part, "read"):
                    continue
                name = getattr(part, "name", None) or ""
                data = await part.read(decode=False)  # type: ignore[union-attr]
                if name == "payload_json":
                    payload = json.loads(bytes(data).decode())
                else:
                    files.append((name, getattr(part, "filename", None) or name, bytes(data)))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError as exc:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc
