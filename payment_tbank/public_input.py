"""What the public routes (the bank's webhook, the shop API) accept from the outside:
bodies of at most `MAX_BODY_BYTES`, read without ever holding more than that, and JSON
of at most `MAX_JSON_DEPTH` levels, whatever an attacker sends."""

import json

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a notification is < 2 KiB, an order of 500 items < 200 KiB
MAX_JSON_DEPTH = 32  # an order is 3 levels deep, a notification 2 (its receipt 4)
# Past the cap, up to this much more is read and thrown away before answering 413, so
# that the client, still sending, reads the answer rather than a reset connection; a
# longer body is cut off (the answer closes the connection anyway).
DRAIN_BYTES = 4 * MAX_BODY_BYTES
_ENVIRON_KEY = 'payment_tbank.body'


class BodyTooLarge(RequestEntityTooLarge):
    """The body is over `MAX_BODY_BYTES` (declared by Content-Length, or read)."""


class BodyUnreadable(BadRequest):
    """The body could not be read: broken chunked encoding, or the client went away."""


def read_body(httprequest, limit=MAX_BODY_BYTES):
    """The request's body, at most `limit` bytes, else `BodyTooLarge`.

    Content-Length is checked before anything is read; then at most ``limit + 1``
    bytes are read, which also caps a chunked body (it has no Content-Length, and
    werkzeug 2.2's ``get_data()`` would read it whole). Kept in the request's environ,
    so that Odoo's retry of the request after a concurrency error reads it again.
    """
    environ = httprequest.environ
    if _ENVIRON_KEY in environ:
        return environ[_ENVIRON_KEY]
    # Odoo's HTTPRequest proxies werkzeug's request without its `stream`, the one way
    # to read less than the whole body: it is read from the request it wraps.
    wrapped = getattr(httprequest, '_HTTPRequest__wrapped', httprequest)
    length = httprequest.content_length
    if length is not None and length > limit:
        if length <= limit + DRAIN_BYTES:
            _discard(wrapped.stream, DRAIN_BYTES)
        raise BodyTooLarge()
    cached = getattr(wrapped, '_cached_data', None)  # someone called get_data() already
    data = cached if cached is not None else _read_at_most(wrapped.stream, limit + 1)
    if len(data) > limit:
        _discard(wrapped.stream, DRAIN_BYTES)
        raise BodyTooLarge()
    environ[_ENVIRON_KEY] = data
    return data


def _read_at_most(stream, size):
    """Up to `size` bytes of the body (less only at its end)."""
    parts, left = [], size
    try:
        while left > 0:
            chunk = stream.read(min(64 * 1024, left))
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
    except (OSError, ValueError) as error:  # werkzeug: "Invalid chunk header"...
        raise BodyUnreadable() from error
    return b''.join(parts)


def _discard(stream, budget):
    """Read and drop at most `budget` bytes of what is left of the body."""
    try:
        while budget > 0:
            chunk = stream.read(min(64 * 1024, budget))
            if not chunk:
                return
            budget -= len(chunk)
    except (OSError, ValueError):
        return  # the connection is closed after the answer anyway


def json_refused(value, max_depth=MAX_JSON_DEPTH):
    """Why parsed JSON `value` is refused, or None: objects or arrays nested deeper
    than `max_depth`, or a NUL character in a text (PostgreSQL's text refuses it).
    Iterative, so no recursion limit is involved."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return f"nested more than {max_depth} levels deep"
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif isinstance(child, str) and '\x00' in child:
                return "a text contains a NUL character"
    if isinstance(value, str) and '\x00' in value:
        return "a text contains a NUL character"
    return None


def loads_json(data, max_depth=MAX_JSON_DEPTH, **kwargs):
    """`json.loads` that refuses what a public route must never choke on, all as
    ValueError: invalid text or UTF-8, integers of more than 4300 digits (Python's own
    limit), nesting deeper than `max_depth` (also the one deep enough to exhaust
    Python's recursion, a RecursionError from `json.loads`) and NUL characters."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    reason = json_refused(value, max_depth)
    if reason:
        raise ValueError(reason)
    return value
