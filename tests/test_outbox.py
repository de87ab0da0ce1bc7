"""The outbox hands every connection's answers to the kernel once per pass of the event loop."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.server.outbox import Outbox


class Recording:
    def __init__(self, loop: asyncio.AbstractEventLoop, name: str, flushed: list[str], fails: bool = False) -> None:
        self.loop, self.name, self.flushed, self.fails = loop, name, flushed, fails

    def flush(self) -> None:
        if self.fails:
            raise RuntimeError("Cannot call write() after write_eof()")
        self.flushed.append(self.name)


def test_answers_wait_for_the_end_of_the_pass_and_one_failure_strands_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.new_event_loop()
    outbox, flushed = Outbox(), []
    try:
        first, broken, last = (Recording(loop, n, flushed, n == "broken") for n in ("first", "broken", "last"))

        def one_pass() -> None:  # what the loop's callbacks do in one pass: answer three requests
            for writer in (first, broken, last):
                outbox.add(writer)
            assert flushed == []  # nothing is sent while the pass still answers

        loop.call_soon(one_pass)
        loop.call_soon(loop.stop)
        loop.run_forever()  # the pass, then the flush at the start of the next one
        loop.call_soon(loop.stop)
        loop.run_forever()
    finally:
        loop.close()
    assert flushed == ["first", "last"]
    assert "an answer could not be written" in caplog.text
    assert outbox.waiting == []
