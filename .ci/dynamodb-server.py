"""moto's DynamoDB-compatible server, one request at a time.

DynamoDB applies each conditional write atomically, so of two writers with the
same condition exactly one wins. moto_server handles requests on many threads
without a lock, so two writers can both pass a condition check. Serialising
requests gives the tests the same guarantee DynamoDB gives.

Usage: python dynamodb-server.py -H 127.0.0.1 -p PORT
"""

import argparse
import os
import threading

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

    def serialised(environ, start_response):
        with lock:
            # Drain the response inside the lock: werkzeug may stream it later.
            return list(app(environ, start_response))

    run_simple(
        args.host,
        args.port,
        serialised,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
