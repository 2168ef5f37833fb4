"""Benchmark of the CLI's batch path: `escalator evaluate - --format jsonl` on N generated cases.

    python benchmarks/cli_batch.py --cases 100000

Generates N seeded JSON Lines cases (NL, UK, GB and MT; every request kind; amounts
around the policies' thresholds; a few bad cases), runs the real CLI as a subprocess
with --workers 1 and 2 (stdin from the file, stdout to a file), and reports throughput,
peak RSS of the whole process tree (sampled with psutil when installed, else the
largest child from getrusage), whether the two outputs are byte-identical, and the
start-up time of `escalator --help` (plus whether it imported anything heavy).
`main(argv)` returns the figures as a dict (benchmarks/bench.py --full calls it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JURISDICTIONS = ("NL", "UK", "GB", "MT")
KINDS = ("bonus_request", "withdrawal_delay", "forfeiture_dispute", "manager_request",
         "executive_request", "complaint", "technical", "other")
REACHABLE = ("agent", "responsible_gambling", "supervisor", "vip_manager", "complaints_manager")
ASKED = ("manager", "vip_manager", "supervisor", "finance", "director")
THRESHOLDS = (25, 50, 100, 150, 250, 700, 1000, 2000, 5000, 10000)


def _money(rng: random.Random, spread: float = 3000.0) -> str:
    """A money amount as JSON text: often a cent either side of a threshold, else anywhere."""
    if rng.random() < 0.5:
        value = rng.choice(THRESHOLDS) + rng.choice((-0.01, 0.0, 0.01))
    else:
        value = rng.uniform(0, spread)
    return f"{max(value, 0.0):.2f}"


def make_case(rng: random.Random, number: int) -> dict[str, Any]:
    """One valid case (money as Decimal-friendly strings turned into JSON numbers by `dumps`)."""
    kind = rng.choice(KINDS)
    jurisdiction = rng.choice(JURISDICTIONS)
    request: dict[str, Any] = {"kind": kind}
    if kind == "bonus_request" or rng.random() < 0.05:
        request["amount"] = _money(rng, 600)
    if kind in ("manager_request", "executive_request") or rng.random() < 0.1:
        request["asked_for"] = rng.sample(ASKED, rng.randint(1, 2))
    if kind == "withdrawal_delay" or rng.random() < 0.1:
        request["withdrawal"] = {"amount": _money(rng, 30000), "pending_hours": rng.choice((47, 48, 49, 72, 73, 0, 120))}
    if kind == "forfeiture_dispute":
        request["forfeiture"] = {"winnings": _money(rng, 4000), "breach": rng.choice(("max_bet", "excluded_game")),
                                 "deliberate": rng.choice((True, False, False))}
    case: dict[str, Any] = {
        "case_id": f"{jurisdiction}-{number:07d}",
        "jurisdiction": jurisdiction,
        "opened_at": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
                     f"{rng.randint(0, 59):02d}:00{rng.choice(('Z', 'Z', '+01:00'))}",
        "channel": rng.choice(("live_chat", "live_chat", "email", "phone")),
        "handled_by": rng.choice(("agent",) * 6 + REACHABLE),
        "status": rng.choice(("open",) * 6 + ("escalated", "complaint")),
        "player": {
            "id": f"P-{rng.randint(1, 99999)}",
            "vip_level": rng.randint(0, 5),
            "account_age_days": rng.randint(0, 3000),
            "net_loss_30d": _money(rng, 5000),
            "rg_markers": rng.choice(([], [], [], [], ["loss_chasing"])),
            "kyc": rng.choice(("verified", "verified", "pending", "failed", "none")),
            "self_excluded": rng.random() < 0.03,
        },
        "request": request,
    }
    if rng.random() < 0.6:
        case["on_duty"] = rng.sample(REACHABLE, rng.randint(1, 4))
    return case


def case_line(rng: random.Random, number: int, bad_rate: float = 0.0) -> str:
    """One JSON line; money amounts are written as JSON numbers with two decimals."""
    case = make_case(rng, number)
    if bad_rate and rng.random() < bad_rate:
        case["player"]["vip_level"] = 9  # out of range: an error record, the run goes on
    text = json.dumps(case, separators=(",", ":"))
    # money strings -> JSON numbers ("123.45" -> 123.45), exact because nothing parses them as floats
    for key in ("amount", "net_loss_30d", "winnings"):
        text = _unquote(text, key)
    return text


def _unquote(text: str, key: str) -> str:
    marker = f'"{key}":"'
    while marker in text:
        start = text.index(marker) + len(marker) - 1
        end = text.index('"', start + 1)
        text = text[:start] + text[start + 1:end] + text[end + 1:]
    return text


def write_cases(path: Path, count: int, seed: int = 20261125, bad_rate: float = 0.0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for number in range(count):
            out.write(case_line(rng, number, bad_rate) + "\n")


def generate_lines(count: int, seed: int = 20261125, bad_rate: float = 0.0) -> list[str]:
    rng = random.Random(seed)
    return [case_line(rng, number, bad_rate) for number in range(count)]


class PeakMemory:
    """Samples a process and its children with psutil every 50 ms.

    Reports the largest single process (RSS), the summed RSS of the tree (counts pages
    that forked workers share with the parent more than once) and the summed USS (memory
    unique to each process: what the run really costs beyond shared pages).
    """

    def __init__(self, pid: int):
        try:
            import psutil
        except ImportError:
            self.process = None
            return
        self.process = psutil.Process(pid)
        self.peaks = {"process": 0, "tree_rss": 0, "tree_uss": 0}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.stop.is_set():
            try:
                procs = [self.process] + self.process.children(recursive=True)
            except psutil.Error:
                return
            rss = uss = 0
            for proc in procs:
                try:
                    info = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss += info.rss
                uss += info.uss
                self.peaks["process"] = max(self.peaks["process"], info.rss)
            self.peaks["tree_rss"] = max(self.peaks["tree_rss"], rss)
            self.peaks["tree_uss"] = max(self.peaks["tree_uss"], uss)
            self.stop.wait(0.05)

    def result(self) -> dict[str, float | None]:
        if self.process is None:
            return {"process": None, "tree_rss": None, "tree_uss": None}
        self.stop.set()
        self.thread.join()
        return {k: round(v / 2**20, 1) for k, v in self.peaks.items()}


def run_cli(cases_file: Path, workers: int, out_file: Path, backend: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "escalator", "evaluate", "-", "--format", "jsonl",
           "--workers", str(workers), "--backend", backend, "--no-progress"]
    with open(cases_file, "rb") as stdin, open(out_file, "wb") as stdout:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, cwd=cases_file.parent)
        sampler = PeakMemory(proc.pid)
        code = proc.wait()
        elapsed = time.perf_counter() - start
    peak = sampler.result()
    # without psutil: the largest process among everything this script has waited for so far
    children_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    digest = hashlib.sha256(out_file.read_bytes()).hexdigest()
    with open(out_file, "rb") as f:
        lines = sum(1 for _ in f)
    return {"workers": workers, "exit_code": code, "seconds": round(elapsed, 2), "output_lines": lines,
            "peak_rss_process_mb": peak["process"], "peak_rss_tree_mb": peak["tree_rss"],
            "peak_uss_tree_mb": peak["tree_uss"], "max_child_rss_mb_cumulative": round(children_max, 1),
            "sha256": digest}


def help_startup(repeat: int = 7) -> dict[str, Any]:
    """`escalator --help` wall time (median) and whether it imported anything heavy."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "escalator", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    probe = ("import sys; sys.argv = ['escalator', '--help']\n"
             "from escalator.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "heavy = ('durable', 'durable_rules_engine', 'hypothesis', 'escalator.language.loading', 'escalator.runtime.engine')\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {"help_ms_median": round(statistics.median(times) * 1000, 1),
            "help_heavy_imports": out.stderr.strip().splitlines()[-1]}


