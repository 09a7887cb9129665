#!/usr/bin/env python3
"""The load benchmark's driver: serves the catalog API from two release binaries, the
hand-written reference and the one apigen generated, one after the other on 127.0.0.1, and
compares what each request costs them.

For each binary: start to first response (median of several starts), the memory each stored
product takes, then wrk driving each kind of request for a fixed time while the server's own
CPU time is read from /proc before and after, and the peak resident memory before the creates
(which add as many products as the service is fast). Prints
one markdown report with the ratios (generated / reference). Nothing here is timed against a
threshold; a run fails only when a service does not answer as the spec says.

Then the same requests again with both services on DynamoDB (moto's server, started here on
127.0.0.1 as the test command starts it): start to first response with the AWS SDK's client
created, and each service's own CPU per request, SDK calls included.

Usage: load.py --reference BIN --generated BIN [--seconds S] [--items N] [--starts K]
               [--dynamodb-items N]
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")
CATEGORY = "bench"

PRODUCT = {
    "name": "Espresso machine",
    "description": "Fifteen bars, a steam wand and a 1.8 l tank.",
    "price": 249.5,
    "stock": 12,
    "tags": ["kitchen", "coffee", "appliance"],
}
PATCH = {"price": 239.0, "stock": 11}
# Well formed, but two rules broken: what a client's bug sends.
INVALID = {"name": "", "price": -1, "tags": ["kitchen"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One binary serving on its own port, its output kept in a file; on the in-memory store,
    or on DynamoDB when `env` names an endpoint."""

    def __init__(self, name, binary, log_dir, env=None):
        self.name = name
        self.binary = binary
        self.log_dir = log_dir
        self.env = env or {}
        self.process = None
        self.port = None

    def start(self):
        self.port = free_port()
        env = dict(os.environ, PORT=str(self.port))
        env.pop("TABLE_NAME", None)
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        env.update(self.env)
        log = open(self.log_dir / f"{self.name}.log", "ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [self.binary], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
        # Start to first response: the first answer to a read, whatever its status.
        while True:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited with {self.process.returncode} before answering")
            try:
                status, _, _ = self.request(
                    "GET", f"/categories/{CATEGORY}/products/00000000-0000-4000-8000-000000000000"
                )
                if status != 404:
                    sys.exit(f"{self.name}: a missing product answered {status}, not 404")
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.0005)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def request(self, method, path, body=None, content_type="application/json"):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Content-Type": content_type} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response.headers
        finally:
            connection.close()

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime, fields 14 and 15 of stat(5), counted after the command's name.
        return (int(fields[11]) + int(fields[12])) / TICK

    def memory_kb(self, field):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/{self.process.pid}/status")


