"""`escalator serve` in process, through httpx's ASGI transport: the endpoints, the error
bodies, the token, hot reload, the decision log (strict and best-effort) and replay."""

from __future__ import annotations

from datetime import datetime, timezone

import json
import time
from pathlib import Path
from typing import Any

import pytest

from escalator.errors import PolicyError
from escalator.log.masking import KEY_ENV
from escalator.log.record import engine_keywords
from escalator.log.replay import replay
from escalator.log.store import DecisionLog, LogWriteError
from escalator.runtime.engine import Engine
from escalator.service.app import ServiceConfig, create_app
from service_support import KEY, ROOT, Client, all_examples, example, policy_copy
from conftest import replace_in

TOKEN = "t0ken-for-the-tests-0123456789"
CASE = "nl-bonus-loss-chasing.yaml"


def app_for(tmp_path: Path, **options: Any) -> tuple[Any, Client, DecisionLog]:
    policies, rules = policy_copy(tmp_path / "set", mask=options.pop("mask", None))
    log = DecisionLog(str(tmp_path / "d.db"))
    app = create_app(ServiceConfig(policies, rules, backend="compiled", log=log, **options))
    return app, Client(app, options.get("token")), log


@pytest.fixture
def served(tmp_path):
    app, client, log = app_for(tmp_path, mask=["player.id"], mask_key=KEY.encode())
    yield app, client, log
    log.close()


def test_decide_answers_what_the_library_answers_and_logs_it(served):
    app, client, log = served
    case = example(CASE)
    response = client.post("/v1/decide", json={"case": case, "at": "2026-11-25T10:00:00Z"},
                           headers={"X-Request-Id": "r-42"})
    assert response.status_code == 200
    with Engine.load(ROOT / "policies", ROOT / "rules", "compiled") as engine:
        at = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # one pinned instant for both
        assert response.content == engine.evaluate(case, at).to_json().encode()
    assert response.headers["x-policy-set"] == app.state.service.holder.live.digest
    assert response.headers["x-request-id"] == "r-42"
    [row] = list(log.records())
    assert row.decision_json.encode() == response.content and row.request_id == "r-42"
    assert row.policy_set == response.headers["x-policy-set"]
    assert json.loads(row.case_json)["player"]["id"].startswith("hmac-sha256.")


def test_a_batch_keeps_each_bad_case_in_its_slot(served):
    _, client, log = served
    cases = all_examples()[:5]
    bad = {**cases[1], "player": {**cases[1]["player"], "vip_level": 9}}
    response = client.post("/v1/decide/batch", json={"cases": [cases[0], bad, "nonsense", *cases[2:]]})
    assert response.status_code == 200
    body = response.json()
    results = body["results"]
    assert len(results) == 6 and body["policy_set"] == response.headers["x-policy-set"]
    assert results[1]["error"]["problems"][0]["path"] == "player.vip_level"
    assert results[2]["error"]["status"] == 422
    assert [r["case_id"] for r in results if "error" not in r] == [c["case_id"] for c in (cases[0], *cases[2:])]
    assert log.count() == 4  # one row per decided case