def batch_arguments(description: str, bad_cases: str) -> argparse.ArgumentParser:
    """The options the batch benchmarks share: workload size, seed, bad share, backend, workers."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--bad-rate", type=float, default=0.001, help=f"share of invalid cases ({bad_cases})")
    parser.add_argument("--backend", default="auto", choices=("auto", "durable", "compiled"))
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = batch_arguments(__doc__.split("\n\n")[0], "error records").parse_args(argv)

    result: dict[str, Any] = {"cases": args.cases, "seed": args.seed, "backend": args.backend,
                              "cpus": os.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="escalator-bench-") as tmp:
        cases_file = Path(tmp) / "cases.jsonl"
        write_cases(cases_file, args.cases, args.seed, args.bad_rate)
        result["input_mb"] = round(cases_file.stat().st_size / 2**20, 1)
        for workers in (int(w) for w in args.workers.split(",")):
            run = run_cli(cases_file, workers, Path(tmp) / f"out-{workers}.jsonl", args.backend)
            run["cases_per_second"] = round(args.cases / run["seconds"]) if run["seconds"] else None
            result["runs"].append(run)
    digests = {run["sha256"] for run in result["runs"]}
    result["outputs_identical"] = len(digests) == 1
    result.update(help_startup())
    peaks = [run["peak_rss_process_mb"] or run["max_child_rss_mb_cumulative"] for run in result["runs"]]
    result["peak_rss_mb"] = max(peaks) if peaks else None  # the largest single process of any run
    return result


if __name__ == "__main__":
    figures = main()
    for run in figures["runs"]:
        print(f"workers={run['workers']}: {run['cases_per_second']} cases/s ({run['seconds']} s); peak RSS "
              f"{run['peak_rss_process_mb']} MB largest process, {run['peak_rss_tree_mb']} MB summed over the tree "
              f"({run['peak_uss_tree_mb']} MB unique); exit {run['exit_code']}, {run['output_lines']} lines")
    print(f"outputs identical across worker counts: {figures['outputs_identical']}")
    print(f"escalator --help: {figures['help_ms_median']} ms; heavy imports: {figures['help_heavy_imports']}")
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, default=str))
