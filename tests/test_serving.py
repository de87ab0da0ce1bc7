"""The server itself, end to end over real sockets, in both modes (one process, and --workers 2):
slow and stalled clients cost other clients nothing, bodies are never read past the limit, faults
break the very connection they were asked on, HTTP is parsed strictly, connections are kept alive."""

from __future__ import annotations

import contextlib
import errno
import http.client
import json
import os
import re
import signal
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import HEADERS, SMTP_PATH, LiveServer, start_server, valid_body
from .test_guard import peak_rss_kib
from .test_live_server import raw_exchange, status_of

pytestmark = pytest.mark.e2e

MODES = {"one-process": (), "workers": ("--workers", "2")}
BODY = json.dumps(valid_body()).encode()
POST = (
    f"POST {SMTP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuth-Key: k\r\nBrand-URL: b.example\r\n"
    f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n"
).encode()


@pytest.fixture(scope="module", params=list(MODES))
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    started = start_server("--quiet", "--request-timeout", "3", *MODES[request.param])
    yield started
    started.stop()


def address(server: LiveServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname or "", parts.port or 0


def connect(server: LiveServer, timeout: float = 10) -> socket.socket:
    return socket.create_connection(address(server), timeout=timeout)


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """`count` responses from a kept-alive socket: status, headers (lower-case names), body."""
    data, responses = b"", []
    while len(responses) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {data!r}")
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(data) < length:
            data += sock.recv(65536)
        responses.append((int(lines[0].split()[1]), headers, data[:length]))
        data = data[length:]
    return responses


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    return read_responses(sock, 1)[0]


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def fast_latencies(server: LiveServer, count: int = 60) -> list[float]:
    """Milliseconds per request of a client on its own kept-alive connection."""
    session, took = requests.Session(), []
    for _ in range(count):
        started = time.perf_counter()
        response = session.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=10)
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201
    return took


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def arm_fault(server: LiveServer, name: str, fault: dict[str, object]) -> None:
    rule = {"when": {"headers": {"X-Fault": name}}, "respond": fault}
    assert requests.post(server.url + "/__mock/expectations", json=rule, timeout=10).status_code == 200


# -- slow clients cost nothing ---------------------------------------------------------------------


def test_slow_answers_stalled_bodies_and_idle_connections_hold_nothing_others_need(server: LiveServer) -> None:
    before = p99(fast_latencies(server, 30))
    slow = [connect(server) for _ in range(250)]
    for sock in slow:  # answered 300-1500 ms late, each
        sock.sendall(POST.replace(b"\r\nAuth-Key", b"\r\nX-Mock-Scenario: slow\r\nAuth-Key") + b"\r\n" + BODY)
    stalled = [connect(server) for _ in range(250)]
    for sock in stalled:  # a body that never comes whole
        sock.sendall(POST + b"\r\n" + BODY[:10])
    slowloris = [connect(server) for _ in range(100)]
    for sock in slowloris:  # headers that never end
        sock.sendall(POST)
    time.sleep(0.25)  # the burst of 600 arrivals is parsed and validated; what they wait for costs nothing
    took = fast_latencies(server)
    assert p99(took) < max(50.0, 3 * before), (before, sorted(took)[-5:])
    for sock in slow[:20]:  # and the slow ones are answered, late
        assert read_response(sock)[0] == 201
    for sock in slow + stalled + slowloris:
        sock.close()


def test_request_timeout_bounds_headers_and_body(server: LiveServer) -> None:
    trickled, headers_only, idle = connect(server), connect(server), connect(server)
    started = time.monotonic()
    headers_only.sendall(POST[:40])
    trickled.sendall(POST + b"\r\n")
    for byte in BODY[:8]:  # a byte every 0.5 s: each arrives within any per-read timeout
        try:
            trickled.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):  # dropped already
            break
        time.sleep(0.5)
    for sock in (trickled, headers_only, idle):
        sock.settimeout(6)
        assert closed_by_server(sock)
        sock.close()
    assert 2.5 < time.monotonic() - started < 5.5  # --request-timeout 3, whatever came in the meantime


