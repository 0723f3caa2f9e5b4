"""Two `qa slack --http` processes over one PostgreSQL store, as a team scales the bot behind a load balancer:
100 signed events and Slack's redeliveries of some of them, spread across both; each question answered once."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.paths import ROOT, SEEDS
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_process import SECRET, Running, qa_env

QUESTIONS = ["How much did the Biden administration pledge to the Haiti mission?", "Who did Ruto call in January 2025?"]


def deliver(url: str, i: int, retry: int) -> int:
    body = json.dumps({"type": "event_callback", "event_id": f"EvR{i:03}", "team_id": "T0TEAM", "event": {
        "type": "app_mention", "user": "U0ANN", "text": f"<@U0BOT> {QUESTIONS[i % 2]}", "ts": f"1713000{i:03}.000100",
        "channel": "C0REPLICA"}})
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return int(resp.status)


def test_two_replicas_answer_each_of_100_questions_exactly_once(tmp_path: Path, pg_database: str) -> None:
    env = {**qa_env(tmp_path, SLACK_BOT_TOKEN="xoxb-replicas", SLACK_SIGNING_SECRET=SECRET), "QA_READER": "none"}
    done = subprocess.run([sys.executable, "-m", "adapters", "ingest", str(SEEDS), "--store", pg_database], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with SlackAPIServer() as api:
        env["SLACK_API_URL"] = api.url
        replicas = [Running(["--http", "--port", "0", "--store", pg_database], env, "Answering Slack at")
                    for _ in range(2)]
        try:
            urls = [r.wait_ready(120).split()[3].replace("0.0.0.0", "127.0.0.1") for r in replicas]
            rng = random.Random(16)
            deliveries = []
            for i in range(100):
                first = rng.randrange(2)
                if i % 5 != 0:
                    deliveries.append((urls[first], i, 0))
                # Slack thought the first delivery was missed (every fifth was lost indeed): it resends, to
                # either replica, twice
                if i % 3 == 0 or i % 5 == 0:
                    deliveries += [(urls[1 - first], i, 1), (urls[rng.randrange(2)], i, 2)]
            rng.shuffle(deliveries)
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda d: deliver(*d), deliveries))
            assert statuses == [200] * len(deliveries)
            api.wait_for("chat.postMessage", count=100, timeout=120)
            time.sleep(1.5)  # time for any second answer to arrive
            per_question = Counter(c.params["thread_ts"] for c in api.calls_to("chat.postMessage"))
            assert len(per_question) == 100 and set(per_question.values()) == {1}
        finally:
            codes = [r.stop() for r in replicas]
    assert codes == [0, 0]
    assert not any("Traceback" in "".join(r.lines) for r in replicas)
