"""Signing of webhook payloads, and the check a receiver makes: copy this module into a receiver, it needs only
the standard library.

The hub sends every payload with three headers: `X-Hub-Event-Id` (the event's id: a repeat is a redelivery,
drop it), `X-Hub-Timestamp` (Unix seconds when this attempt was signed) and `X-Hub-Signature`
(`sha256=` + hex HMAC-SHA256 under the webhook's secret of `<timestamp>.` followed by the raw body). A receiver
recomputes the HMAC over the bytes it received, compares in constant time, and refuses a timestamp further
than `tolerance` seconds from its clock: a captured request cannot be replayed later, and a changed body or
timestamp no longer matches.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

EVENT_HEADER = "X-Hub-Event-Id"
TIMESTAMP_HEADER = "X-Hub-Timestamp"
SIGNATURE_HEADER = "X-Hub-Signature"
SCHEME = "sha256="
TOLERANCE = 300
"""Seconds a signed timestamp may be away from the receiver's clock."""


class SignatureError(ValueError):
    """The request is not one the hub signed with this secret, or it is too old or too new."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 under `secret` of `<timestamp>.` + body."""
    digest = hmac.new(secret.encode("utf-8"), str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256)
    return SCHEME + digest.hexdigest()


def signed_headers(secret: str, event_id: int | str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers the hub sends with `body`."""
    at = int(time.time() if timestamp is None else timestamp)
    return {EVENT_HEADER: str(event_id), TIMESTAMP_HEADER: str(at), SIGNATURE_HEADER: signature(secret, at, body)}


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int = TOLERANCE,
                     now: float | None = None) -> str:
    """Check a received webhook request; returns its event id, raises SignatureError otherwise.

    `headers` in any case (a dict of the request's headers, or the framework's own mapping); `body` the raw
    bytes as received, before any JSON parsing.
    """
    found = {key.lower(): value for key, value in headers.items()}
    event_id = found.get(EVENT_HEADER.lower())
    stamp = found.get(TIMESTAMP_HEADER.lower())
    sent = found.get(SIGNATURE_HEADER.lower())
    if not event_id or not stamp or not sent:
        raise SignatureError(f"missing {EVENT_HEADER}, {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}")
    try:
        at = int(stamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a number of seconds") from None
    if abs((time.time() if now is None else now) - at) > tolerance:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than {tolerance} s away from this clock")
    if not hmac.compare_digest(signature(secret, at, body), sent.strip()):
        raise SignatureError("the signature does not match the body and timestamp")
    return event_id
