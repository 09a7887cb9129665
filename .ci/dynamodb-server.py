"""moto's DynamoDB-compatible server, one request at a time.

DynamoDB applies each conditional write atomically, so of two writers with the
same condition exactly one wins. moto_server handles requests on many threads
without a lock, so two writers can both pass a condition check. Serialising
requests gives the tests the same guarantee DynamoDB gives.

It also counts the DynamoDB requests it serves, by action (PutItem, Query,
...; not a WebSocket API's bookkeeping: stream reads and its connections table), so that tests can hold each API action to the number of requests it
should cost: `GET /_apigen/requests` answers the running totals as JSON. Every
request is logged to stderr with its action, table and status.

Usage: python dynamodb-server.py -H 127.0.0.1 -p PORT
"""

import argparse
import io
import json
import os
import sys
import threading
from collections import Counter

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    counts: Counter = Counter()

    def serialised(environ, start_response):
        if environ.get("PATH_INFO") == "/_apigen/requests":
            with lock:
                body = json.dumps(dict(sorted(counts.items()))).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.rsplit(".", 1)[-1] if target else "-"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            table = json.loads(raw or b"{}").get("TableName", "-")
        except ValueError:
            table = "-"
        status = []

        def recording_start_response(code, headers, *rest):
            status.append(code.split(" ", 1)[0])
            return start_response(code, headers, *rest)

        # A WebSocket API's bookkeeping is not what an API action costs: the streams its
        # service polls all the time (as Lambda's event source mapping does when deployed),
        # and its connections table, read whenever a change is pushed.
        bookkeeping = target.startswith("DynamoDBStreams") or str(table).endswith("-Connections")
        with lock:
            if not bookkeeping:
                counts[action] += 1
            # Drain the response inside the lock: werkzeug may stream it later.
            body = list(app(environ, recording_start_response))
        if not target.startswith("DynamoDBStreams"):
            print(f"{action} {table} {status[0] if status else '?'}", file=sys.stderr, flush=True)
        return body

    run_simple(
        args.host,
        args.port,
        serialised,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
