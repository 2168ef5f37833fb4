"""`escalator serve` as a real uvicorn process on a random 127.0.0.1 port: the token, the
decision log on SQLite and PostgreSQL, and a bounded load test that reloads the policy
20 times while concurrent requests are answered."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from escalator.log.masking import KEY_ENV
from escalator.log.replay import replay
from escalator.log.store import DecisionLog
from service_support import KEY, Server, all_examples, example, log_url, policy_copy  # noqa: F401  (log_url: fixture)

TOKEN = "a-token-of-the-server-test-0123456789"
LOAD_SECONDS = 30  # the bound of the concurrent phase (the server's start-up is bounded apart, by Server.wait)
RELOADS = 20
CLIENT_SECONDS = 12  # clients stop sending by then, so the last reloads finish well inside the bound
CLIENTS = 3


def test_a_real_server_with_a_token_and_a_log(tmp_path, log_url):
    policies, rules = policy_copy(tmp_path, mask=["player.id"])
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "token").chmod(0o600)
    args = ("--policies", str(policies), "--rules", str(rules), "--token-file", str(tmp_path / "token"),
            "--log", log_url, "--backend", "compiled")
    with Server(tmp_path, *args, env={KEY_ENV: KEY}) as server:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(server.url + "/v1/decide", json={"case": example("nl-bonus-loss-chasing.yaml")},
                          timeout=10).status_code == 401
        answer = httpx.post(server.url + "/v1/decide", json={"case": example("nl-bonus-loss-chasing.yaml")},
                            headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        policies_now = httpx.get(server.url + "/v1/policies", headers=auth, timeout=10).json()
    with DecisionLog(log_url, create=False) as log:
        [row] = list(log.records())
        assert row.decision_json.encode() == answer.content
        assert row.policy_set == policies_now["policy_set"] == answer.headers["x-policy-set"]
        report = replay(log)
        assert report.reproduced == 1 and report.impact.bad == 0


def test_load_with_20_reloads_every_answer_complete_and_logged_once(tmp_path):
    policies, rules = policy_copy(tmp_path)
    db = tmp_path / "d.db"
    cases = all_examples()
    args = ("--policies", str(policies), "--rules", str(rules), "--log", str(db), "--backend", "compiled")
    answers: list[tuple[str, int, str, bytes]] = []  # request id, status, policy set, body
    lock = threading.Lock()
    done = threading.Event()
    live: dict[str, set[str]] = {}  # set digest -> its policies' digests
    failures: list[str] = []
    started = 0.0
    with Server(tmp_path, *args) as server:
        def remember_live() -> str:
            now = httpx.get(server.url + "/v1/policies", timeout=10).json()
            live[now["policy_set"]] = {p["digest"] for p in now["policies"]}
            return now["policy_set"]

        def client(number: int) -> None:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                i = 0
                while not done.is_set() and time.monotonic() - started < CLIENT_SECONDS:
                    rid = f"c{number}-{i}"
                    try:
                        r = http.post("/v1/decide", json={"case": cases[(number + i) % len(cases)]},
                                      headers={"X-Request-Id": rid})
                    except httpx.HTTPError as exc:
                        with lock:
                            failures.append(f"{rid}: {exc!r}")
                        break
                    with lock:
                        answers.append((rid, r.status_code, r.headers.get("x-policy-set", ""), r.content))
                    i += 1

        started = time.monotonic()
        remember_live()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        nl = policies / "nl.yaml"
        original = nl.read_text()
        try:
            for n in range(RELOADS):
                nl.write_text(original.replace("version: ", f"version: r{n}-", 1))
                reloaded = httpx.post(server.url + "/v1/reload", timeout=30)
                assert reloaded.status_code == 200, reloaded.text
                assert remember_live() == reloaded.json()["policy_set"]
                time.sleep(0.05)
        finally:
            elapsed = time.monotonic() - started
            done.set()
            for thread in threads:
                thread.join(timeout=30)
    assert not failures, failures[:3]
    assert len(live) == RELOADS + 1
    assert len(answers) >= 2 * RELOADS, "too few requests overlapped the reloads"
    for rid, status, policy_set, body in answers:
        assert status == 200, (rid, body[:200])
        decision = json.loads(body)  # complete JSON
        assert {"case_id", "policy", "handler", "authority", "reasons"} <= set(decision)
        assert policy_set in live, (rid, policy_set)
        assert decision["policy"]["digest"] in live[policy_set]  # decided wholly by the set it names
    with DecisionLog(str(db), create=False) as log:
        rows = list(log.records())
    assert sorted(r.request_id for r in rows) == sorted(rid for rid, *_ in answers)  # one row per answer
    by_id = {rid: (policy_set, body) for rid, _, policy_set, body in answers}
    assert all((r.policy_set, r.decision_json.encode()) == by_id[r.request_id] for r in rows)
    print(f"load: {len(answers)} answers during {RELOADS} reloads in {elapsed:.1f} s")
    assert elapsed < LOAD_SECONDS


def test_the_load_benchmark_runs_and_reports(tmp_path, capsys):
    import sys

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    from benchmarks import service_load

    out = tmp_path / "figures.json"
    assert service_load.main(["--seconds", "0.5", "--clients", "1", "--log", "sqlite", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["results"]
    assert [f["scenario"] for f in figures] == ["single", "batch of 100"]
    for f in figures:
        assert f["requests"] > 0 and 0 < f["p50_ms"] <= f["p99_ms"]
    assert "| batch of 100 | SQLite |" in capsys.readouterr().out
