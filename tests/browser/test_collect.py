"""A participant on a fake camera consents, runs and closes the tab: the server holds exactly the page's log.

Everything is real: ``gazesite collect`` in its own process on a free port, a ``--collect`` build served
by ``gazesite serve`` on another origin, Chromium with a synthetic face as its camera.
"""

from __future__ import annotations

import csv
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gazesite.bench.fakecam import face_video
from gazesite.chromium import camera_args, wait_ready, wait_state
from gazesite.collect.storage import read_sessions
from gazesite.samples.schema import MAX_PAGES
from gazesite.samples.upgrade import upgrade_sample as as_v2

from ..helpers import gazesite
from ..helpers.collect import CollectProcess, free_port
from ..helpers.pages import watch

STUDY = "browser-study"
FINAL_LOG_KEY = "gazesite-test-final-log"
# Runs before the page's own code, so its pagehide listener runs first: the page's log exactly as the
# sender cuts its last batch (no frame can be logged between two listeners of one event). localStorage
# outlives the tab within the browser context, so the test reads it from a second tab afterwards.
FINAL_LOG_SCRIPT = f"""
if (window.top === window) addEventListener('pagehide', () => {{
  if (window.gazesite) localStorage.setItem({FINAL_LOG_KEY!r}, JSON.stringify({{samples: window.gazesite.samples, collect: window.gazesite.collect}}));
}});
"""


@pytest.fixture(scope="module")
def study(
    tmp_path_factory: pytest.TempPathFactory, launch_chromium: Any, build_site: Any, serve_site: Any, target_server: Any
) -> Iterator[dict[str, Any]]:
    port = free_port()
    # The researcher view: these tests drive the panel's Start and Calibrate (test_study_flow.py drives the participant flow).
    dist = build_site(target_server.url("/study"), "--collect", f"http://127.0.0.1:{port}/batches", "--study", STUDY, "--researcher-view")
    site = serve_site(dist)
    collect = CollectProcess(tmp_path_factory.mktemp("collect") / "study.db", f"http://localhost:{site.port}", port).start()
    browser = launch_chromium(*camera_args(face_video(tmp_path_factory.mktemp("camera") / "face.y4m")))
    yield {"site": site, "collect": collect, "browser": browser, "target": target_server.url("/study")}
    collect.stop()


def open_study(study: dict[str, Any]) -> tuple[Any, Any, list[str]]:
    context = study["browser"].new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(FINAL_LOG_SCRIPT)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(study["site"].url)
    wait_ready(page)
    return context, page, requests


def to_collector(requests: list[str], study: dict[str, Any]) -> list[str]:
    return [url for url in requests if url.startswith(f"http://127.0.0.1:{study['collect'].port}")]