def seed(service, count):
    """Creates `count` products over one connection; returns their ids."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    ids = []
    body = json.dumps(PRODUCT)
    for _ in range(count):
        connection.request(
            "POST", f"/categories/{CATEGORY}/products", body=body,
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        payload = response.read()
        if response.status != 201:
            sys.exit(f"{service.name}: create answered {response.status}: {payload[:300]!r}")
        product = json.loads(payload)
        if response.headers.get("ETag") is None:
            sys.exit(f"{service.name}: create answered no ETag")
        ids.append(product["productId"])
    connection.close()
    return ids


def scenarios(product_id):
    base = f"/categories/{CATEGORY}/products"
    # Creates last: the peak memory is read before them, since how many products they add
    # depends on how fast the service is.
    return [
        ("get", "GET", f"{base}/{product_id}", None, None, 200),
        ("update", "PATCH", f"{base}/{product_id}", json.dumps(PATCH), "application/merge-patch+json", 200),
        ("query", "GET", f"{base}?limit=20", None, None, 200),
        ("invalid", "POST", base, json.dumps(INVALID), "application/json", 400),
        ("create", "POST", "/categories/created/products", json.dumps(PRODUCT), "application/json", 201),
    ]


def drive(service, scenario, seconds, connections):
    name, method, path, body, content_type, expect = scenario
    env = dict(
        os.environ,
        BENCH_METHOD=method,
        BENCH_BODY=body or "",
        BENCH_CONTENT_TYPE=content_type or "",
        BENCH_EXPECT=str(expect),
    )
    before = service.cpu_seconds()
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "request.lua"),
         f"http://127.0.0.1:{service.port}{path}"],
        env=env, capture_output=True, text=True, check=True,
    )
    cpu = service.cpu_seconds() - before
    requests = None
    unexpected = None
    for line in result.stdout.splitlines():
        words = line.split()
        if "requests in" in line:
            requests = int(words[0])
        if line.startswith("unexpected:"):
            unexpected = (int(words[1]), int(words[2]))
        if "Socket errors" in line:
            sys.exit(f"{service.name} {name}: {line.strip()}")
    if not requests or unexpected is None:
        sys.exit(f"{service.name} {name}: wrk printed no count:\n{result.stdout}{result.stderr}")
    if unexpected[0]:
        sys.exit(f"{service.name} {name}: {unexpected[0]} of {requests} answers were "
                 f"{unexpected[1]}, not {expect}")
    return {"requests": requests, "rps": requests / seconds, "cpu_us": cpu / requests * 1e6}


def measure(service, args):
    starts = []
    for _ in range(args.starts):
        starts.append(service.start())
        service.stop()
    first = service.start()
    starts.append(first)
    rss_empty = service.memory_kb("VmRSS")
    ids = seed(service, args.items)
    rss_seeded = service.memory_kb("VmRSS")
    status, body, headers = service.request("GET", f"/categories/{CATEGORY}/products?limit=5")
    page = json.loads(body)
    if status != 200 or len(page["items"]) != 5 or not page.get("nextCursor"):
        sys.exit(f"{service.name}: a page of 5 answered {status}: {body[:300]!r}")
    results = {}
    peak = None
    for scenario in scenarios(ids[0]):
        if scenario[0] == "create":
            peak = service.memory_kb("VmHWM")
        results[scenario[0]] = drive(service, scenario, args.seconds, args.connections)
    service.stop()
    return {
        "start_ms": statistics.median(starts) * 1000,
        "item_bytes": (rss_seeded - rss_empty) * 1024 / args.items,
        "peak_mb": peak / 1024,
        "scenarios": results,
    }


def start_dynamodb(log_dir):
    """moto's DynamoDB-compatible server as the test command runs it; returns the process and
    its endpoint."""
    port = free_port()
    log = open(log_dir / "dynamodb.log", "ab")
    process = subprocess.Popen(
        [sys.executable, str(HERE.parent.parent / ".ci" / "dynamodb-server.py"),
         "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the DynamoDB-compatible server did not start (see {log_dir})")
            time.sleep(0.1)


def create_reference_table(endpoint, credentials):
    """The reference's table; the generated service creates its own when run locally."""
    import boto3  # moto's dependency, in the same environment

    client = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=credentials["AWS_REGION"],
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_table(
        TableName=REFERENCE_TABLE,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                   {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                              {"AttributeName": "SK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def measure_dynamodb(service, args):
    """Start to first response with the AWS SDK's client created, and the service's own CPU per
    request while DynamoDB (moto, far slower than either service) answers its calls."""
    starts = []
    for _ in range(args.starts):
        starts.append(service.start())
        service.stop()
    starts.append(service.start())
    ids = seed(service, args.dynamodb_items)
    results = {}
    for scenario in scenarios(ids[0]):
        # One connection: what is measured is the cost of a call, not how writers of one item
        # race (the services tests do that).
        results[scenario[0]] = drive(service, scenario, args.seconds, 1)
    service.stop()
    return {"start_ms": statistics.median(starts) * 1000, "scenarios": results}


REFERENCE_TABLE = "catalog-reference"


def ratio(generated, reference):
    return f"{generated / reference:.2f}×" if reference else "n/a"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--generated", required=True)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--title", default="Load benchmark")
    parser.add_argument("--dynamodb-items", type=int, default=100,
                        help="products stored before the DynamoDB run")
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="apigen-load-"))
    services = {
        "reference": Service("reference", args.reference, logs),
        "generated": Service("generated", args.generated, logs),
    }
    measured = {name: measure(service, args) for name, service in services.items()}
    ref, gen = measured["reference"], measured["generated"]

    dynamodb, endpoint = start_dynamodb(logs)
    try:
        credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_REGION": "us-east-1"}
        create_reference_table(endpoint, credentials)
        on_dynamodb = dict(credentials, AWS_ENDPOINT_URL_DYNAMODB=endpoint)
        measured_dynamodb = {
            "reference": measure_dynamodb(
                Service("reference-dynamodb", args.reference, logs,
                        dict(on_dynamodb, TABLE_NAME=REFERENCE_TABLE)), args),
            "generated": measure_dynamodb(
                Service("generated-dynamodb", args.generated, logs, on_dynamodb), args),
        }
    finally:
        dynamodb.terminate()
        dynamodb.wait(timeout=10)

    out = [f"### {args.title}", ""]
    out.append(f"wrk, 1 thread, {args.connections} connections, {args.seconds} s per kind of "
               f"request, in-memory store seeded with {args.items} products; CPU is the "
               "server's own (user + system) per request.")
    out.append("")
    out.append("| request | reference CPU/req | generated CPU/req | CPU ratio | reference req/s "
               "| generated req/s | req/s ratio |")
    out.append("|---|---|---|---|---|---|---|")
    for name in ref["scenarios"]:
        r, g = ref["scenarios"][name], gen["scenarios"][name]
        out.append(
            f"| {name} | {r['cpu_us']:.1f} µs | {g['cpu_us']:.1f} µs | "
            f"{ratio(g['cpu_us'], r['cpu_us'])} | {r['rps']:.0f} | {g['rps']:.0f} | "
            f"{ratio(g['rps'], r['rps'])} |"
        )
    out.append("")
    out.append("| | reference | generated | ratio |")
    out.append("|---|---|---|---|")
    for label, key, unit in [
        ("start to first response (median)", "start_ms", "ms"),
        ("memory per stored product", "item_bytes", "B"),
        (f"peak resident memory ({args.items} products, before the creates)", "peak_mb", "MB"),
    ]:
        out.append(f"| {label} | {ref[key]:.1f} {unit} | {gen[key]:.1f} {unit} | "
                   f"{ratio(gen[key], ref[key])} |")
    sizes = [Path(p).stat().st_size / 1e6 for p in (args.reference, args.generated)]
    out.append(f"| release binary | {sizes[0]:.1f} MB | {sizes[1]:.1f} MB | "
               f"{ratio(sizes[1], sizes[0])} |")

    ref, gen = measured_dynamodb["reference"], measured_dynamodb["generated"]
    out.append("")
    out.append(f"On DynamoDB (moto's server on 127.0.0.1, {args.dynamodb_items} products, "
               f"wrk with 1 connection, {args.seconds} s per kind): the same requests, each calling DynamoDB through "
               "the AWS SDK as under Lambda. moto answers far slower than either service, so "
               "requests per second are moto's; CPU is the service's own.")
    out.append("")
    out.append("| request | reference CPU/req | generated CPU/req | CPU ratio |")
    out.append("|---|---|---|---|")
    for name in ref["scenarios"]:
        r, g = ref["scenarios"][name], gen["scenarios"][name]
        out.append(f"| {name} | {r['cpu_us']:.1f} µs | {g['cpu_us']:.1f} µs | "
                   f"{ratio(g['cpu_us'], r['cpu_us'])} |")
    out.append(f"| start to first response, SDK client created (median) | "
               f"{ref['start_ms']:.1f} ms | {gen['start_ms']:.1f} ms | "
               f"{ratio(gen['start_ms'], ref['start_ms'])} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
