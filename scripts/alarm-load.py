#!/usr/bin/env python3
"""Replays monitoring alarms against a running riskmap server at a given
rate, for benchmarks and demos.

    scripts/alarm-load.py --base http://127.0.0.1:8080 --token TOKEN \
        --sensors data/quanzhou/sensors.geojson --rate 1000 --seconds 60

Every second it posts `rate` new alarms (ids LOAD-<run>-<n>) on sensors
read from a GeoJSON sensors file (or at random points in --bbox), as
--batches NDJSON batches spread over the second, and prints the second's
slowest answer; at the end the count of alarms accepted, which a restarted
server must still list (`GET /api/alarms`), and the answers' p50/p99 (an
alarm is acknowledged when its batch is answered: journaled, fsynced and
scored). Only the Python standard library is used.
"""

import argparse
import json
import random
import sys
import time
import urllib.request


def sensors_from(path):
    with open(path, encoding="utf-8") as f:
        fc = json.load(f)
    return [feat["properties"]["id"] for feat in fc.get("features", [])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--token", required=True, help="an ingest or admin token")
    ap.add_argument("--sensors", help="a sensors GeoJSON file (ids to raise alarms on)")
    ap.add_argument("--bbox", default="118.4,24.8,118.7,25.0", help="west,south,east,north without --sensors")
    ap.add_argument("--rate", type=int, default=100, help="alarms per second")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batches", type=int, default=1, help="batches per second (the rate is split among them)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sensors = sensors_from(args.sensors) if args.sensors else []
    w, s, e, n = (float(x) for x in args.bbox.split(","))
    run = int(time.time())
    sent = accepted = 0
    timings = []
    began = time.monotonic()
    batches = max(1, args.batches)
    for second in range(args.seconds):
        start = time.monotonic()
        worst = 0.0
        for b in range(batches):
            size = args.rate // batches + (1 if b < args.rate % batches else 0)
            lines = []
            for _ in range(size):
                sent += 1
                alarm = {
                    "id": f"LOAD-{run}-{sent}",
                    "level": rng.choice([1, 2, 3, 3, 4, 4, 4]),
                    "value": round(rng.uniform(20, 60), 1),
                    "threshold": 20.0,
                    "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
                if sensors:
                    alarm["sensor_id"] = rng.choice(sensors)
                else:
                    alarm["lon"] = round(rng.uniform(w, e), 6)
                    alarm["lat"] = round(rng.uniform(s, n), 6)
                lines.append(json.dumps(alarm, ensure_ascii=False))
            req = urllib.request.Request(
                f"{args.base}/api/alarms",
                data="\n".join(lines).encode("utf-8"),
                method="POST",
                headers={
                    "Authorization": f"Bearer {args.token}",
                    "Content-Type": "application/x-ndjson",
                },
            )
            t = time.monotonic()
            with urllib.request.urlopen(req) as resp:
                body = json.load(resp)
            timings.append(time.monotonic() - t)
            worst = max(worst, timings[-1])
            accepted += body.get("accepted", 0)
            rest = start + (b + 1) / batches - time.monotonic()
            if rest > 0:
                time.sleep(rest)
        print(f"{second + 1:4d}s  {args.rate} sent in {batches} batches, slowest answer {worst * 1000:.1f} ms",
              flush=True)
    elapsed = time.monotonic() - began
    timings.sort()
    p50 = timings[len(timings) // 2]
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"sent {sent}, accepted {accepted} in {elapsed:.1f} s ({accepted / elapsed:.0f} alarms/s), "
          f"{len(timings)} batches, answer p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    return 0 if accepted == sent else 1


if __name__ == "__main__":
    sys.exit(main())