def stored_session(db: Path, session: str, count: int, timeout: float = 20.0) -> dict[str, Any]:
    """The session as the report will read it, once it holds ``count`` samples (or whatever it holds at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in read_sessions(db) if s["session"] == session]
        if (found and len(found[0]["samples"]) >= count) or time.monotonic() > deadline:
            assert found, f"session {session} never reached the server"
            return found[0]
        time.sleep(0.25)


def test_consent_run_close_stores_exactly_the_page_log(study: dict[str, Any], tmp_path: Path) -> None:
    context, page, requests = open_study(study)
    problems = watch(page)
    # Before consent: the notice, no camera, nothing sent.
    assert page.locator("#status").get_attribute("data-state") == "consent"
    assert page.locator("#consent").is_visible() and page.locator("#consent-accept").is_enabled()
    page.wait_for_timeout(1500)
    assert page.evaluate("window.gazesite.framesProcessed") == 0 and page.evaluate("window.gazesite.samples.length") == 0
    assert page.evaluate("window.gazesite.collect") == {"consent": None}
    assert page.locator("#calibrate").is_disabled()
    assert to_collector(requests, study) == []

    page.click("#consent-accept")
    assert not page.locator("#consent").is_visible()
    wait_state(page, "running")
    page.wait_for_function("window.gazesite.collect.sentBatches >= 2 && window.gazesite.samples.length >= 90", timeout=90_000)
    status = page.evaluate("window.gazesite.collect")
    assert status["consent"] == "accepted" and status["rejected"] == 0
    assert page.locator("#collect-status").get_attribute("data-state") == "sending"
    assert "sent to 127.0.0.1" in page.locator("#collect-status").inner_text()
    problems.assert_none()

    page.close()  # pagehide: the last samples leave by sendBeacon
    reader = context.new_page()
    reader.goto(study["site"].url)
    final = json.loads(reader.evaluate(f"localStorage.getItem({FINAL_LOG_KEY!r})"))
    log = final["samples"]
    assert len(log) >= 90 and final["collect"]["session"] == status["session"]
    assert reader.evaluate("window.gazesite.collect") == {"consent": None}  # the new tab sends nothing unasked
    context.close()

    stored = stored_session(study["collect"].db, status["session"], len(log))
    assert stored["samples"] == [as_v2(sample) for sample in log]  # none lost, none duplicated, every value equal
    assert stored["collected"]["missingBatches"] == 0
    assert stored["format"] == "gazesite-samples" and stored["version"] == 2
    assert stored["study"] == STUDY and stored["mode"] == "frame" and stored["target"] == study["target"]
    assert stored["screen"] == [1280, 800] and stored["calibration"] is None
    assert study["collect"].alive()

    # The report reads the same database (through read_sessions) and counts this participant's samples.
    report = tmp_path / "report"
    result = gazesite("report", "--db", study["collect"].db, "--out", report)
    assert result.returncode == 0, result.stderr
    with open(report / "participants.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["id"] == status["session"]]
    assert len(rows) == 1 and int(rows[0]["samples"]) == len(log)


def test_declining_starts_nothing_and_sends_nothing(study: dict[str, Any]) -> None:
    context, page, requests = open_study(study)
    problems = watch(page)
    sessions_before = len(read_sessions(study["collect"].db))
    page.click("#consent-decline")
    wait_state(page, "declined")
    page.wait_for_timeout(2500)
    assert page.evaluate("window.gazesite.framesProcessed") == 0 and page.evaluate("window.gazesite.samples.length") == 0
    assert not page.locator("#consent").is_visible()
    assert page.locator("#collect-status").get_attribute("data-state") == "declined"
    assert "declined" in page.locator("#status").inner_text()
    assert page.locator("#calibrate").is_disabled() and page.locator("#record").is_disabled()
    page.click("#start")  # Start shows the notice again instead of starting the camera
    assert page.locator("#consent").is_visible()
    assert page.evaluate("window.gazesite.framesProcessed") == 0
    page.close()
    assert to_collector(requests, study) == []
    assert len(read_sessions(study["collect"].db)) == sessions_before
    problems.assert_none()
    context.close()


def test_batches_wait_on_the_device_while_the_server_is_down_and_survive_a_reload(study: dict[str, Any]) -> None:
    collect: CollectProcess = study["collect"]
    collect.kill()
    context, page, _ = open_study(study)
    try:
        page.click("#consent-accept")
        wait_state(page, "running")
        page.wait_for_function("window.gazesite.collect.state === 'retrying' && window.gazesite.collect.pending >= 2", timeout=90_000)
        assert page.locator("#collect-status").get_attribute("data-state") == "retrying"
        assert "kept on this device" in page.locator("#collect-status").inner_text()
        page.click("#stop")
        page.wait_for_timeout(2500)  # the sender cuts the last samples into a batch
        log = page.evaluate("window.gazesite.samples")
        session = page.evaluate("window.gazesite.collect.session")
        kept = json.loads(page.evaluate(f"localStorage.getItem(Object.keys(localStorage).find(k => k.endsWith({session!r})))"))
        assert sum(batch["count"] for batch in kept["batches"]) == len(log) > 0

        page.reload()  # its beacons find no server either: the batches stay in localStorage
        wait_ready(page)
        collect.start()
        page.click("#consent-accept")  # the next visit, consenting again, sends what the last one could not
        stored = stored_session(collect.db, session, len(log))
        assert stored["samples"] == [as_v2(sample) for sample in log]
        assert stored["collected"]["missingBatches"] == 0
        page.wait_for_function("window.gazesite.collect.pending === 0 && window.gazesite.collect.sentBatches >= 1", timeout=30_000)
        assert page.evaluate(f"Object.keys(localStorage).filter(k => k.endsWith({session!r}))") == []
    finally:
        if not collect.alive():
            collect.start()
        context.close()


# ---------------------------------------------------------------- the sender on its own, in the same Chromium

SENDER_HARNESS = """
async (scenario) => {
  const { Sender } = await import('./app/collect/sender.js');
  const store = new Map(scenario.stored ?? []);
  const storage = {
    get length() { return store.size; },
    key: (i) => [...store.keys()][i] ?? null,
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => { if (scenario.storageFull) throw new DOMException('full', 'QuotaExceededError'); store.set(k, String(v)); },
    removeItem: (k) => { store.delete(k); },
  };
  const answers = [...scenario.answers];
  const posted = [];
  const fetchImpl = async (url, options) => {
    const batch = JSON.parse(options.body);
    posted.push({ session: batch.session, sequence: batch.sequence, count: batch.samples.length, at: performance.now() });
    const answer = answers.length > 0 ? answers.shift() : { status: 200, body: { ok: true } };
    if (answer.status === 'network') throw new TypeError('Failed to fetch');
    return new Response(JSON.stringify(answer.body ?? {}), { status: answer.status, headers: answer.headers ?? {} });
  };
  const samples = [];
  const settings = {
    url: 'https://collect.test/b', study: 's',
    batch: { format: 'gazesite-batch', version: 1, intervalMs: 3600000, maxSamples: scenario.maxSamples ?? 120, maxBytes: scenario.maxBytes ?? 1048576 },
    retry: { firstMs: 40, maxMs: 400, timeoutMs: 5000 },
    queue: { key: 'q', maxChars: 2000000 },
  };
  const statuses = [];
  const sender = new Sender({
    settings, session: 'session-under-test-01', samples: () => samples, meta: () => ({ mode: 'frame' }),
    onChange: (s) => statuses.push({ ...s }), storage, fetchImpl,
  });
  sender.start();
  for (let i = 0; i < scenario.samples; i += 1) samples.push({ t: i, x: i, y: i, note: scenario.note ?? 'n' });
  sender.cut();
  const deadline = performance.now() + 10000;
  while ((sender.status.pending > 0 || sender.sending) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  sender.stop();
  return { posted, status: sender.status, statuses, stored: [...store.entries()] };
}
"""


@pytest.fixture(scope="module")
def harness(study: dict[str, Any]) -> Any:
    context = study["browser"].new_context()
    page = context.new_page()
    page.goto(study["site"].url)
    wait_ready(page)
    yield lambda **scenario: page.evaluate(SENDER_HARNESS, {"answers": [], **scenario})
    context.close()


def test_sender_cuts_batches_in_order_and_clears_storage_when_sent(harness: Any) -> None:
    result = harness(samples=250, maxSamples=100)
    assert [(p["sequence"], p["count"]) for p in result["posted"]] == [(0, 100), (1, 100), (2, 50)]
    assert result["status"]["sentSamples"] == 250 and result["status"]["pending"] == 0 and result["stored"] == []


def test_sender_splits_a_batch_that_would_pass_the_body_limit(harness: Any) -> None:
    result = harness(samples=40, maxSamples=40, maxBytes=3000, note="x" * 100)
    assert sum(p["count"] for p in result["posted"]) == 40 and max(p["count"] for p in result["posted"]) <= 20


def test_sender_splits_a_refused_batch_and_drops_only_a_refused_sample(harness: Any) -> None:
    refused = {"status": 400, "body": {"ok": False, "error": "samples[3].x must be a finite number"}}
    # A refused batch of 100 goes again as two halves with new sequence numbers (the server took both here).
    result = harness(samples=150, maxSamples=100, answers=[refused])
    assert [p["sequence"] for p in result["posted"]] == [0, 2, 3, 1]
    assert result["status"]["rejected"] == 0 and result["status"]["sentSamples"] == 150
    # A refused batch of one sample cannot be split: it is dropped, and the status says why.
    result = harness(samples=1, answers=[refused])
    assert [p["sequence"] for p in result["posted"]] == [0]
    assert result["status"]["rejected"] == 1 and result["status"]["sentSamples"] == 0
    assert "400: samples[3].x must be a finite number" in result["status"]["lastError"]


def test_sender_backs_off_and_honours_retry_after(harness: Any) -> None:
    answers = [
        {"status": "network"},
        {"status": "network"},
        {"status": 503, "headers": {"Retry-After": "1"}},
        {"status": 200, "body": {"ok": True}},
    ]
    result = harness(samples=10, answers=answers)
    times = [p["at"] for p in result["posted"]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(result["posted"]) == 4 and all(p["sequence"] == 0 for p in result["posted"])
    # 40 ms then 80 ms, each jittered to half-full (timers may run late on a busy machine).
    assert 20 <= gaps[0] <= 250 and 40 <= gaps[1] <= 400
    assert gaps[2] >= 390  # Retry-After: 1 s, capped at maxMs (400 ms)
    assert any(s["state"] == "retrying" and "cannot be reached" in s["lastError"] for s in result["statuses"])
    assert result["status"]["sentSamples"] == 10


def test_sender_resends_earlier_visits_first_and_survives_full_storage(harness: Any) -> None:
    earlier = {
        "updated": 0,
        "batches": [{"sequence": 4, "body": '{"session":"earlier-visit-0000001","sequence":4,"samples":[{}]}', "count": 1}],
    }
    other_url = ["gazesite-collect:https://elsewhere.test/:x", "{}"]
    result = harness(
        samples=5,
        stored=[["q:https://collect.test/b:earlier-visit-0000001", json.dumps(earlier)], other_url],
        storageFull=True,
    )
    assert [(p["session"], p["sequence"]) for p in result["posted"]] == [
        ("earlier-visit-0000001", 4),
        ("session-under-test-01", 0),
    ]
    assert result["stored"] == [other_url]  # the earlier visit's key is gone; another URL's is not touched
    assert any(s["persisted"] is False for s in result["statuses"])


# ---------------------------------------------------------------- a hostile visit: many pages, long page ids

MANY_PAGES_VISIT = """
async ({ pages, idLength }) => {
  const { readConfig } = await import('./app/load/config.js');
  const { Sender, sessionMeta } = await import('./app/collect/sender.js');
  const { SampleLog } = await import('./app/output/samples.js');
  const config = readConfig();
  let current = null;
  const view = {
    mode: 'same-origin',
    locate: (x, y) => ({ doc: [x, y], page: current, element: 'main > p', scroll: [0, 0] }),
    pageInfo: (id) => ({ id, width: 1280, height: 4000, image: null }),
  };
  const log = new SampleLog({ format: config.sampleFormat, target: 'https://example.com/', sessionStart: 0, view, study: config.collect.study });
  const bodies = [];
  const fetchImpl = (url, options) => { bodies.push(options.body); return fetch(url, options); };
  const sender = new Sender({
    settings: config.collect, session: log.session, samples: () => log.samples, meta: () => sessionMeta(log.toJSON()), fetchImpl,
  });
  sender.start();
  let t = 0;
  for (let i = 0; i < pages; i += 1) {
    current = `/index.html?${String(i).padStart(4, '0')}=${'q'.repeat(Math.max(0, idLength - 17))}`;
    for (let k = 0; k < (i % 4 === 0 ? 2 : 1); k += 1) {
      log.add({ x: 10, y: 20, face: [1, 2, 3, 4] }, (t += 33));
      if (log.samples.length % config.collect.batch.maxSamples === 0) sender.cut();
    }
  }
  const status = await sender.flush(60000);
  sender.stop();
  const largest = Math.max(...bodies.map((body) => new TextEncoder().encode(body).length));
  const mostPages = Math.max(...bodies.map((body) => JSON.parse(body).meta.pages.length));
  return { session: log.session, logged: log.samples.length, status, largest, mostPages, maxBytes: config.collect.batch.maxBytes };
}
"""


@pytest.mark.parametrize(("pages", "id_length"), [(1001, 30), (600, 2100)], ids=["1001-pages", "600-long-ids"])
def test_a_visit_to_many_pages_or_long_page_ids_loses_no_sample(study: dict[str, Any], pages: int, id_length: int) -> None:
    # A same-origin visit through 1,001 distinct page ids (links with other query strings), or 600 of ~2,100 characters:
    # each batch lists only the pages its samples name, so the server takes every batch and stores every sample.
    context = study["browser"].new_context()
    try:
        page = context.new_page()
        page.goto(study["site"].url)
        wait_ready(page)
        result = page.evaluate(MANY_PAGES_VISIT, {"pages": pages, "idLength": id_length})
    finally:
        context.close()
    assert result["status"]["rejected"] == 0 and result["status"]["pending"] == 0, result["status"]
    assert result["largest"] <= result["maxBytes"] and result["mostPages"] <= MAX_PAGES
    stored = stored_session(study["collect"].db, result["session"], result["logged"])
    assert len(stored["samples"]) == result["logged"]
    assert len({page["id"] for page in stored["pages"]}) == pages  # the report still gets every page's entry
    assert study["collect"].alive()
