"""The fast lane's header look-ups answer exactly as werkzeug's do, for every name shape."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import EnvironHeaders

from mockserver.quickrequest import QuickHeaders, QuickRequest

ENVIRON = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/x",
    "CONTENT_TYPE": "application/json",
    "CONTENT_LENGTH": "",
    "HTTP_BRAND_URL": "brand",
    "HTTP_AUTH_KEY": "key",
    "HTTP_X_MOCK_SCENARIO": "slow",
}
NAMES = [
    "Brand-URL",
    "brand-url",
    "BRAND_URL",
    "Auth-Key",
    "Content-Type",
    "content-length",
    "X-Mock-Scenario",
    "Prefer",
    "",
]


@pytest.mark.parametrize("name", NAMES)
def test_quick_headers_answer_as_werkzeugs(name: str) -> None:
    quick, slow = QuickHeaders(ENVIRON), EnvironHeaders(ENVIRON)
    assert quick.get(name) == slow.get(name)
    assert quick.get(name, "default") == slow.get(name, "default")
    assert quick.get(name, -1, type=len) == slow.get(name, -1, type=len)
    assert (name in quick) == (name in slow)
    if name in slow:
        assert quick[name] == slow[name]
    else:
        with pytest.raises(KeyError):
            quick[name]


def test_the_quick_request_uses_them() -> None:
    request = QuickRequest(dict(ENVIRON))
    assert isinstance(request.headers, QuickHeaders)
    assert request.headers.get("Brand-URL") == "brand" and request.mimetype == "application/json"
    assert sorted(request.headers.items()) == sorted(EnvironHeaders(ENVIRON).items())
    assert 42 not in request.headers and request.headers.get(42) is None  # type: ignore[operator, call-overload]
