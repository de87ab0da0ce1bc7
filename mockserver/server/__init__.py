"""The HTTP server the mock runs on, in every mode: asyncio with llhttp's strict parser (httptools).

Why not werkzeug or granian: a waiting request (latency, a `timeout` hold, a slow or stalled body, an
idle connection) must cost a timer, not a thread, and a fault must break the very connection it was
asked on (a real RST, or a close without a byte). The Flask app still answers everything, as WSGI:
the server reads each request whole before calling it, and applies the waits and faults it asks for.

- `connection.py`: one client connection: parsing, limits, deadlines, keep-alive, faults;
- `wsgi.py`: a request read whole becomes a WSGI environ; the app's answer becomes bytes;
- `refusal.py`: the answer to a request HTTP itself rejects (400 and close);
- `runner.py`: one process's event loop serving a listening socket;
- `workers.py`: `serve --workers N`, N such processes forked after start-up, each on
  its own SO_REUSEPORT socket.
"""

from __future__ import annotations

from .runner import Server
from .wsgi import DIRECTIONS, Directions

__all__ = ["DIRECTIONS", "Directions", "Server"]
