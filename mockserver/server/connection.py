"""One client connection: llhttp (httptools) parses strictly, the body is read up to the size limit
and no further, the whole request (headers and body) must arrive within the request timeout, and
the connection stays open for the next request. A request being answered late (latency, a `timeout`
hold) or read slowly is a timer and a buffer here, never a thread: other clients do not wait.
Answers go out together at the end of the loop's pass (outbox.py)."""

from __future__ import annotations

import asyncio
import email.utils
import fcntl
import logging
import socket
import struct
import termios
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httptools

from .outbox import Outbox
from .refusal import refusal
from .wsgi import Answer, Request, call, environ_for

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger("mockserver")

MAX_HEAD = 64 * 1024  # request line and headers; llhttp itself sets no bound
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
NO_LENGTH = (204, 304)
FRAMING_NAME_LENGTHS = frozenset(len(name) for name in (b"transfer-encoding", b"content-length", b"expect"))
ANSWER_NAME_LENGTHS = frozenset(len(name) for name in ("connection", "transfer-encoding", "content-length"))
RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN
LINGER = 2.0  # seconds a closed connection stays half-open after its last answer, at most (see _close)
LINGER_BYTES = 4 * 1024 * 1024  # and how much input it throws away meanwhile, at most
# A client that pipelines (many requests in one send) gets PER_TURN answers, then the other connections
# get theirs before it gets more; at most MAX_QUEUED of its requests wait parsed, the rest of its bytes
# unparsed (fed FEED_SLICE bytes at a time while requests wait).
PER_TURN = 16
MAX_QUEUED = 64
FEED_SLICE = 4096


@dataclass(frozen=True)
class Settings:
    """What every connection of one server shares."""

    app: WSGIApplication
    request_timeout: float
    max_body_size: int
    offload: Callable[[dict[str, Any]], bool]  # True: run the app in the thread pool (it may block)
    executor: Executor
    address: tuple[str, int]
    outbox: Outbox


class RefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class Connection(asyncio.Protocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client: tuple[str, int] = ("", 0)
        self.request: Request | None = None  # being received
        self.head_size = 0
        self.queue: deque[Request | bytes] = deque()  # received in full (or a refusal), in turn
        self.busy = False  # a request is being answered
        self.closing = False
        self.discarding = False  # the rest of the stream is never read
        self.paused = False
        self.write_paused = False
        self.ended = False  # the client sent EOF: answer what it asked, then close
        self.lingered = 0  # bytes thrown away after the answer (see _close)
        self.armed = False  # the request timeout runs: the next request must arrive whole by `deadline`
        self.deadline = 0.0
        self.timer: asyncio.TimerHandle | None = None  # fires at or before the deadline (see _arm)
        self.waiting: asyncio.TimerHandle | None = None  # a late answer or a held fault
        self.output: list[bytes] = []  # written, and handed to the transport when the outbox flushes
        self.unparsed: memoryview | None = None  # received, parsed once fewer requests wait
        self.turn = 0  # requests answered since the connection's turn began
        self.next_turn: asyncio.Handle | None = None
        self.answering = False  # inside _next: a nested call leaves the work to it

    # -- the transport's side ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport: this is a TCP server
        peer = transport.get_extra_info("peername")
        self.client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else ("", 0)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport, self.closing = None, True
        self.output.clear()
        self._disarm()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.waiting is not None:
            self.waiting.cancel()
        if self.next_turn is not None:
            self.next_turn.cancel()
        self.unparsed = None

    def data_received(self, data: bytes) -> None:
        if self.discarding or self.closing:
            self.lingered += len(data)
            if self.lingered > LINGER_BYTES and self.transport is not None:
                self.transport.close()
            return
        self.turn = 0
        if len(data) <= FEED_SLICE:  # most reads: a request or two
            self._feed(data)
        else:
            self._parse(memoryview(data))
        pending = self.busy or self.queue or self.unparsed is not None
        if pending and not self.paused and not self.closing and self.transport is not None:  # closing: it lingers
            self.transport.pause_reading()  # one request at a time; TCP holds back the rest
            self.paused = True

    def _parse(self, data: memoryview) -> None:
        """Feed the parser a slice at a time, and no more once MAX_QUEUED requests wait to be answered:
        the rest is kept until they are."""
        while data:
            if len(self.queue) >= MAX_QUEUED:
                self.unparsed = data
                return
            self._feed(data[:FEED_SLICE])
            data = data[FEED_SLICE:]
            if self.discarding or self.closing:  # refused, or past the size limit: the rest is not read
                return

    def _feed(self, data: bytes | memoryview) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            refused = error.__context__
            if not isinstance(refused, RefusedError):
                raise
            self._refuse(refused.status, refused.reason)
        except httptools.HttpParserUpgrade:
            self._stop_reading()  # nothing is upgraded: the request is answered, then the connection closed
            self._finish_request()
        except httptools.HttpParserError as error:
            self._malformed(str(error))

    def pause_writing(self) -> None:
        """A client that sends but does not read: stop reading until it catches up."""
        self.write_paused = True
        if self.transport is not None and not self.paused:
            self.transport.pause_reading()
            self.paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if not self.busy:
            self._next()

    def eof_received(self) -> bool:
        """The client is done sending (a half-close): what it asked for is still answered, then closed."""
        self.ended = True
        if self.closing:  # lingering after the last answer (see _close): the client is done as well
            if self.transport is not None:
                self.transport.close()
        elif not self.busy and not self.queue and self.unparsed is None:
            self._close()
        return True

    # -- the parser's callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.request = Request("", b"", "")
        self.head_size = 0

    def on_url(self, url: bytes) -> None:
        assert self.request is not None
        self.request.target += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.request is not None
        self.request.headers.append((name, value))
        self.head_size += len(name) + len(value) + 4  # _count_head, inlined: five or more calls a request
        if self.head_size > MAX_HEAD:
            self._count_head(0)

    def _count_head(self, size: int) -> None:
        self.head_size += size
        if self.head_size > MAX_HEAD:
            raise RefusedError(431, f"The request line and headers are larger than {MAX_HEAD} bytes.")

    def on_headers_complete(self) -> None:
        request = self.request
        assert request is not None
        parser = self.parser
        request.method = parser.get_method().decode("ascii")
        request.version = parser.get_http_version()
        if request.version not in ("1.1", "1.0"):
            raise RefusedError(505, f"HTTP/{request.version} is not supported; send HTTP/1.1.")
        request.keep_alive = parser.should_keep_alive()
        declared, expect = None, None
        for name, value in request.headers:
            if len(name) not in FRAMING_NAME_LENGTHS:  # most names: not one of the three read here
                continue
            lowered = name.lower()
            if lowered == b"transfer-encoding":
                if value.strip().lower() != b"chunked":  # llhttp lets `gzip, chunked` through
                    raise RefusedError(400, "Transfer-Encoding other than chunked is not supported.")
                request.chunked = True
            elif lowered == b"content-length":
                declared = int(value)  # llhttp let only one, of digits only, through
            elif lowered == b"expect":
                expect = value.lower()
        if declared is not None and declared > self.settings.max_body_size:
            request.keep_alive = False  # never read: answered at once (413), then the connection closes
            self._finish_request(stop_reading=True)
        elif expect == b"100-continue" and (declared or request.chunked) and not self.busy and self.transport:
            self._write(CONTINUE, close=False)

    def on_body(self, body: bytes) -> None:
        request = self.request
        if self.discarding or request is None:
            return
        room = self.settings.max_body_size + 1 - len(request.body)
        request.body += body[:room]
        if len(body) >= room:  # past the limit: the app answers 413 from limit + 1 bytes, nothing more is read
            request.keep_alive = False
            self._finish_request(stop_reading=True)

    def on_message_complete(self) -> None:
        if not self.discarding:
            self._finish_request()

    # -- from request to answer ------------------------------------------------------------------------

    def _finish_request(self, stop_reading: bool = False) -> None:
        request, self.request = self.request, None
        if stop_reading:
            self._stop_reading()
        if request is None or not request.method:
            return
        self._disarm()
        self.queue.append(request)
        self._next()

    def _malformed(self, reason: str) -> None:
        request = self.request
        if request is not None and request.chunked and request.method and "chunk" in reason.lower():
            request.body_broken, request.keep_alive = True, False  # the app names it: a malformed chunked body
            self._finish_request(stop_reading=True)
            return
        self._refuse(400, f"The request is not valid HTTP/1.1: {reason}.")

    def _stop_reading(self) -> None:
        """Nothing more is read from this connection: not a byte past the size limit or a framing error."""
        self.discarding = True
        if self.transport is not None and not self.paused:
            self.transport.pause_reading()
            self.paused = True

    def _refuse(self, status: int, reason: str) -> None:
        self._stop_reading()
        self.request = None
        self.queue.append(refusal(status, reason))
        self._next()

    def _next(self) -> None:
        """Answer the requests that wait, in turn. An answer given at once calls this again from inside
        (through _send): that call returns, and this loop goes on, so a long pipeline is no deep
        recursion. After PER_TURN answers the rest waits for the loop's next pass."""
        if self.answering:
            return
        self.answering = True
        try:
            while not self.busy and not self.closing and not self.write_paused:  # not while its answers pile up
                if not self.queue:
                    if self.unparsed is None:
                        break
                    unparsed, self.unparsed = self.unparsed, None
                    self._parse(unparsed)
                    continue
                if self.turn >= PER_TURN:  # the other connections' turn first
                    if self.next_turn is None:
                        self.next_turn = self.loop.call_soon(self._take_turn)
                    return
                self.turn += 1
                item = self.queue.popleft()
                if isinstance(item, bytes):
                    self._write(item, close=True)
                    return
                self.busy = True
                self._answer(item)
        finally:
            self.answering = False
        idle = not self.busy and not self.queue and self.unparsed is None
        if idle and not self.closing and self.transport is not None:
            if self.discarding or self.ended:  # an over-limit or broken request was answered, or the client is done
                self._close()
                return
            if not self.armed:
                self._arm()
            if self.paused and not self.write_paused:
                self.paused = False
                self.transport.resume_reading()

    def _take_turn(self) -> None:
        self.next_turn, self.turn = None, 0
        self._next()

    def _answer(self, request: Request) -> None:
        settings = self.settings
        environ = environ_for(request, settings.address, self.client)
        if settings.offload(environ):
            future = self.loop.run_in_executor(settings.executor, call, settings.app, environ)
            future.add_done_callback(lambda done: self._answered(request, _result(done)))
        else:
            self._answered(request, _call(settings.app, environ))

    def _answered(self, request: Request, answer: Answer | None) -> None:
        if self.transport is None:
            return
        if answer is None:  # the app itself failed (logged): an envelope, and a fresh connection
            self._write(refusal(500, "The mock failed unexpectedly; see its log."), close=True)
            return
        directions = answer.directions
        if directions.fault is not None:
            hold = directions.delay + (directions.hold if directions.fault == "timeout" else 0.0)
            self._later(hold, self._break, directions.fault)
        elif directions.delay > 0:
            self._later(directions.delay, self._send, request, answer)
        else:
            self._send(request, answer)

    def _later(self, seconds: float, callback: Callable[..., None], *args: Any) -> None:
        if seconds <= 0:
            callback(*args)
        else:
            self.waiting = self.loop.call_later(seconds, callback, *args)

    def _send(self, request: Request, answer: Answer) -> None:
        self.waiting = None
        close = not request.keep_alive or (self.discarding and not self.queue)  # what was asked before: answered
        lines = [f"HTTP/1.1 {answer.status}\r\nDate: {_Clock.date()}\r\n"]
        has_length = False
        for name, value in answer.headers:
            if len(name) not in ANSWER_NAME_LENGTHS:  # most names: not one of the three looked at here
                lines.append(f"{name}: {value}\r\n")
                continue
            lowered = name.lower()
            if lowered == "connection":
                close = close or value.lower() == "close"
                continue
            if lowered == "transfer-encoding":  # the body is whole: framed by its length
                continue
            has_length = has_length or lowered == "content-length"
            lines.append(f"{name}: {value}\r\n")
        code = int(answer.status[:3])
        if not has_length and code not in NO_LENGTH and code >= 200:
            lines.append(f"Content-Length: {len(answer.body)}\r\n")
        if close:
            lines.append("Connection: close\r\n\r\n")
        else:  # HTTP/1.0 keeps a connection only when told so
            lines.append("Connection: keep-alive\r\n\r\n" if request.version == "1.0" else "\r\n")
        self._write("".join(lines).encode("latin-1") + answer.body, close=close)
        if not close:
            self.busy = False
            self._next()

    def _write(self, data: bytes, close: bool) -> None:
        if self.transport is None:
            return
        if not self.output:
            self.settings.outbox.add(self)
        self.output.append(data)
        if close:
            self._close()

    def flush(self) -> None:
        """Hand what was written to the transport: when the outbox flushes, or before a close."""
        output, self.output = self.output, []
        if output and self.transport is not None:
            self.transport.write(output[0] if len(output) == 1 else b"".join(output))

    def _close(self) -> None:
        """Close once the answer is sent. With input left unread or still coming (a body past the limit,
        a request pipelined after `Connection: close`), closing at once would make the kernel answer
        RST, which destroys the answer before the client reads it. So, like nginx's lingering close but
        bounded: FIN after the answer, then up to LINGER_BYTES are read and thrown away (nothing is
        kept) until the client closes too, for up to LINGER seconds."""
        self.closing = True
        self._disarm()
        transport = self.transport
        if transport is None:
            return
        self.flush()
        if not self.ended and transport.can_write_eof():
            transport.write_eof()
            self.waiting = self.loop.call_later(LINGER, transport.close)
            if self.paused:
                self.paused = False
                transport.resume_reading()
        else:
            transport.close()

    def _break(self, fault: str, deadline: float | None = None) -> None:
        """A fault: RST for connection-reset; for empty-response and a held timeout, a close without a byte.
        The answers before it (pipelined) go out first, and a reset waits (up to LINGER seconds) until
        the client has them: an RST destroys what it has not acknowledged yet."""
        self.waiting = None
        transport = self.transport
        if transport is None:
            return
        self.closing = True
        self.flush()
        if fault == "connection-reset":
            sock = transport.get_extra_info("socket")
            now = self.loop.time()
            deadline = now + LINGER if deadline is None else deadline
            if (transport.get_write_buffer_size() or _unacknowledged(sock)) and now < deadline:
                self.waiting = self.loop.call_later(0.01, self._break, fault, deadline)
                return
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
            transport.abort()
        else:
            transport.close()

    # -- the request timeout -----------------------------------------------------------------------------

    def _arm(self) -> None:
        """Start the request timeout. A timer is scheduled only when none is pending: re-arming after
        each request of a keep-alive connection moves the deadline, and a timer that fires early
        (before a moved deadline) waits again for the rest. Scheduling and cancelling a timer per
        request cost 3-4 us of CPU."""
        self.armed, self.deadline = True, self.loop.time() + self.settings.request_timeout
        if self.timer is None:
            self.timer = self.loop.call_at(self.deadline, self._expire)

    def _disarm(self) -> None:
        self.armed = False  # a pending timer finds it so, and stops

    def _expire(self) -> None:
        """The request (or the next one, on an idle connection) did not arrive whole in time: close."""
        self.timer = None
        if not self.armed or self.transport is None:
            return
        if self.loop.time() < self.deadline:  # re-armed since this timer was set: wait for the rest
            self.timer = self.loop.call_at(self.deadline, self._expire)
            return
        self.armed = False
        if not self.busy:
            self._close()


def _unacknowledged(sock: socket.socket | None) -> int:
    """Bytes in the kernel's send queue the peer has not acknowledged (Linux SIOCOUTQ; 0 elsewhere)."""
    if sock is None or not hasattr(termios, "TIOCOUTQ"):
        return 0
    try:
        queued: int = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 0
    return queued


def _call(app: WSGIApplication, environ: dict[str, Any]) -> Answer | None:
    try:
        return call(app, environ)
    except Exception:
        log.exception("unexpected error while answering %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
        return None


def _result(future: Future[Answer] | asyncio.Future[Answer]) -> Answer | None:
    try:
        return future.result()
    except Exception:
        log.exception("unexpected error while answering a request")
        return None


class _Clock:
    """The Date header, formatted once a second."""

    second, text = 0, ""

    @classmethod
    def date(cls) -> str:
        now = int(time.time())
        if cls.second != now:
            cls.second, cls.text = now, email.utils.formatdate(now, usegmt=True)
        return cls.text
