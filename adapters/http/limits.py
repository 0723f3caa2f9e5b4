"""Request bodies capped before they are read whole: an ASGI middleware that answers 413 with a JSON error."""

from __future__ import annotations

import json
from typing import Any

# Over any request the schema accepts (`adapters.http.models`): a question and the earlier turns at their
# longest, every character escaped as JSON's widest form (a surrogate pair, 12 bytes), is about 750 KB.
MAX_BODY_BYTES = 1024 * 1024

Scope = dict[str, Any]


class LimitBody:
    """Refuses a request whose body is over `limit` bytes, whether it says so in Content-Length or not."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        # Read the body first (it is at most `limit` bytes) and hand it to the app only when it fits.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                await _too_large(send, self.limit)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"error": f"request body over {limit // 1024} KB"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
