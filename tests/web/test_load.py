"""Load: 200 concurrent clients of /v1/triage on a real server on loopback, with a
publish in the middle; every answer is right for the version it names, none is dropped,
and the latencies are reported (docs/performance.md)."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .conftest import need_web

need_web()

import triage  # noqa: E402
from triage.web import ServeOptions, create_app  # noqa: E402

from .conftest import ROOT, ROOT_ARTIFACTS, draft_of, running  # noqa: E402

REQUESTS = 200
#: At most this many requests per client (the publish normally ends within a few).
MAX_ROUNDS = 40
FIELDS = ("request_type", "handling", "category", "subcategory", "severity", "flags",
          "rules")


def _records() -> list[dict[str, Any]]:
    lines = (ROOT / "examples" / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
    examples = [json.loads(line) for line in lines if line.strip()]
    return [{**examples[i % len(examples)], "id": f"L-{i}",
             "received_at": "2026-11-23T10:00:00+08:00"} for i in range(REQUESTS)]


def _expected(policy: triage.Policy, record: dict[str, Any]) -> dict[str, Any]:
    data = policy.triage(record).to_dict("lean")
    return {k: data[k] for k in FIELDS} | {"owner": data["owner"]["role"]}


def _post(port: int, path: str, body: dict[str, Any],
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], float]:
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, json.dumps(body, ensure_ascii=False).encode(),
                           {"Content-Type": "application/json", **(headers or {})})
        answer = connection.getresponse()
        data = json.loads(answer.read())
    finally:
        connection.close()
    return answer.status, data, time.perf_counter() - start


def test_200_concurrent_triages_while_a_publish_happens(folder: Path) -> None:
    """200 concurrent clients request until a publish is over: every answer is 200 with the
    decision of the version it names, both versions answer, each client's last answer
    (sent after the publish) is the new version."""
    records = _records()
    old_policy = triage.load_policy(folder)
    app = create_app(folder, ServeOptions())
    path = draft_of(folder) / "severity.yaml"
    with running(app) as base:
        port = int(base.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/try")
        page = connection.getresponse().read().decode()
        connection.close()
        csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        path.write_text(path.read_text("utf-8").replace("一般缺陷", "一般的缺陷"), "utf-8")
        new_policy = triage.load_policy(draft_of(folder))
        expected = {old_policy.version: [_expected(old_policy, r) for r in records],
                    new_policy.version: [_expected(new_policy, r) for r in records]}
        gate = threading.Barrier(REQUESTS + 1)
        published_event = threading.Event()

        def client(i: int) -> list[tuple[int, dict[str, Any], float]]:
            """One of 200 clients: requests until the publish is over, then one more."""
            gate.wait()
            answers = []
            for _ in range(MAX_ROUNDS):
                finished = published_event.is_set()
                answers.append(_post(port, "/v1/triage", records[i]))
                if finished:
                    break
            return answers

        with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
            futures = [pool.submit(client, i) for i in range(REQUESTS)]
            gate.wait()
            time.sleep(0.2)  # the first wave is in flight
            published = _post(port, "/v1/publish", {"author": "load"},
                              {"X-CSRF-Token": csrf})
            published_event.set()
            results = [(i, answer) for i, f in enumerate(futures)
                       for answer in f.result(timeout=120)]
    assert published[0] == 200, published[1]
    wrong = []
    for i, (status, data, _) in results:
        want = expected.get(data.get("policy_version", ""), [None] * REQUESTS)[i]
        got = {k: data.get(k) for k in FIELDS} | {"owner": data.get("owner", {}).get("role")}
        if status != 200 or got != want:
            wrong.append((i, status, data.get("error")))
    assert wrong == []
    versions = {data["policy_version"] for _, (_, data, _) in results}
    assert versions == {old_policy.version, new_policy.version}  # the publish fell inside
    last = [next(a for j, a in reversed(results) if j == i) for i in range(REQUESTS)]
    assert {a[1]["policy_version"] for a in last} == {new_policy.version}
    seconds = sorted(a[2] for _, a in results)
    report = {"clients": REQUESTS, "requests": len(results),
              "p50_ms": round(seconds[len(seconds) // 2] * 1000, 1),
              "p99_ms": round(seconds[max(0, int(len(seconds) * 0.99) - 1)] * 1000, 1),
              "max_ms": round(seconds[-1] * 1000, 1),
              "publish_ms": round(published[2] * 1000, 1)}
    folder_out = Path(os.environ.get("TRIAGE_ARTIFACTS", ROOT_ARTIFACTS))
    folder_out.mkdir(parents=True, exist_ok=True)
    (folder_out / "serve-load.json").write_text(json.dumps(report, indent=1), "utf-8")
    print("serve load:", report)
    assert seconds[-1] < 60
