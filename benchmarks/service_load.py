"""`escalator serve` under load: requests/s and p50/p99 latency, one case per request and
batches of 100, against a real uvicorn process on 127.0.0.1.

    python benchmarks/service_load.py                 # 10 s per scenario, 4 clients, log on and off
    python benchmarks/service_load.py --quick         # 1 s per scenario (what the smoke test runs)

Each scenario starts a fresh server (compiled backend), warms it up, then C client threads
(httpx, keep-alive) send requests back to back for S seconds; every answer must be 200.
The clients run on the same machine as the server and share its cores: the figures are a
whole-machine figure (clients included), not the server alone. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import workload  # noqa: E402

SCENARIOS = (("single", 1), ("batch of 100", 100))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, folder: Path, log: str | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "escalator", "serve", "--port", str(self.port), "--backend", "compiled",
                "--policies", str(ROOT / "policies"), "--rules", str(ROOT / "rules"), "--max-batch", "100"]
        if log is not None:
            args += ["--log", str(folder / "decisions.db") if log == "sqlite" else log]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"escalator serve exited: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("escalator serve did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def run_scenario(url: str, cases: list[dict[str, Any]], size: int, clients: int, seconds: float) -> dict[str, Any]:
    path = "/v1/decide" if size == 1 else "/v1/decide/batch"
    bodies = [json.dumps({"case": cases[i]} if size == 1 else {"cases": cases[i:i + size]}).encode()
              for i in range(0, len(cases) - size + 1, size)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_at = threading.Event()

    def client(number: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, timeout=30, headers={"content-type": "application/json"}) as http:
            http.get("/healthz")
            start_at.wait()
            end = time.monotonic() + seconds
            i = number
            while time.monotonic() < end:
                body = bodies[i % len(bodies)]
                t0 = time.perf_counter()
                response = http.post(path, content=body)
                mine.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    with lock:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                    return
                i += clients
        with lock:
            latencies.extend(mine)

    # warm-up: every body once, one client
    with httpx.Client(base_url=url, timeout=30, headers={"content-type": "application/json"}) as http:
        for body in bodies[:50]:
            http.post(path, content=body).raise_for_status()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    start_at.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if errors:
        raise SystemExit(f"a request failed: {errors[0]}")
    latencies.sort()
    requests = len(latencies)
    return {
        "requests": requests, "seconds": round(elapsed, 2),
        "requests_per_s": round(requests / elapsed, 1), "cases_per_s": round(requests * size / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(requests - 1, int(requests * 0.99))] * 1000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario (default 10)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--log", choices=("both", "sqlite", "none"), default="both",
                        help="decision log: SQLite (WAL), none, or both (default)")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run with the log on this PostgreSQL server (a scratch database: a table is created)")
    parser.add_argument("--quick", action="store_true", help="1 s per scenario, 2 clients (smoke run)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.clients = 1.0, 2
    cases = workload.generate(2000)
    choices: dict[str, list[str | None]] = {"both": [None, "sqlite"], "sqlite": ["sqlite"], "none": [None]}
    modes = choices[args.log]
    if args.postgres:
        modes.append(args.postgres)
    results = []
    for log in modes:
        with tempfile.TemporaryDirectory(prefix="escalator-bench-") as tmp:
            server = Server(Path(tmp), log)
            try:
                for name, size in SCENARIOS:
                    figures = run_scenario(server.url, cases, size, args.clients, args.seconds)
                    label = {None: "none", "sqlite": "SQLite"}.get(log, "PostgreSQL")
                    results.append({"scenario": name, "log": label, **figures})
            finally:
                server.stop()
    print(f"escalator serve, {args.clients} client threads, {args.seconds:g} s per scenario, 127.0.0.1\n")
    print("| scenario | decision log | requests | requests/s | cases/s | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['scenario']} | {r['log']} | {r['requests']:,} | {r['requests_per_s']:,} | {r['cases_per_s']:,} "
              f"| {r['p50_ms']} | {r['p99_ms']} |")
    if args.json:
        args.json.write_text(json.dumps({"clients": args.clients, "seconds": args.seconds, "results": results},
                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
