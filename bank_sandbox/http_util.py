"""Tiny request/response/router primitives shared by the bank modules."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable


class BodyError(ValueError):
    """The request body could not be read as what the route expects."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any  # email.message.Message (case-insensitive .get)
    body: bytes
    client: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        text = self.body.decode("utf-8-sig") if self.body else ""
        if not text.strip():
            raise BodyError("empty body")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise BodyError(f"not JSON: {exc}") from None

    def json_object(self, default_empty: bool = False) -> dict:
        if default_empty and not self.body.strip():
            return {}
        try:
            value = self.json()
        except UnicodeDecodeError:
            raise BodyError("body is not UTF-8") from None
        if not isinstance(value, dict):
            raise BodyError("JSON body is not an object")
        return value

    def form(self) -> dict[str, str]:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = self.body.decode("latin-1")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers=None) -> Response:
        body = json.dumps(obj, ensure_ascii=False, indent=None).encode("utf-8")
        return cls(status, body, "application/json; charset=utf-8", list(headers or []))

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8")

    @classmethod
    def text(cls, text: str, status: int = 200, content_type="text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode("utf-8"), content_type)

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Response:
        return cls(status, b"", "text/plain; charset=utf-8", [("Location", location)])


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Handler
    kind: str  # "api" (faults apply), "page", "admin"
    owner: str


class Router:
    """Regex routes (``{name}`` placeholders match one path segment) plus per-prefix fallbacks."""

    def __init__(self):
        self.routes: list[Route] = []
        self.fallbacks: list[tuple[str, Handler, str, str]] = []

    @staticmethod
    def compile(pattern: str) -> re.Pattern:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        return re.compile(f"^{regex}$")

    def add(self, method: str, pattern: str, handler: Handler, *, kind: str = "page", owner: str = "core"):
        for m in method.upper().split("|"):
            self.routes.append(Route(m, self.compile(pattern), handler, kind, owner))

    def add_fallback(self, prefix: str, handler: Handler, *, kind: str = "api", owner: str = "core"):
        """``handler`` answers any unmatched path under ``prefix`` (e.g. bank-format 404/405)."""
        self.fallbacks.append((prefix, handler, kind, owner))
        self.fallbacks.sort(key=lambda f: -len(f[0]))

    def resolve(self, method: str, path: str):
        """-> (route, params, allowed_methods). route None if nothing matched this method."""
        allowed = []
        for route in self.routes:
            match = route.pattern.match(path)
            if match:
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    return route, match.groupdict(), []
                allowed.append(route.method)
        return None, {}, allowed

    def fallback(self, path: str):
        for prefix, handler, kind, owner in self.fallbacks:
            if path.startswith(prefix):
                return handler, kind, owner
        return None
