"""The answer to a request HTTP itself rejects, before any app sees it: malformed framing (conflicting
or duplicate lengths, a length beside chunked encoding, NUL, CR or LF in a header, a malformed header
line), an unsupported transfer coding or HTTP version. The platform's error envelope, then a close:
after a framing error nothing on the connection can be trusted to start a request."""

from __future__ import annotations

import orjson

from ..envelope import CORRELATION_HEADER, ERROR_CODES, STANDARD_MESSAGES
from ..ids import random_hex


def refusal(status: int, reason: str) -> bytes:
    correlation_id = random_hex()
    item = {"code": ERROR_CODES.get(status, "InvalidInput"), "message": reason, "correlationId": correlation_id}
    body = orjson.dumps(
        {
            "success": False,
            "statusCode": status,
            "message": STANDARD_MESSAGES.get(status, "The request failed."),
            "data": None,
            "errors": [item],
        }
    )
    phrase = {400: "Bad Request", 413: "Content Too Large", 505: "HTTP Version Not Supported"}.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{CORRELATION_HEADER}: {correlation_id}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body