# -- bodies are never read past the limit ----------------------------------------------------------


def test_a_declared_length_over_the_limit_is_answered_413_unread_then_closed(server: LiveServer) -> None:
    sock = connect(server, timeout=3)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    sock.sendall(POST.replace(f"Content-Length: {len(BODY)}".encode(), b"Content-Length: 1000000000") + b"\r\n")
    status, headers, body = read_response(sock)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body)["errors"][0]["field"] == "body"
    sent = 0
    try:
        while sent < 200_000_000:
            sent += sock.send(b"x" * 65536)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass
    sock.close()
    assert sent < 16_000_000  # socket buffers' worth: the server read none of it


def test_twenty_clients_declaring_a_gigabyte_each_leave_the_memory_flat(server: LiveServer) -> None:
    if "--workers" in server.process.args:
        pytest.skip("one process to measure; the workers run the same server")
    before = peak_rss_kib(server)
    clients = [connect(server, timeout=2) for _ in range(20)]
    declared = POST.replace(f"Content-Length: {len(BODY)}".encode(), b"Content-Length: 1000000000")
    for sock in clients:
        sock.sendall(declared + b"\r\n")
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:  # every client pushes as fast as it is let
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.send(b"x" * 65536)
    for sock in clients:
        sock.close()
    assert peak_rss_kib(server) - before < 20 * 1024  # KiB: before this server, 368 MB more


