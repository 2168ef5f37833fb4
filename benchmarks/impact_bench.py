"""Benchmark of policy impact analysis: `escalator impact` on N generated cases.

    python benchmarks/impact_bench.py --cases 100000

Generates N seeded JSON Lines cases (the CLI batch benchmark's mix: NL, UK, GB and MT,
every request kind, amounts a cent either side of the thresholds, a few bad cases),
makes a candidate policy set (bundled, with NL's max_pending_hours raised from 48 to 72
and UK's large_win halved), and runs the real CLI as a subprocess,
`escalator impact --base bundled --candidate TMP - --format json`, with --workers 1
and 2. Reports throughput (cases compared per second; each case is decided twice),
peak RSS of the process tree, and whether both worker counts gave the same report.
`main(argv)` returns the figures as a dict (benchmarks/bench.py --full calls it).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.cli_batch import PeakMemory, batch_arguments, write_cases  # noqa: E402


def make_candidate(into: Path) -> Path:
    """Bundled policies with two thresholds moved: what a real policy change looks like."""
    from escalator.language.sources import bundled_dir

    shutil.copytree(bundled_dir("policies"), into / "policies")
    shutil.copytree(bundled_dir("rules"), into / "rules")
    nl, uk = into / "policies" / "nl.yaml", into / "policies" / "uk.yaml"
    nl.write_text(re.sub(r"max_pending_hours: 48\b", "max_pending_hours: 72", nl.read_text(), count=1))
    text = uk.read_text()
    if re.search(r"^\s*large_win:", text, re.M):
        uk.write_text(re.sub(r"(^\s*large_win:\s*)[0-9.]+", r"\g<1>5000.00", text, count=1, flags=re.M))
    else:
        uk.write_text(re.sub(r"^params:\n", "params:\n  large_win: 5000.00\n", text, count=1, flags=re.M))
    return into


def run_impact(cases_file: Path, candidate: Path, workers: int, out_file: Path, backend: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "escalator", "impact", "--base", "bundled", "--candidate", str(candidate), "-",
           "--format", "json", "--workers", str(workers), "--backend", backend, "--no-progress"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(cases_file, "rb") as stdin, open(out_file, "wb") as stdout:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, cwd=cases_file.parent)
        sampler = PeakMemory(proc.pid)
        code = proc.wait()
        elapsed = time.perf_counter() - start
    peak = sampler.result()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_max = after.ru_maxrss / 1024
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # CLI + its workers
    report = json.loads(out_file.read_text()) if out_file.stat().st_size else {}
    return {"workers": workers, "exit_code": code, "seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_process_mb": peak["process"], "peak_rss_tree_mb": peak["tree_rss"],
            "peak_uss_tree_mb": peak["tree_uss"], "max_child_rss_mb_cumulative": round(children_max, 1),
            "cases": report.get("cases"), "changed": report.get("changed"), "bad": report.get("bad"),
            "report": report}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = batch_arguments((__doc__ or "").split("\n\n")[0], "counted, not dropped").parse_args(argv)

    result: dict[str, Any] = {"cases": args.cases, "seed": args.seed, "backend": args.backend,
                              "cpus": os.cpu_count(), "runs": []}
    reports = []
    with tempfile.TemporaryDirectory(prefix="escalator-impact-bench-") as tmp:
        cases_file = Path(tmp) / "cases.jsonl"
        write_cases(cases_file, args.cases, args.seed, args.bad_rate)
        candidate = make_candidate(Path(tmp) / "candidate")
        result["input_mb"] = round(cases_file.stat().st_size / 2**20, 1)
        for workers in (int(w) for w in args.workers.split(",")):
            run = run_impact(cases_file, candidate, workers, Path(tmp) / f"impact-{workers}.json", args.backend)
            reports.append(run.pop("report"))
            run["cases_per_second"] = round(args.cases / run["seconds"]) if run["seconds"] else None
            run["cases_per_cpu_second"] = round(args.cases / run["cpu_seconds"]) if run["cpu_seconds"] else None
            result["runs"].append(run)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews wall time
    result["reports_identical"] = all(r == reports[0] for r in reports) if reports else None
    if reports and reports[0]:
        first = reports[0]
        result["fields_changed"] = {k: v for k, v in first["fields"].items() if v}
        result["handler_transitions"] = first["handler_transitions"][:5]
    peaks = [run["peak_rss_tree_mb"] or run["max_child_rss_mb_cumulative"] for run in result["runs"]]
    result["peak_rss_mb"] = max(peaks) if peaks else None
    return result


if __name__ == "__main__":
    figures = main(sys.argv[1:])
    for run in figures["runs"]:
        print(f"workers={run['workers']}: {run['cases_per_second']} cases/s ({run['seconds']} s), "
              f"peak RSS {run['peak_rss_process_mb']} MB (largest process) / {run['peak_rss_tree_mb']} MB (tree), "
              f"USS {run['peak_uss_tree_mb']} MB (tree), "
              f"{run['cpu_seconds']} CPU s, exit {run['exit_code']} (2 = some bad cases, as generated), {run['changed']} changed, {run['bad']} bad")
    print(f"reports identical across worker counts: {figures['reports_identical']}")
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, default=str))
