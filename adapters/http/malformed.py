"""Requests too broken for the app to see: uvicorn answers an unparseable request itself, in plain text; here
it answers in JSON like every other error of the API."""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class JsonErrorsH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol (h11), answering a request it cannot parse with a JSON 400."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": "malformed HTTP request (not HTTP/1.1 as the server can read it)"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
