#!/usr/bin/env python3
"""Cold start and size of release builds of the generated catalog API: the build projects ship
(the first given) beside builds with one setting changed, each served on 127.0.0.1 in turn.

For each binary: its size, start to first response (median of several starts) on the memory
store and with the AWS SDK's client created on DynamoDB (moto's server, started here as the
test command starts it), and the CPU per request of a get, a create and a query on the memory
store (wrk, as load.py drives them). Build times come from the script that built them (a file
of `name seconds seconds` lines). Prints one markdown table, each figure with its ratio to the
first build's. Nothing is timed against a threshold.

Usage: profiles.py --times FILE NAME=BIN [NAME=BIN ...]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import load

KINDS = ("get", "create", "query")


def starts(service, count):
    times = []
    for _ in range(count):
        times.append(service.start())
        service.stop()
    return statistics.median(times) * 1000


def measure(name, binary, logs, endpoint, args):
    memory = load.Service(name, binary, logs)
    figures = {"start_ms": starts(memory, args.starts)}
    memory.start()
    ids = load.seed(memory, args.items)
    for scenario in load.scenarios(ids[0]):
        if scenario[0] in KINDS:
            figures[scenario[0]] = load.drive(memory, scenario, args.seconds, 4)["cpu_us"]
    memory.stop()
    sdk = load.Service(f"{name}-dynamodb", binary, logs, endpoint)
    figures["sdk_start_ms"] = starts(sdk, args.starts)
    figures["size_mb"] = Path(binary).stat().st_size / 1e6
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("builds", nargs="+", metavar="NAME=BIN")
    parser.add_argument("--times", required=True)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=7)
    args = parser.parse_args()

    times = {}
    for line in Path(args.times).read_text().splitlines():
        name, cold, rebuild = line.rsplit(" ", 2)
        times[name] = (float(cold), float(rebuild))
    logs = Path(tempfile.mkdtemp(prefix="apigen-profiles-"))
    dynamodb, endpoint = load.start_dynamodb(logs)
    try:
        environment = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
        measured = {}
        for build in args.builds:
            name, binary = build.split("=", 1)
            measured[name] = measure(name, binary, logs, environment, args)
            measured[name]["cold_s"], measured[name]["rebuild_s"] = times[name]
    finally:
        dynamodb.terminate()
        dynamodb.wait(timeout=10)

    columns = [
        ("build from nothing", "cold_s", "s"),
        ("rebuild after an edit", "rebuild_s", "s"),
        ("binary", "size_mb", "MB"),
        ("start, memory store", "start_ms", "ms"),
        ("start, SDK client", "sdk_start_ms", "ms"),
    ] + [(f"{kind} CPU/req", kind, "µs") for kind in KINDS]
    baseline = measured[args.builds[0].split("=", 1)[0]]
    out = [
        "| release build | " + " | ".join(label for label, _, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, figures in measured.items():
        cells = []
        for _, key, unit in columns:
            cell = f"{figures[key]:.1f} {unit}"
            if figures is not baseline:
                cell += f" ({load.ratio(figures[key], baseline[key])})"
            cells.append(cell)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    print(f"Release builds of the generated catalog API; wrk, 4 connections, {args.seconds} s "
          f"per kind of request on the memory store seeded with {args.items} products; starts "
          f"are the median of {args.starts}; ratios are to the first row.")
    print()
    print("\n".join(out))


if __name__ == "__main__":
    main()