def test_an_oversized_chunked_body_stops_being_read_at_the_limit(server: LiveServer) -> None:
    sock = connect(server, timeout=3)
    head = POST.replace(f"Content-Length: {len(BODY)}".encode(), b"Transfer-Encoding: chunked")
    sock.sendall(head + b"\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    sent = 0
    try:
        while sent < 200_000_000:
            sock.sendall(chunk)
            sent += len(chunk)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass
    assert sent < 20_000_000  # the limit (1 MiB) plus socket buffers
    try:
        status, headers, _ = read_response(sock)
        assert status == 413 and headers["connection"] == "close"
    except ConnectionResetError:  # the 413 may be lost to the RST of a close with unread input
        pass
    sock.close()


# -- faults break the very connection they were asked on ------------------------------------------


def send_with(server: LiveServer, fault: str, timeout: float = 5) -> socket.socket:
    sock = connect(server, timeout=timeout)
    sock.sendall(POST + f"X-Fault: {fault}\r\n\r\n".encode() + BODY)
    return sock


def test_connection_reset_is_a_real_rst(server: LiveServer) -> None:
    arm_fault(server, "reset", {"fault": "connection-reset"})
    sock = send_with(server, "reset")
    with pytest.raises(ConnectionResetError) as raised:
        sock.recv(65536)
    assert raised.value.errno == errno.ECONNRESET
    sock.close()


def test_empty_response_is_no_byte_then_eof(server: LiveServer) -> None:
    arm_fault(server, "empty", {"fault": "empty-response"})
    sock = send_with(server, "empty")
    assert sock.recv(65536) == b""
    sock.close()


def test_malformed_json_is_cut_off(server: LiveServer) -> None:
    arm_fault(server, "cut", {"fault": "malformed-json"})
    sock = send_with(server, "cut")
    status, headers, body = read_response(sock)
    assert status == 201 and headers["content-type"] == "application/json" and body.startswith(b'{"success"')
    with pytest.raises(ValueError):
        json.loads(body)
    sock.close()


def test_timeout_holds_the_connection_then_closes_without_a_byte(server: LiveServer) -> None:
    arm_fault(server, "hold", {"fault": "timeout", "hold": 1})
    started = time.monotonic()
    sock = send_with(server, "hold")
    assert sock.recv(65536) == b""
    assert 0.9 < time.monotonic() - started < 4
    sock.close()


# -- strict HTTP ----------------------------------------------------------------------------------

SMUGGLING = {
    "two different lengths": b"Content-Length: 5\r\nContent-Length: 6\r\n",
    "the same length twice": b"Content-Length: 5\r\nContent-Length: 5\r\n",
    "a length and chunked": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    "chunked and a length": b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    "a coding before chunked": b"Transfer-Encoding: gzip, chunked\r\n",
    "chunked twice": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    "a space before the colon": b"Transfer-Encoding : chunked\r\n",
    "a signed length": b"Content-Length: +5\r\n",
    "a list of lengths": b"Content-Length: 5, 5\r\n",
    "NUL in a value": b"X-Note: a\x00b\r\n",
    "CR in a value": b"X-Note: a\rb\r\n",
    "an escape in a value": b"X-Note: a\x1bb\r\n",
    "a line without a colon": b"Not a header line\r\nX-Later: 1\r\n",
    "a folded line": b"X-Note: a\r\n  folded\r\n",
}


@pytest.mark.parametrize("shape", list(SMUGGLING))
def test_ambiguous_or_malformed_framing_is_400_and_close(server: LiveServer, shape: str) -> None:
    head = f"POST {SMTP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuth-Key: k\r\nBrand-URL: b\r\n".encode()
    sock = connect(server, timeout=5)
    sock.sendall(head + SMUGGLING[shape] + b"\r\n0\r\n\r\nGET /__mock/journal HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = read_response(sock)
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body)["statusCode"] == 400
    assert closed_by_server(sock)  # what followed was never taken for a request
    sock.close()


@pytest.mark.parametrize("line", [b"GET /\r\n", b"GET / HTTP/2.0\r\n", b"GET / HTTP/1.1\n", b"BREW / HTTP/1.1\r\n"])
def test_request_lines_outside_http_1_are_refused(server: LiveServer, line: bytes) -> None:
    answer = raw_exchange(server.url, line + b"Host: x\r\n\r\n", timeout=5)
    assert status_of(answer) in (400, 505) and b"Connection: close" in answer


def test_a_huge_head_is_431(server: LiveServer) -> None:
    answer = raw_exchange(server.url, b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n")
    assert status_of(answer) == 431


# -- keep-alive, headers --------------------------------------------------------------------------


def test_connections_are_kept_alive_and_no_server_banner_is_sent(server: LiveServer) -> None:
    host, port = address(server)
    connection = http.client.HTTPConnection(host, port, timeout=5)
    connection.connect()
    local = connection.sock.getsockname()
    for _ in range(5):
        connection.request("POST", SMTP_PATH, body=BODY, headers={**HEADERS, "Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 201 and response.read().startswith(b'{"success":true')
        assert response.getheader("Server") is None and response.getheader("Connection") is None
        assert response.getheader("Date")
        assert connection.sock.getsockname() == local  # the same connection throughout
    connection.request("GET", "/__mock/journal?limit=1")
    assert connection.getresponse().status == 200 and connection.sock.getsockname() == local
    connection.close()


def test_pipelined_requests_are_answered_in_order(server: LiveServer) -> None:
    sock = connect(server, timeout=5)
    missing = f"GET {SMTP_PATH}/nope/deeper HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sock.sendall(POST + b"\r\n" + BODY + missing + POST + b"\r\n" + BODY)
    assert [status for status, _, _ in read_responses(sock, 3)] == [201, 404, 201]
    sock.close()


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_answers_written_before_a_close_or_a_fault_go_out_first(server: LiveServer) -> None:
    """Answers wait in the outbox until the loop's pass ends; a close or a fault on the same
    connection must send them first, not drop them."""
    arm_fault(server, "empty-after", {"fault": "empty-response"})
    conflicting = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
    faulty = POST + b"X-Fault: empty-after\r\n\r\n" + BODY
    continued = POST + b"Expect: 100-continue\r\n\r\n" + BODY
    for pipelined, statuses in [
        (conflicting, [201, 400]),  # a refusal, then the close
        (faulty, [201]),  # a fault that breaks the connection without a byte
        (continued + b"GET /unknown HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [201, 100, 201, 404]),
    ]:
        sock = connect(server, timeout=5)
        sock.sendall(POST + b"\r\n" + BODY + pipelined)
        data = read_until_closed(sock)
        sock.close()
        assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [str(status).encode() for status in statuses], data


def test_a_long_pipeline_waiting_behind_a_slow_answer_is_answered_whole(server: LiveServer) -> None:
    """Each answer given at once used to start the next from inside itself: 242 deep, Python's
    recursion limit stopped the connection for good."""
    sock = connect(server, timeout=10)
    sock.sendall(POST + b"X-Mock-Scenario: slow\r\n\r\n" + BODY + b"GET /nope/deeper HTTP/1.1\r\n\r\n" * 2000)
    statuses = [status for status, _, _ in read_responses(sock, 2001)]
    sock.close()
    assert statuses == [201] + [404] * 2000


def test_what_was_asked_before_a_refusal_or_a_close_is_answered(server: LiveServer) -> None:
    """A refusal, an over-limit body or `Connection: close` later in the same send used to close the
    connection with the first answer, and the requests in between were never answered."""
    slow = POST + b"X-Mock-Scenario: slow\r\n\r\n" + BODY
    between = POST + b"\r\n" + BODY + b"GET /nope/deeper HTTP/1.1\r\n\r\n"
    over = POST.replace(f"Content-Length: {len(BODY)}".encode(), b"Content-Length: 2000000000") + b"\r\n"
    for last, status in [(b"GARBAGE\r\n\r\n", 400), (over, 413), (POST + b"Connection: close\r\n\r\n" + BODY, 201)]:
        sock = connect(server, timeout=5)
        sock.sendall(slow + between + last + POST + b"\r\n" + BODY)  # the last request is never read
        data = read_until_closed(sock)
        sock.close()
        assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [b"201", b"201", b"404", str(status).encode()], data


def test_a_client_pipelining_thousands_of_requests_does_not_stall_the_others(server: LiveServer) -> None:
    """One read of 10,000 small pipelined requests used to be answered in one go (0.6 s in which no
    other client was served); now each connection answers PER_TURN, then the others get their turn."""
    stop = threading.Event()

    def pipeline() -> None:
        with connect(server, timeout=10) as sock:
            batch = b"GET /nope/deeper HTTP/1.1\r\nHost: x\r\n\r\n" * 10_000
            while not stop.is_set():
                sock.sendall(batch)
                answered, tail = 0, b""
                while answered < 10_000:
                    chunk = tail + sock.recv(1 << 20)
                    answered += chunk.count(b"HTTP/1.1 404")
                    tail = chunk[-12:]

    pipeliner = threading.Thread(target=pipeline, daemon=True)
    pipeliner.start()
    time.sleep(0.3)
    try:
        took = fast_latencies(server, 200)
    finally:
        stop.set()
        pipeliner.join(20)
    assert max(took) < 150, f"slowest {max(took):.0f} ms"  # before: 600-1200 ms


def test_a_client_that_never_reads_its_answers_is_not_answered_further(server: LiveServer) -> None:
    """Answers went on being made while they piled up unsent: 3 such clients took 1.8 GB."""
    if "--workers" in server.process.args:
        pytest.skip("one process to measure; the workers run the same server")
    before = peak_rss_kib(server)
    asks = b"GET /__mock/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 1500  # 28 KB answers, 42 MB
    clients = [connect(server, timeout=5) for _ in range(3)]
    for sock in clients:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(asks)
    time.sleep(3)
    assert p99(fast_latencies(server, 30)) < 100
    assert peak_rss_kib(server) - before < 30 * 1024  # KiB
    for sock in clients:
        sock.close()


def test_a_request_pipelined_after_connection_close_does_not_cut_the_answer_short(server: LiveServer) -> None:
    """Closed at once, the server's kernel answered the late request with RST, and the unread tail of
    a large answer was lost; now the server lingers (FIN, reads and drops) until the client closes."""
    session = requests.Session()
    for _ in range(600):  # a journal read of several hundred KB
        session.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=10)
    sock = connect(server, timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(b"GET /__mock/journal HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    time.sleep(0.2)
    sock.sendall(b"GET /nope/deeper HTTP/1.1\r\nHost: x\r\n\r\n")  # after the close: never answered
    time.sleep(0.2)
    data = read_until_closed(sock)
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    assert length > 300_000 and len(body) == length


def test_a_reset_waits_until_the_client_has_the_answers_before_it(server: LiveServer) -> None:
    """An RST destroys what the client has not acknowledged: 127 KB of a 820 KB answer arrived."""
    session = requests.Session()
    for _ in range(600):  # a journal read of several hundred KB
        session.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=10)
    arm_fault(server, "reset-after", {"fault": "connection-reset"})
    sock = connect(server, timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(
        b"GET /__mock/journal HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + POST + b"X-Fault: reset-after\r\n\r\n" + BODY
    )
    time.sleep(0.3)  # an ordinary client, a little slow to read
    data, reset = b"", False
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        reset = True
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    assert reset and length > 300_000 and len(body) == length


def test_a_closed_connection_is_released_as_soon_as_the_client_closes(server: LiveServer) -> None:
    if "--workers" in server.process.args:
        pytest.skip("one process to count")
    before = len(os.listdir(f"/proc/{server.process.pid}/fd"))
    for _ in range(50):
        with connect(server, timeout=5) as sock:
            sock.sendall(POST + b"Connection: close\r\n\r\n" + BODY)
            assert b"201" in read_until_closed(sock)[:12]
    time.sleep(0.1)
    assert len(os.listdir(f"/proc/{server.process.pid}/fd")) <= before + 2  # not held for the 2 s linger


def test_expect_100_continue_gets_its_interim_answer(server: LiveServer) -> None:
    sock = connect(server, timeout=5)
    sock.sendall(POST + b"Expect: 100-continue\r\n\r\n")
    assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(BODY)
    assert read_response(sock)[0] == 201
    sock.close()


def test_http_1_0_closes_after_its_answer(server: LiveServer) -> None:
    answer = raw_exchange(server.url, POST.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\n" + BODY)
    assert status_of(answer) == 201 and b"Connection: close" in answer


def test_a_client_that_half_closes_still_gets_its_late_answer(server: LiveServer) -> None:
    sock = connect(server, timeout=5)
    sock.sendall(POST + b"X-Mock-Scenario: slow\r\n\r\n" + BODY)
    sock.shutdown(socket.SHUT_WR)  # done sending, still reading
    assert read_response(sock)[0] == 201
    assert closed_by_server(sock)
    sock.close()


def test_http_1_0_asking_for_keep_alive_is_told_so(server: LiveServer) -> None:
    sock = connect(server, timeout=5)
    request = POST.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Connection: keep-alive\r\n\r\n" + BODY
    sock.sendall(request)
    status, headers, _ = read_response(sock)
    assert status == 201 and headers["connection"] == "keep-alive"
    sock.sendall(request)
    assert read_response(sock)[0] == 201
    sock.close()


def workers_of(server: LiveServer) -> list[int]:
    pid = server.process.pid
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_worker_that_dies_is_replaced_and_no_connection_waits_for_it(live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--quiet", "--workers", "2")
    first = workers_of(server)
    assert len(first) == 2
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (len(workers_of(server)) < 2 or first[0] in workers_of(server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    replaced = workers_of(server)
    assert len(replaced) == 2 and first[0] not in replaced
    # every new connection lands on a live worker: the dead one's socket went with it
    statuses = [
        requests.post(server.url + SMTP_PATH, json=valid_body(), headers={**HEADERS, "Connection": "close"}, timeout=5)
        for _ in range(20)
    ]
    assert {response.status_code for response in statuses} == {201}