@pytest.mark.parametrize("body, status, title", [
    (b"{not json", 400, "not valid JSON"),
    (b'{"case": {}, "case": {}}', 400, "not valid JSON"),
    (b"[1, 2]", 422, "invalid request"),
    (b'{"case": {"case_id": "x"}}', 422, "invalid case"),
    (b'{"case": {}, "extra": 1}', 422, "invalid request"),
    (b'{"case": {}, "at": "yesterday"}', 422, "invalid request"),
    (b'{"case": {}, "locale": "<script>"}', 422, "invalid request"),
])
def test_every_bad_request_gets_a_json_error_body(served, body, status, title):
    _, client, log = served
    response = client.post("/v1/decide", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status and title in error["title"] and error["problems"]
    assert "Traceback" not in response.text and log.count() == 0


def test_size_limits_are_413(tmp_path):
    _, client, log = app_for(tmp_path, max_body_bytes=2048, max_batch=3)
    case = example(CASE)
    big = client.post("/v1/decide", json={"case": {**case, "attributes": {"note": "x" * 4000}}})
    assert big.status_code == 413 and "larger than 2048 bytes" in big.json()["error"]["title"]
    many = client.post("/v1/decide/batch", json={"cases": [case] * 4})
    assert many.status_code == 413 and "at most 3 cases" in many.json()["error"]["title"]
    assert log.count() == 0


def test_unknown_routes_and_methods_are_json(served):
    _, client, _ = served
    assert client.get("/v2/nothing").json()["error"]["status"] == 404
    assert client.get("/v1/decide").json()["error"]["status"] == 405


def test_a_token_guards_every_endpoint_but_health(tmp_path):
    _, client, _ = app_for(tmp_path, token=TOKEN)
    anonymous = Client(client.app)
    wrong = Client(client.app, TOKEN[:-1] + "x")
    for method, path in (("POST", "/v1/decide"), ("POST", "/v1/decide/batch"), ("POST", "/v1/explain"),
                         ("GET", "/v1/policies"), ("POST", "/v1/reload"), ("GET", "/metrics")):
        for other in (anonymous, wrong):
            response = other.request(method, path, json={"case": example(CASE)})
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
    assert anonymous.get("/healthz").status_code == 200
    assert client.post("/v1/decide", json={"case": example(CASE)}).status_code == 200


def test_policies_explain_health_and_openapi(served):
    app, client, _ = served
    policies = client.get("/v1/policies").json()
    assert policies["policy_set"] == app.state.service.holder.live.digest
    nl = next(p for p in policies["policies"] if p["id"] == "nl")
    with Engine.load(ROOT / "policies", ROOT / "rules", "compiled") as engine:
        assert nl["digest"] == engine.policies["nl"].digest and nl["version"] == engine.policies["nl"].version
    assert nl["log_mask"] == ["player.id"] and "effective_from" in nl
    explained = client.post("/v1/explain", json={"case": example(CASE)}).json()
    assert explained["decision"]["case_id"] == "NL-1001" and any(r["fired"] for r in explained["rules"])
    assert client.get("/healthz").json() == {"status": "ok", "policy_set": policies["policy_set"]}
    schema = client.get("/openapi.json").json()
    assert {"Case", "Decision", "DecideRequest", "BatchRequest", "ErrorBody"} <= set(schema["components"]["schemas"])
    decide = schema["paths"]["/v1/decide"]["post"]
    assert decide["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DecideRequest")
    assert "player" in schema["components"]["schemas"]["Case"]["properties"]


def test_metrics_count_decisions_errors_and_latency(served):
    app, client, _ = served
    client.post("/v1/decide", json={"case": example(CASE)})
    client.post("/v1/decide", content=b"{")
    text = client.get("/metrics").text
    assert 'escalator_decisions_total{handler="responsible_gambling",policy="nl"} 1.0' in text
    assert 'escalator_errors_total{kind="bad_request"} 1.0' in text
    assert 'escalator_request_seconds_count{endpoint="/v1/decide"} 2.0' in text
    assert f'escalator_policy_set_live{{digest="{app.state.service.holder.live.digest}"}} 1.0' in text


def test_reload_swaps_a_good_set_and_refuses_a_bad_one(served):
    app, client, log = served
    service = app.state.service
    first = service.holder.live.digest
    nl = service.holder.policies / "nl.yaml"
    replace_in(nl, "version: ", "version: 2099.1-")
    swapped = client.post("/v1/reload").json()
    assert swapped["reloaded"] and swapped["previous"] == first and swapped["policy_set"] != first
    answer = client.post("/v1/decide", json={"case": example(CASE)})
    assert answer.headers["x-policy-set"] == swapped["policy_set"]
    assert json.loads(answer.content)["policy"]["version"].startswith("2099.1-")

    nl.write_text(nl.read_text() + "\ntiers: [{id: agent, level: nope}]\n")
    refused = client.post("/v1/reload")
    assert refused.status_code == 422 and "old one keeps serving" in refused.json()["error"]["title"]
    assert refused.headers["x-policy-set"] == swapped["policy_set"]
    assert client.get("/healthz").json()["policy_set"] == swapped["policy_set"]
    assert client.post("/v1/decide", json={"case": example(CASE)}).status_code == 200
    metrics = client.get("/metrics").text
    assert 'escalator_reloads_total{result="ok"} 1.0' in metrics
    assert 'escalator_reloads_total{result="refused"} 1.0' in metrics
    assert f'escalator_policy_set_live{{digest="{first}"}}' not in metrics
    assert {r.policy_set for r in log.records()} == {swapped["policy_set"]}
    # both sets are in the log, so both can be replayed
    assert log.policy_set_files(first) is not None and log.policy_set_files(swapped["policy_set"]) is not None


def test_reload_never_reads_a_folder_named_by_the_request(served, tmp_path):
    app, client, _ = served
    before = app.state.service.holder.live.digest
    response = client.post("/v1/reload", json={"policies": str(tmp_path), "rules": "/etc"})
    assert response.status_code == 200 and response.json()["policy_set"] == before


def test_watching_the_folder_reloads_on_change(tmp_path):
    app, client, _ = app_for(tmp_path, watch=0.05)
    service = app.state.service
    first = service.holder.live.digest
    service.watcher.start()
    try:
        replace_in(service.holder.policies / "uk.yaml", "version: ", "version: 2099.2-")
        deadline = time.monotonic() + 10
        while service.holder.live.digest == first and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        service.watcher.stop()
    assert service.holder.live.digest != first


def test_a_set_with_masks_needs_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(Exception, match="no mask key"):
        app_for(tmp_path, mask=["player.id"])


def test_a_log_that_cannot_be_written_fails_the_request_or_is_counted(served, tmp_path):
    app, client, log = served

    def broken(records: Any) -> None:
        raise LogWriteError("cannot write the decision log: disk full")

    log.append = broken  # type: ignore[method-assign]
    strict = client.post("/v1/decide", json={"case": example(CASE)})
    assert strict.status_code == 503 and "no decision is given" in strict.json()["error"]["title"]
    assert "handler" not in strict.text
    app.state.service.config.log_mode = "best-effort"
    lenient = client.post("/v1/decide", json={"case": example(CASE)})
    assert lenient.status_code == 200 and lenient.headers["x-decision-log"] == "failed"
    assert json.loads(lenient.content)["case_id"] == "NL-1001"
    assert "escalator_log_failures_total 2.0" in client.get("/metrics").text


def test_at_and_locale_reach_the_engine_only_when_it_takes_them(served):
    _, client, log = served
    response = client.post("/v1/decide", json={"case": example(CASE), "at": "2026-11-21T10:00:00Z", "locale": "nl"})
    accepted = engine_keywords(Engine.default(backend="compiled"))
    if {"at", "locale"} <= accepted:
        assert response.status_code == 200
        [row] = list(log.records())
        assert row.at == "2026-11-21T10:00:00.000000Z" and row.locale == "nl"
    else:
        assert response.status_code == 422
        paths = {p["path"] for p in response.json()["error"]["problems"]}
        assert paths <= {"at", "locale"} and paths == {"at", "locale"} - accepted


def test_a_served_decision_replays_byte_for_byte_and_a_change_shows(served, tmp_path):
    app, client, log = served
    cases = all_examples()
    answers = [client.post("/v1/decide", json={"case": case}) for case in cases]
    assert all(a.status_code == 200 for a in answers)
    report = replay(log)
    assert report.rows == len(cases) == report.reproduced and report.not_reproduced == 0
    assert report.impact.changed == 0

    policies, rules = policy_copy(tmp_path / "candidate")
    replace_in(policies / "base.yaml", "goodwill_bonus: 50.00", "goodwill_bonus: 40.00")
    with Engine.load(policies, rules, "compiled") as candidate:
        changed = replay(log, candidate)
    assert changed.mode == "candidate" and changed.impact.changed > 0
    assert changed.impact.fields["authority.goodwill_bonus"] > 0


def test_a_bad_policy_set_stops_the_service_from_starting(tmp_path):
    policies, rules = policy_copy(tmp_path)
    (policies / "nl.yaml").write_text("policy: nl\nextends: nowhere\n")
    with pytest.raises(PolicyError):
        create_app(ServiceConfig(policies, rules))


PINNED_AT = "2026-11-25T10:00:00Z"


def test_a_locale_is_passed_logged_and_replayed(served):
    _, client, log = served
    if "locale" not in engine_keywords(Engine.default(backend="compiled")):
        pytest.skip("this Engine takes no locale yet")
    english = client.post("/v1/decide", json={"case": example(CASE), "locale": "en"})
    # the explanation below is compared with this decision: both at one instant (not "now", which may tick)
    dutch = client.post("/v1/decide", json={"case": example(CASE), "locale": "nl", "at": PINNED_AT})
    assert english.status_code == dutch.status_code == 200 and english.content != dutch.content
    assert [r.locale for r in log.records()] == ["en", "nl"]
    assert replay(log).reproduced == 2
    unknown = client.post("/v1/decide", json={"case": example(CASE), "locale": "fr"})
    assert unknown.status_code == 422 and unknown.json()["error"]["problems"][0]["path"] == "locale"
    explained = client.post("/v1/explain", json={"case": example(CASE), "locale": "nl", "at": PINNED_AT})
    assert explained.status_code == 200 and explained.json()["decision"] == json.loads(dutch.content)


def test_serve_refuses_a_short_token_and_a_bad_log_url_before_listening(tmp_path):
    from typer.testing import CliRunner

    from escalator.cli import app as cli

    (tmp_path / "token").write_text("short\n")
    runner = CliRunner()
    short = runner.invoke(cli, ["serve", "--token-file", str(tmp_path / "token")])
    assert short.exit_code == 2 and "at least 16 characters" in short.output
    bad_log = runner.invoke(cli, ["serve", "--log", "mysql://db/x"])
    assert bad_log.exit_code == 2 and "unsupported log URL scheme" in bad_log.output
