"""Which documented media type answers a request's `Accept` (RFC 9110 section 12.5.1).

Quality values are respected (`q=0` refuses a type), the most specific range decides a type's
quality (`text/plain` over `text/*` over `*/*`), ties go to the spec's order. A documented wildcard
(`image/*`) is offered as a concrete type the client accepts, or a common one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

CONCRETE = {"*/*": "application/octet-stream", "image/*": "image/png", "text/*": "text/plain"}
CONCRETE |= {"application/*": "application/octet-stream", "audio/*": "audio/mpeg", "video/*": "video/mp4"}

Range = tuple[str, str, float]  # type, subtype, quality


@lru_cache(maxsize=512)  # clients send the same few Accept headers again and again
def parse_accept(header: str) -> tuple[Range, ...]:
    """`text/html;q=0.5, */*` -> (("text", "html", 0.5), ("*", "*", 1.0)); malformed ranges are skipped."""
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        kind, _, subtype = fields[0].lower().partition("/")
        if not kind or not subtype:
            continue
        quality = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((kind, subtype, quality))
    return tuple(ranges)


def _quality(media_type: str, ranges: Sequence[Range]) -> float:
    kind, _, subtype = media_type.partition("/")
    base = subtype.split("+")[-1] if "+" in subtype else None
    best, specificity = -1.0, -1
    for r_kind, r_subtype, quality in ranges:
        if r_kind == "*" and r_subtype == "*":
            level = 0
        elif r_kind == kind and r_subtype == "*":
            level = 1
        elif r_kind == kind and r_subtype == subtype:
            level = 3
        elif kind == "*" or (subtype == "*" and r_kind == kind):  # a documented wildcard meets a concrete range
            level = 2
        else:
            continue
        if level > specificity:
            best, specificity = quality, level
    if best < 0 and base is not None:  # `application/problem+json` for a client that asks for JSON
        return _quality(f"{kind}/{base}", ranges) * 0.9
    return best


@lru_cache(maxsize=1024)  # (documented types, Accept): a handful of pairs in practice
def negotiate(documented: tuple[str, ...], accept: str | None) -> str | None:
    """The documented media type to send, or None when the client accepts none of them (406).
    Without `Accept` (or with `*/*`) the first JSON one, else the first documented."""
    if not documented:
        return None
    if not accept or not accept.strip():
        return _default(documented)
    ranges = parse_accept(accept)
    if not ranges:
        return _default(documented)
    scored = [(q, -i, t) for i, t in enumerate(documented) if (q := _quality(t, ranges)) > 0]
    if not scored:
        return None
    top = max(q for q, _, _ in scored)
    if all(r[:2] == ("*", "*") for r in ranges):
        return _default(documented)
    return max(entry for entry in scored if entry[0] == top)[2]


def _default(documented: Sequence[str]) -> str:
    return next((t for t in documented if t == "application/json" or t.endswith("+json")), documented[0])


def concrete(media_type: str, accept: str | None) -> str:
    """A Content-Type for a documented type: itself, or for a wildcard what the client named."""
    if "*" not in media_type:
        return media_type
    kind = media_type.split("/", 1)[0]
    for r_kind, r_subtype, quality in parse_accept(accept or ""):
        if quality > 0 and "*" not in (r_kind, r_subtype) and kind in ("*", r_kind):
            return f"{r_kind}/{r_subtype}"
    return CONCRETE.get(media_type, f"{kind}/octet-stream" if kind != "*" else "application/octet-stream")
