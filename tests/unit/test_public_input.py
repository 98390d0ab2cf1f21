"""`public_input`: what the public routes read of a body and accept as JSON, on real
werkzeug requests (as Odoo's HTTP server builds them), without Odoo."""

import io
import json

import pytest
from werkzeug.serving import DechunkedInput
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from public_input import MAX_BODY_BYTES, BodyTooLarge, BodyUnreadable, loads_json, read_body


def declared(body):
    return Request(EnvironBuilder(method="POST", data=body, content_type="application/json").get_environ())


def chunked(body, size=64 * 1024, raw=None):
    """A request whose body is sent chunked, as werkzeug's server hands it over."""
    if raw is None:
        raw = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
        )
        raw += b"0\r\n\r\n"
    environ = EnvironBuilder(method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = DechunkedInput(io.BytesIO(raw))
    environ["wsgi.input_terminated"] = True
    return Request(environ)


@pytest.mark.parametrize("make", [declared, chunked])
def test_a_body_up_to_the_cap_is_read_whole(make):
    body = b"x" * MAX_BODY_BYTES
    request = make(body)
    assert read_body(request) == body
    assert read_body(request) == body, "read again (Odoo's retry of the request) from the environ"


@pytest.mark.parametrize("make", [declared, chunked])
def test_a_body_over_the_cap_is_refused(make):
    with pytest.raises(BodyTooLarge):
        read_body(make(b"x" * (MAX_BODY_BYTES + 1)))


def test_a_chunked_body_is_not_read_past_the_cap():
    stream = io.BytesIO(b"100000\r\n" + b"x" * 0x100000 + b"\r\n")
    for _chunk in range(64):  # 64 MiB announced, chunk after chunk
        stream.write(b"100000\r\n" + b"x" * 0x100000 + b"\r\n")
    request = chunked(b"", raw=stream.getvalue())
    with pytest.raises(BodyTooLarge):
        read_body(request)
    left = len(stream.getvalue()) - request.environ["wsgi.input"]._rfile.tell()
    assert left > 50 * 0x100000, "at most the cap and the drain were read"


def test_broken_chunked_encoding_is_a_bad_request():
    with pytest.raises(BodyUnreadable):
        read_body(chunked(b"", raw=b"zz\r\nabc\r\n"))


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a":' * 33 + b"1" + b"}" * 33,
        b"[" * 33 + b"]" * 33,
        json.dumps({"a": "x\x00"}).encode(),
        json.dumps({"a\x00": 1}).encode(),
        json.dumps(["\x00"]).encode(),
        b"9" * 5000,
        b"\xff",
        b"",
    ],
)
def test_refused_json(body):
    with pytest.raises(ValueError):
        loads_json(body)


def test_accepted_json():
    value = {"a": [{"b": ["\u00e9"]}] * 3, "deep": json.loads('{"a":' * 30 + "1" + "}" * 30)}
    assert loads_json(json.dumps(value)) == value
