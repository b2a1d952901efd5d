"""The bad-input corpus: a table of hostile or broken requests and socket messages.

Each REST case is one HTTP request and the status it must get (a 4xx with `{"error": ...}`
unless said otherwise); each socket case is one message that must be answered with an
`error` event. Cases are grouped in classes: after each class the tests check that a valid
digit is still answered and that a well-behaved bystander lost nothing.
Large bodies are built lazily (`body` may be a callable) so importing this costs nothing.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

ADMIN = "test-admin-token"  # what devtools/stack.py gives the stack
JSON = {"Content-Type": "application/json"}
BLANK = [[0] * 28 for _ in range(28)]
ZEROS_ID = "0" * 32


@dataclass(frozen=True)
class Rest:
    """One HTTP request and what it must get back."""

    name: str
    method: str
    path: str
    body: bytes | Callable[[], bytes] | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    files: Callable[[], list[tuple[str, tuple[str, bytes, str]]]] | None = None
    data: dict[str, str] | None = None
    status: int = 400
    needle: str = ""  # a word the error message must contain (lower case)
    json_error: bool = True  # False: refused by the HTTP server (gunicorn) before the app

    def request_kwargs(self) -> dict[str, Any]:
        body = self.body() if callable(self.body) else self.body
        kwargs: dict[str, Any] = {"headers": dict(self.headers)}
        if body is not None:
            kwargs["data"] = body
        if self.files is not None:
            kwargs["files"] = self.files()
        if self.data is not None:
            kwargs["data"] = self.data
        return kwargs


@dataclass(frozen=True)
class Sock:
    """One Socket.IO message: an event with args, or a raw packet text after the type digit."""

    name: str
    event: str = "draw"
    args: tuple[Any, ...] = ()
    raw: str | Callable[[], str] | None = None  # the JSON of an EVENT packet
    needle: str = ""
    packet: str | None = None  # a whole Engine.IO message, framing included
    fresh_seq: bool = False  # give the one dict argument a seq newer than any sent before


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def png(size: int = 28, ink: bool = True) -> bytes:
    arr = np.zeros((size, size), np.uint8)
    if ink:
        arr[size // 4 : 3 * size // 4, size // 2 - 1 : size // 2 + 2] = 255
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size in its header (a decompression-bomb shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


def data_url(raw: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def gif() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (28, 28)).save(buf, format="GIF")
    return buf.getvalue()


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def bearer(token: bytes) -> dict[str, bytes]:
    return {"Authorization": b"Bearer " + token, "Content-Type": b"application/json"}


def admin(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Authorization": f"Bearer {ADMIN}", **JSON, **(extra or {})}


def _pixels_body(value: str) -> bytes:
    """A predict body whose first pixel is `value`, written as raw JSON text."""
    row = ",".join(["0"] * 27)
    rows = ",".join([f"[{row},0]"] * 27)
    return f'{{"pixels": [[{value},{row}],{rows}]}}'.encode()


# ----------------------------------------------------------------------------- REST classes
def _deep_json() -> list[Rest]:
    cases = []
    for path, headers in [("/api/predict", JSON), ("/api/feedback", JSON),
                          ("/api/train", admin()), ("/api/batches", JSON)]:
        cases += [
            Rest(f"{path} list nested 5000 deep", "POST", path, nested(5000).encode(),
                 headers, needle="nested"),
            Rest(f"{path} object nested 5000 deep", "POST", path,
                 deep_object(5000).encode(), headers, needle="nested"),
            Rest(f"{path} field nested 100 deep", "POST", path,
                 b'{"pixels": ' + nested(100).encode() + b"}", headers, needle="nested"),
        ]
    return cases


def _json_syntax() -> list[Rest]:
    bodies: list[tuple[str, bytes, str]] = [
        ("empty body", b"", "json"),
        ("not json", b"not json", "json"),
        ("truncated", b'{"pixels": [[0, 0', "json"),
        ("trailing garbage", dumps({"pixels": BLANK}) + b" x", "json"),
        ("invalid utf-8", b'{"pixels": "\xff\xfe"}', "json"),
        ("utf-16 body", json.dumps({"pixels": BLANK}).encode("utf-16"), "json"),
        ("lone surrogate key", b'{"\\ud800": 1}', ""),
        ("NaN pixel", _pixels_body("NaN"), "nan"),
        ("Infinity pixel", _pixels_body("Infinity"), "infinity"),
        ("-Infinity pixel", _pixels_body("-Infinity"), "infinity"),
        ("1e999 pixel", _pixels_body("1e999"), "infinity"),
        ("5000-digit pixel", _pixels_body("9" * 5000), "json"),
        ("4000-digit pixel", _pixels_body("9" * 4000), "number"),
        ("a bare string", b'"pixels"', "object"),
        ("null", b"null", "object"),
        ("true", b"true", "object"),
        ("a number", b"123", "object"),
        ("an empty list", b"[]", "object"),
        ("control characters in a string", b'{"image": "data:\x01\x02"}', "json"),
        ("NUL byte", b'{"pixels": \x00}', "json"),
    ]
    cases = [Rest(f"predict {n}", "POST", "/api/predict", b, JSON, needle=k) for n, b, k in bodies]
    cases += [
        Rest("feedback NaN label", "POST", "/api/feedback",
             b'{"pixels": ' + dumps(BLANK) + b', "label": NaN}', JSON, needle="label"),
        Rest("feedback 5000-digit int label", "POST", "/api/feedback",
             b'{"pixels": ' + dumps(BLANK) + b', "label": ' + b"7" * 5000 + b"}", JSON,
             needle="json"),
        Rest("train truncated body", "POST", "/api/train", b'{"epochs": ', admin(),
             needle="json"),
        Rest("batches truncated body", "POST", "/api/batches", b'{"images": [', JSON,
             needle="json"),
    ]
    return cases


def _duplicate_keys() -> list[Rest]:
    px = dumps(BLANK).decode()
    return [
        Rest("predict duplicate pixels", "POST", "/api/predict",
             f'{{"pixels": {px}, "pixels": {px}}}'.encode(), JSON, needle="duplicate"),
        Rest("feedback duplicate label", "POST", "/api/feedback",
             f'{{"pixels": {px}, "label": 1, "label": 2}}'.encode(), JSON, needle="duplicate"),
        Rest("batches duplicate images", "POST", "/api/batches",
             b'{"images": [], "images": []}', JSON, needle="duplicate"),
        Rest("train duplicate epochs", "POST", "/api/train", b'{"epochs": 1, "epochs": 2}',
             admin(), needle="duplicate"),
        Rest("batch item with duplicate keys", "POST", "/api/batches",
             f'{{"images": [{{"pixels": {px}, "pixels": {px}}}]}}'.encode(), JSON,
             needle="duplicate"),
    ]


def _pixels() -> list[Rest]:
    values: list[tuple[str, Any, str]] = [
        ("a string", "junk", "2-d"),
        ("null", None, "2-d"),
        ("a number", 5, "2-d"),
        ("an object", {"a": 1}, "2-d"),
        ("an empty list", [], "2-d"),
        ("a list of empty rows", [[]] * 10, "between"),
        ("a flat list", [0] * 784, "2-d"),
        ("3-D", [[[0, 0]] * 10] * 10, "2-d"),
        ("7x7", [[0] * 7] * 7, "between"),
        ("8x1025", [[0] * 1025] * 8, "too large"),
        ("1025x8", [[0] * 8] * 1025, "too large"),
        ("ragged rows", [[0] * 10, [0] * 9] * 5, "same length"),
        ("strings of digits", [["1"] * 10] * 10, "numbers"),
        ("unicode digit strings", [["\u0663"] * 10] * 10, "numbers"),
        ("booleans", [[True] * 10] * 10, "numbers"),
        ("nulls", [[None] * 10] * 10, "numbers"),
        ("negative", [[-1] * 10] * 10, "between 0 and 255"),
        ("256", [[256] * 10] * 10, "between 0 and 255"),
        ("10**30", [[10**30] * 10] * 10, "numbers"),
        ("-10**30", [[-(10**30)] * 10] * 10, "numbers"),
        ("1e300", [[1e300] * 10] * 10, "infinity"),
        ("mixed objects", [[{"x": 1}] * 10] * 10, "numbers"),
    ]
    return [Rest(f"pixels {n}", "POST", "/api/predict", dumps({"pixels": v}), JSON, needle=k)
            for n, v, k in values]


def _images() -> list[Rest]:
    values: list[tuple[str, Any, str]] = [
        ("a number", 12, "data url"),
        ("null", None, "data url"),
        ("a list", ["data:"], "data url"),
        ("empty string", "", "empty"),
        ("bad base64", "data:image/png;base64,@@@@", "base64"),
        ("not base64 encoded", "data:image/png,abcd", "base64"),
        ("unicode in base64", "data:image/png;base64,\u0663\u0663\u0663\u0663", "base64"),
        ("control chars in base64", "data:image/png;base64,AA\x01A", "base64"),
        ("corrupt png", data_url(b"\x89PNG\r\n\x1a\nbroken"), "corrupt"),
        ("truncated png", data_url(png()[:60]), "corrupt"),
        ("gif", data_url(gif(), "image/gif"), "png or jpeg"),
        ("1x1 png", data_url(png(1)), "too small"),
        ("png claiming 100000x100000", data_url(png_header_only(100_000, 100_000)), ""),
        ("png claiming 0x0", data_url(png_header_only(0, 0)), ""),
        ("random bytes", data_url(bytes(range(256)) * 4), "corrupt"),
        ("a jpeg header only", data_url(b"\xff\xd8\xff\xe0" + b"\x00" * 40, "image/jpeg"),
         "corrupt"),
        ("image over 8 MiB", "data:image/png;base64," + "A" * (12 * 1024 * 1024), "too large"),
    ]
    cases = [Rest(f"image {n}", "POST", "/api/predict", dumps({"image": v}), JSON, needle=k)
             for n, v, k in values if n != "image over 8 MiB"]
    cases.append(Rest("image over the request limit", "POST", "/api/predict",
                      lambda: dumps({"image": values[-1][1]}), JSON, status=413,
                      needle="too large"))
    return cases


def _fields() -> list[Rest]:
    bodies: list[tuple[str, Any, str]] = [
        ("unknown field", {"pixels": BLANK, "extra": 1}, "unknown"),
        ("both pixels and image", {"pixels": BLANK, "image": data_url(png())}, "exactly one"),
        ("neither", {}, "exactly one"),
        ("unicode field name", {"pixels": BLANK, "p\u00efxels": 1}, "unknown"),
        ("empty field name", {"pixels": BLANK, "": 1}, "unknown"),
        ("100 KB field name", {"pixels": BLANK, "k" * 100_000: 1}, "unknown"),
        ("control chars in field name", {"pixels": BLANK, "a\x00\x1b": 1}, "unknown"),
        ("label on predict", {"pixels": BLANK, "label": 3}, "unknown"),
        ("seq on predict", {"pixels": BLANK, "seq": 3}, "unknown"),
        ("mode on predict", {"pixels": BLANK, "mode": "number", "x": 1}, "unknown"),
    ]
    cases = [Rest(f"predict {n}", "POST", "/api/predict", dumps(b), JSON, needle=k)
             for n, b, k in bodies]
    cases.append(Rest("feedback unknown field", "POST", "/api/feedback",
                      dumps({"pixels": BLANK, "label": 1, "who": "me"}), JSON, needle="unknown"))
    cases.append(Rest("train unknown field", "POST", "/api/train", dumps({"epoch": 2}), admin(),
                      needle="unknown"))
    cases.append(Rest("batches unknown field", "POST", "/api/batches",
                      dumps({"images": [{"pixels": BLANK}], "priority": 1}), JSON,
                      needle="unknown"))
    return cases


def _content_types() -> list[Rest]:
    body = dumps({"pixels": BLANK})
    one_png = lambda: [("image", ("x.png", png(), "image/png"))]  # noqa: E731
    cases = []
    for path in ("/api/predict", "/api/feedback", "/api/batches"):
        cases += [
            Rest(f"{path} text/plain", "POST", path, body, {"Content-Type": "text/plain"},
                 needle="json"),
            Rest(f"{path} form-urlencoded", "POST", path, None, {}, data={"pixels": "[[0]]"},
                 needle="json"),
            Rest(f"{path} no content type", "POST", path, body, {"Content-Type": ""},
                 needle="json"),
            Rest(f"{path} application/xml", "POST", path, b"<pixels/>",
                 {"Content-Type": "application/xml"}, needle="json"),
        ]
    cases += [
        Rest("predict multipart with the wrong field", "POST", "/api/predict",
             files=lambda: [("wrong", ("x.png", b"abc", "image/png"))], needle="'image'"),
        Rest("predict multipart empty file", "POST", "/api/predict",
             files=lambda: [("image", ("x.png", b"", "image/png"))], needle="empty"),
        Rest("predict multipart text file", "POST", "/api/predict",
             files=lambda: [("image", ("x.txt", b"hello world", "text/plain"))],
             needle="corrupt"),
        Rest("predict multipart corrupt png", "POST", "/api/predict",
             files=lambda: [("image", ("x.png", b"\x89PNG\r\n\x1a\nbroken", "image/png"))],
             needle="corrupt"),
        Rest("feedback multipart without label", "POST", "/api/feedback", files=one_png,
             needle="label"),
        Rest("feedback multipart label \u00b2", "POST", "/api/feedback", files=one_png,
             data={"label": "\u00b2"}, needle="label"),
        Rest("batches multipart files under another name", "POST", "/api/batches",
             files=lambda: [("image", ("x.png", png(), "image/png"))], needle="empty"),
        Rest("json with charset utf-16", "POST", "/api/predict",
             json.dumps({"pixels": BLANK}).encode("utf-16"),
             {"Content-Type": "application/json; charset=utf-16"}, needle="json"),
    ]
    return cases


def _labels() -> list[Rest]:
    labels: list[tuple[str, Any]] = [
        ("superscript two", "\u00b2"), ("arabic-indic three", "\u0663"),
        ("fullwidth five", "\uff15"), ("devanagari one", "\u0967"),
        ("5000-digit string", "7" * 5000), ("4301-digit string", "1" * 4301),
        ("two digits", "10"), ("ten", 10), ("minus one", -1), ("float", 3.0),
        ("float string", "3.0"), ("true", True), ("null", None), ("empty string", ""),
        ("leading space", " 3"), ("trailing newline", "3\n"), ("hex", "0x3"),
        ("a list", [3]), ("an object", {"label": 3}), ("10**100", 10**100),
        ("1e999", "1e999"), ("control char", "\x003"),
    ]
    digit = [[0] * 28 for _ in range(28)]
    for r in range(6, 22):
        digit[r][13] = 255
    cases = [Rest(f"feedback label {n}", "POST", "/api/feedback",
                  dumps({"pixels": digit, "label": v}), JSON, needle="label")
             for n, v in labels]
    cases.append(Rest("feedback without label", "POST", "/api/feedback",
                      dumps({"pixels": digit}), JSON, needle="label"))
    cases.append(Rest("feedback on an empty canvas", "POST", "/api/feedback",
                      dumps({"pixels": BLANK, "label": 1}), JSON, needle="empty"))
    return cases


def _auth() -> list[Rest]:
    tokens: list[tuple[str, dict[str, Any]]] = [
        ("no header", JSON),
        ("non-ASCII token (utf-8)", bearer("t\u00e9st-\u00fc".encode())),
        ("non-ASCII token (latin-1)", bearer("t\u00e9st".encode("latin-1"))),
        ("token of 0xff bytes", bearer(b"\xff" * 20)),
        ("empty token", bearer(b"")),
        ("scheme only", {"Authorization": "Bearer", **JSON}),
        ("basic scheme", {"Authorization": "Basic dGVzdDp0ZXN0", **JSON}),
        ("wrong token", {"Authorization": "Bearer nope", **JSON}),
        ("8 KB token", {"Authorization": "Bearer " + "x" * 6000, **JSON}),
        ("the dev default token", {"Authorization": "Bearer dev-admin-token", **JSON}),
    ]
    cases = [Rest(f"train {n}", "POST", "/api/train", b"{}", h, status=401, needle="token")
             for n, h in tokens]
    cases += [Rest(f"activate {n}", "POST", "/api/models/1/activate", None, h, status=401,
                   needle="token") for n, h in tokens[:6]]
    # gunicorn refuses control characters in a header with its own (HTML) 400
    cases.append(Rest("train control char in token", "POST", "/api/train", b"{}",
                      bearer(b"test-admin-token\x01"), status=400, json_error=False))
    return cases


def _train_bodies() -> list[Rest]:
    values: list[tuple[str, str]] = [
        ("string", '"5"'), ("zero", "0"), ("51", "51"), ("minus one", "-1"),
        ("10**100", "1" + "0" * 100), ("5000 digits", "9" * 5000), ("float", "1.5"),
        ("NaN", "NaN"), ("true", "true"), ("a list", "[3]"), ("unicode digit string", '"\u0663"'),
    ]
    cases = [Rest(f"train epochs {n}", "POST", "/api/train", f'{{"epochs": {v}}}'.encode(),
                  admin()) for n, v in values]
    cases.append(Rest("train body a list", "POST", "/api/train", b"[1]", admin(),
                      needle="object"))
    return cases


def _batches() -> list[Rest]:
    return [
        Rest("batch of 50,000 items", "POST", "/api/batches",
             lambda: dumps({"images": [{}] * 50_000}), JSON, needle="too many items"),
        Rest("batch of 20,001 items", "POST", "/api/batches",
             lambda: dumps({"images": [{}] * 20_001}), JSON, needle="too many items"),
        Rest("batch images a string", "POST", "/api/batches", dumps({"images": "a"}), JSON,
             needle="list"),
        Rest("batch images an object", "POST", "/api/batches", dumps({"images": {"a": 1}}),
             JSON, needle="list"),
        Rest("batch images null", "POST", "/api/batches", dumps({"images": None}), JSON,
             needle="list"),
        Rest("batch without images", "POST", "/api/batches", b"{}", JSON, needle="list"),
        Rest("batch images empty", "POST", "/api/batches", dumps({"images": []}), JSON,
             needle="empty"),
        Rest("batch body a list", "POST", "/api/batches", b"[]", JSON, needle="object"),
        Rest("multipart batch of 20,002 empty parts", "POST", "/api/batches",
             files=lambda: [("images", ("x.png", b"", "image/png"))] * 20_002, status=413,
             needle="too many files"),
        # a folder of over 1,000 files must work: Werkzeug's default form-part limit is 1,000
        Rest("multipart batch of 1,001 files works", "POST", "/api/batches",
             files=lambda: [("images", (f"{i}.png", png(), "image/png")) for i in range(1001)],
             status=202),
    ]


def _routes_and_headers() -> list[Rest]:
    return [
        Rest("GET predict", "GET", "/api/predict", status=405, needle="method"),
        Rest("PUT batches", "PUT", "/api/batches", status=405, needle="method"),
        Rest("DELETE feedback", "DELETE", "/api/feedback", status=405, needle="method"),
        Rest("unknown route", "GET", "/api/nothing", status=404, needle="not found"),
        Rest("unknown batch with unicode id", "GET", "/api/batches/\u0663\u00b2", status=404,
             needle="no batch"),
        Rest("unknown batch with a 2,000-char id", "GET", "/api/batches/" + "a" * 2000,
             status=404, needle="no batch"),
        Rest("unknown batch with %00", "GET", "/api/batches/a%00b", status=404,
             needle="no batch"),
        Rest("unknown training job", "GET", "/api/train/nope", status=404, needle="no training"),
        Rest("activate a non-number", "POST", "/api/models/abc/activate", None, admin(),
             status=404, needle="not found"),
        Rest("activate an unknown version", "POST", "/api/models/99999/activate", None,
             admin(), status=404, needle="no model version"),
        Rest("activate a 4000-digit version", "POST", "/api/models/" + "9" * 4000 + "/activate",
             None, admin(), status=404, needle="no model version"),
        Rest("non-ASCII header value", "POST", "/api/predict", b"{}",
             {**JSON, "X-Name": "caf\u00e9 \u00b2".encode()}, needle="exactly one"),
        Rest("non-ASCII content type", "POST", "/api/predict", dumps({"pixels": BLANK}),
             {"Content-Type": "application/j\u00e9son".encode()}, needle="json"),
        Rest("content type with junk parameters", "POST", "/api/predict", b"{}",
             {"Content-Type": 'application/json; charset="\u00b2"'.encode()}, needle="exactly one"),
    ]


def _number_mode() -> list[Rest]:
    """`"mode": "number"` and its `strokes` (shared/number_wire.py), over REST and batches."""
    many_ones = [[0] * (30 * 14) for _ in range(32)]
    for row in many_ones[6:26]:
        for k in range(13):
            row[30 * k + 14 : 30 * k + 17] = [255, 255, 255]  # 13 separate 1s
    bodies: list[tuple[str, Any, str]] = [
        ("mode unknown", {"pixels": BLANK, "mode": "numbers"}, "mode must be"),
        ("mode a number", {"pixels": BLANK, "mode": 1}, "mode must be"),
        ("mode null", {"pixels": BLANK, "mode": None}, "mode must be"),
        ("mode a list", {"pixels": BLANK, "mode": ["number"]}, "mode must be"),
        ("strokes without number mode", {"pixels": BLANK, "strokes": [[0, 1]]}, "number mode"),
        ("strokes a string", {"pixels": BLANK, "mode": "number", "strokes": "0,1"}, "list"),
        ("strokes an object", {"pixels": BLANK, "mode": "number", "strokes": {"a": 1}}, "list"),
        ("a stroke of 3 numbers", {"pixels": BLANK, "mode": "number", "strokes": [[0, 1, 1]]},
         "x0, x1"),
        ("a stroke of strings", {"pixels": BLANK, "mode": "number", "strokes": [["0", "1"]]},
         "x0, x1"),
        ("a stroke of bools", {"pixels": BLANK, "mode": "number", "strokes": [[False, True]]},
         "x0, x1"),
        ("a stroke backwards", {"pixels": BLANK, "mode": "number", "strokes": [[0.9, 0.1]]},
         "x0 <= x1"),
        ("a stroke beyond the drawing", {"pixels": BLANK, "mode": "number",
                                         "strokes": [[0, 1, 0, 2]]}, "y0 <= y1"),
        ("a stroke of 1e999", {"pixels": BLANK, "mode": "number", "strokes": [[0, 1e999]]},
         "x0 <= x1"),
        ("65 strokes", {"pixels": BLANK, "mode": "number", "strokes": [[0, 1]] * 65},
         "too many strokes"),
        ("100,000 strokes", {"pixels": BLANK, "mode": "number", "strokes": [[0, 1]] * 100_000},
         "too many strokes"),
        ("number mode, no drawing", {"mode": "number"}, "exactly one"),
        ("13 digits", {"pixels": many_ones, "mode": "number"}, "too many digits"),
    ]
    cases = [Rest(f"predict {n}", "POST", "/api/predict", dumps(b), JSON, needle=k)
             for n, b, k in bodies]
    cases.append(Rest("batch of only a bad number item", "POST", "/api/batches",
                      dumps({"images": [{"pixels": BLANK, "mode": "numbers"}]}), JSON,
                      status=202))
    return cases


REST_CLASSES: dict[str, Callable[[], list[Rest]]] = {
    "deep JSON": _deep_json,
    "JSON syntax": _json_syntax,
    "duplicate keys": _duplicate_keys,
    "pixels": _pixels,
    "images": _images,
    "fields": _fields,
    "content types": _content_types,
    "feedback labels": _labels,
    "admin token": _auth,
    "train bodies": _train_bodies,
    "batches": _batches,
    "routes and headers": _routes_and_headers,
    "number mode": _number_mode,
}


# ---------------------------------------------------------------------------- socket classes
def _socket_arguments() -> list[Sock]:
    return [
        Sock("draw with no argument", "draw", (), needle="seq"),
        Sock("draw with 2 arguments", "draw", ({"pixels": BLANK, "seq": 1}, 2), needle="seq"),
        Sock("draw with 3 arguments", "draw", ({"pixels": BLANK, "seq": 1}, 2, 3), needle="seq"),
        Sock("draw with null", "draw", (None,), needle="seq"),
        Sock("subscribe with no argument", "subscribe", (), needle="batch_id"),
        Sock("subscribe with 2 arguments", "subscribe", ({"batch_id": ZEROS_ID}, 1),
             needle="batch_id"),
        Sock("subscribe with null", "subscribe", (None,), needle="batch_id"),
        Sock("subscribe with a string", "subscribe", ("abc",), needle="batch_id"),
        Sock("subscribe with a number id", "subscribe", ({"batch_id": 5},), needle="batch_id"),
        Sock("subscribe with an empty id", "subscribe", ({"job_id": ""},), needle="batch_id"),
        Sock("subscribe with a unicode id", "subscribe", ({"batch_id": "\u0663" * 32},),
             needle="batch_id"),
        Sock("subscribe to a 10,000-char room", "subscribe", ({"batch_id": "a" * 10_000},),
             needle="batch_id"),
        Sock("an unknown event", "hello", ({"a": 1},), needle="unknown event"),
        Sock("an unknown event with no argument", "bogus", (), needle="unknown event"),
        Sock("a server-only event name", "prediction", ({"seq": 1},), needle="unknown event"),
    ]


def _socket_seq() -> list[Sock]:
    def draw_raw(seq_text: str) -> Callable[[], str]:
        return lambda: '["draw",{"pixels":' + json.dumps(BLANK) + ',"seq":' + seq_text + "}]"

    return [
        Sock("seq missing", args=({"pixels": BLANK},), needle="seq"),
        Sock("seq a string", args=({"pixels": BLANK, "seq": "1"},), needle="seq"),
        Sock("seq a float", args=({"pixels": BLANK, "seq": 1.5},), needle="seq"),
        Sock("seq a bool", args=({"pixels": BLANK, "seq": True},), needle="seq"),
        Sock("seq null", args=({"pixels": BLANK, "seq": None},), needle="seq"),
        Sock("seq a list", args=({"pixels": BLANK, "seq": [1]},), needle="seq"),
        Sock("seq 2**53", args=({"pixels": BLANK, "seq": 2**53},), needle="seq"),
        Sock("seq -2**53", args=({"pixels": BLANK, "seq": -(2**53)},), needle="seq"),
        Sock("seq of 4,000 digits", raw=draw_raw("9" * 4000), needle="seq"),
        Sock("seq of 4,301 digits", raw=draw_raw("9" * 4301), needle="could not read"),
        Sock("seq of 10,000 digits", raw=draw_raw("9" * 10_000), needle="could not read"),
        Sock("seq 1e999", raw=draw_raw("1e999"), needle="seq"),
        Sock("seq NaN", raw=draw_raw("NaN"), needle="seq"),
        Sock("seq -Infinity", raw=draw_raw("-Infinity"), needle="seq"),
        Sock("seq unicode digits", args=({"pixels": BLANK, "seq": "\u0663"},), needle="seq"),
    ]


def _socket_payloads() -> list[Sock]:
    def frame(name: str, payload: dict[str, Any], needle: str) -> Sock:
        return Sock(name, args=(payload,), needle=needle, fresh_seq=True)

    return [
        Sock("draw a string", args=("not an object",), needle="seq"),
        Sock("draw a list", args=([1, 2],), needle="seq"),
        Sock("draw a number", args=(5,), needle="seq"),
        frame("draw an unknown field", {"pixels": BLANK, "colour": 1}, "unknown"),
        frame("draw both pixels and image", {"pixels": BLANK, "image": data_url(png())},
              "exactly one"),
        frame("draw neither pixels nor image", {}, "exactly one"),
        frame("draw 7x7 pixels", {"pixels": [[0] * 7] * 7}, "between"),
        frame("draw pixels of strings", {"pixels": [["9"] * 9] * 9}, "numbers"),
        frame("draw unicode digit strings", {"pixels": [["\u0663"] * 9] * 9}, "numbers"),
        frame("draw corrupt png", {"image": data_url(b"\x89PNGjunk")}, "corrupt"),
        frame("draw a gif", {"image": data_url(gif(), "image/gif")}, "png or jpeg"),
        frame("draw 1100-wide pixels", {"pixels": [[0] * 1100] * 10}, "too large"),
        frame("draw 10**30 pixels", {"pixels": [[10**30] * 9] * 9}, "numbers"),
        frame("control characters in a field name", {"pixels": BLANK, "\x00\x1b[2J": 1},
              "unknown"),
        Sock("draw nested 5000 deep", raw=lambda: '["draw",' + nested(5000) + "]",
             needle="nested"),
        Sock("draw object nested 5000 deep", raw=lambda: '["draw",' + deep_object(5000) + "]",
             needle="nested"),
        Sock("draw pixels nested 100 deep", raw=lambda: '["draw",{"seq":1,"pixels":'
             + nested(100) + "}]", needle="nested"),
        Sock("draw with duplicate keys",
             raw=lambda: '["draw",{"seq":1,"seq":2,"pixels":' + json.dumps(BLANK) + "}]",
             needle="duplicate"),
        Sock("truncated JSON", raw='["draw",{"seq":1,', needle="could not read"),
        Sock("invalid UTF-8 escape", raw='["draw",{"seq":1,"pixels":"\\ud800\\x"}]',
             needle="could not read"),
        Sock("NaN pixels", raw=lambda: '["draw",{"pixels":[' + ",".join(
            ["[" + ",".join(["NaN"] * 10) + "]"] * 10) + "]}]", needle="seq"),
        frame("draw NaN pixels with a seq", {"pixels": [[float("nan")] * 10] * 10}, "nan"),
        frame("draw infinite pixels", {"pixels": [[float("inf")] * 10] * 10}, "infinity"),
        Sock("binary payload", args=(b"\x89PNG",), needle="seq"),
    ]


def _socket_framing() -> list[Sock]:
    """Messages no Socket.IO client library would send; a hand-written client might."""
    return [
        Sock("packet type x", packet="x", needle="could not read"),
        Sock("packet type 9", packet="9", needle="could not read"),
        Sock("a CONNECT_ERROR from the client", packet="4", needle="could not read"),
        Sock("an event without data", packet="2", needle="could not read"),
        Sock("an event that is an object", packet='2{"draw": 1}', needle="could not read"),
        Sock("an empty event list", packet="2[]", needle="could not read"),
        Sock("an event named by a number", packet="2[1]", needle="could not read"),
        Sock("an ack id of 200 digits", packet="2" + "1" * 200 + '["draw"]',
             needle="could not read"),
    ]


def _socket_number_mode() -> list[Sock]:
    def frame(name: str, payload: dict[str, Any], needle: str) -> Sock:
        return Sock(name, args=(payload,), needle=needle, fresh_seq=True)

    return [
        frame("draw mode unknown", {"pixels": BLANK, "mode": "roman"}, "mode must be"),
        frame("draw strokes in digit mode", {"pixels": BLANK, "strokes": []}, "number mode"),
        frame("draw strokes a number", {"pixels": BLANK, "mode": "number", "strokes": 7},
              "list"),
        frame("draw a stroke of NaN", {"pixels": BLANK, "mode": "number",
                                       "strokes": [[float("nan"), 1]]}, "x0 <= x1"),
        frame("draw 65 strokes", {"pixels": BLANK, "mode": "number",
                                  "strokes": [[0, 1]] * 65}, "too many strokes"),
        frame("draw a nested stroke", {"pixels": BLANK, "mode": "number",
                                       "strokes": [[[0], [1]]]}, "x0, x1"),
    ]


SOCKET_CLASSES: dict[str, Callable[[], list[Sock]]] = {
    "socket arguments": _socket_arguments,
    "socket seq": _socket_seq,
    "socket payloads": _socket_payloads,
    "socket framing": _socket_framing,
    "socket number mode": _socket_number_mode,
}


def corpus_size() -> int:
    """How many cases the corpus holds, REST and socket together."""
    return (sum(len(build()) for build in REST_CLASSES.values())
            + sum(len(build()) for build in SOCKET_CLASSES.values()))
