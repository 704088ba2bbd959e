// assets/app/collect/sender.js against a stand-in server and storage: what a refused batch and a full queue cost.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { Sender, sessionMeta } from '../../assets/app/collect/sender.js';
import { SampleLog } from '../../assets/app/output/samples.js';

// As the build passes them (gazesite.collect.page), with a short interval and retries that never wait long.
const SETTINGS = {
  url: 'http://localhost:8123/',
  study: 'pilot',
  batch: { format: 'gazesite-batch', version: 1, maxBytes: 1024 * 1024, intervalMs: 60_000, maxSamples: 120 },
  retry: { firstMs: 1, maxMs: 5, timeoutMs: 1000 },
  queue: { key: 'gazesite-collect', maxChars: 2_000_000 },
};

beforeEach(() => {
  // The page's window events: the sender listens for pagehide and online.
  Object.assign(globalThis, { addEventListener: () => {}, removeEventListener: () => {} });
  // What the sample log reads from the window.
  Object.assign(globalThis, { innerWidth: 1280, innerHeight: 720, devicePixelRatio: 1 });
  Object.defineProperty(globalThis, 'screen', { value: { width: 1920, height: 1080 }, configurable: true });
});

// The server's limits (gazesite.samples.schema): MAX_PAGES, MAX_TEXT, MAX_BODY_BYTES (the page is given the last
// as batch.maxBytes and MAX_TEXT as the sample format's maxText).
const MAX_PAGES = 1000;
const MAX_TEXT = 2048;
// As the build passes it (gazesite.samples.schema.SAMPLE_FORMAT); the columns do not matter here.
const FORMAT = { name: 'gazesite-samples', version: 2, columns: [], maxText: MAX_TEXT };

/**
 * A stand-in of `gazesite collect` that refuses what the real one refuses for size: a body over batch.maxBytes
 * (413), meta.pages of more than MAX_PAGES entries or an entry id over MAX_TEXT characters (400), a sample whose page
 * is "BAD" (400). It stores the rest by (session, sequence), a retry with other content being a conflict (409).
 */
function limitedServer() {
  const stored = new Map();
  const bodies = [];
  const answer = (status, body) => new Response(JSON.stringify(body), { status });
  const fetchImpl = async (url, { body }) => {
    bodies.push(body);
    if (new TextEncoder().encode(body).length > SETTINGS.batch.maxBytes) return answer(413, { ok: false, error: 'body too large' });
    const batch = JSON.parse(body);
    const pages = batch.meta?.pages ?? [];
    if (pages.length > MAX_PAGES) return answer(400, { ok: false, error: `meta.pages must be an array of at most ${MAX_PAGES} pages` });
    if (pages.some((page) => [...page.id].length > MAX_TEXT)) return answer(400, { ok: false, error: 'meta.pages[0].id must be ...' });
    const bad = batch.samples.findIndex((s) => s.page === 'BAD');
    if (bad >= 0) return answer(400, { ok: false, error: `samples[${bad}].page must be ...` });
    const key = `${batch.session}:${batch.sequence}`;
    const content = JSON.stringify([batch.meta, batch.samples]);
    if (stored.has(key) && stored.get(key).content !== content) return answer(409, { ok: false, error: 'other content' });
    const duplicate = stored.has(key);
    stored.set(key, { content, batch });
    return answer(200, { ok: true, duplicate });
  };
  const samples = () => [...stored.values()].flatMap(({ batch }) => batch.samples);
  const pageIds = () => new Set([...stored.values()].flatMap(({ batch }) => (batch.meta?.pages ?? []).map((page) => page.id)));
  return { stored, bodies, fetchImpl, samples, pageIds };
}

/**
 * A same-origin visit that goes through `pages` distinct page ids (`id(i)`), logging samples as the page does
 * (`perPage(i)` on each), cut every 120 samples as the interval would: the real sample log and session meta.
 */
async function visit({ pages, id, perPage }) {
  let current = null;
  const view = {
    mode: 'same-origin',
    locate: (x, y) => ({ doc: [x, y], page: current, element: 'main > p', scroll: [0, 0] }),
    pageInfo: (pageId) => ({ id: pageId, width: 1280, height: 4000, image: null }),
  };
  const log = new SampleLog({ format: FORMAT, target: 'https://example.com/', sessionStart: 0, view, study: 'pilot' });
  const server = limitedServer();
  const sender = new Sender({
    settings: SETTINGS,
    session: log.session,
    samples: () => log.samples,
    meta: () => sessionMeta(log.toJSON()),
    storage: memoryStorage(),
    fetchImpl: server.fetchImpl,
  });
  sender.start();
  let t = 0;
  for (let i = 0; i < pages; i += 1) {
    current = id(i);
    for (let k = 0; k < perPage(i); k += 1) {
      log.add({ x: 10, y: 20, face: [1, 2, 3, 4] }, (t += 33));
      if (log.samples.length % 120 === 0) sender.cut();
    }
  }
  sender.cut();
  await settle(sender, 20_000);
  sender.stop();
  return { log, server, sender };
}

/** Every body posted is one the server takes for size: at most MAX_PAGES pages and maxBytes bytes. */
function assertWithinLimits(bodies) {
  for (const body of bodies) {
    assert.ok(new TextEncoder().encode(body).length <= SETTINGS.batch.maxBytes, `a body of ${body.length} characters`);
    const { meta, samples } = JSON.parse(body);
    assert.ok(meta.pages.length <= MAX_PAGES, `meta.pages of ${meta.pages.length}`);
    assert.ok(meta.pages.length <= samples.length, `${meta.pages.length} pages for ${samples.length} samples`);
    const named = new Set(samples.map((s) => s.page));
    assert.ok(
      meta.pages.every((page) => named.has(page.id) && [...page.id].length <= MAX_TEXT),
      'a page its samples do not name',
    );
  }
}

/** A storage stand-in (localStorage's methods) that refuses any item longer than `quota` characters. */
function memoryStorage(quota = Infinity) {
  const items = new Map();
  return {
    items,
    get length() {
      return items.size;
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (key) => items.get(key) ?? null,
    removeItem: (key) => items.delete(key),
    setItem: (key, value) => {
      if (value.length > quota) throw new Error('QuotaExceededError');
      items.set(key, value);
    },
  };
}

/** A server stand-in: refuses (400) a batch holding a sample whose page is "BAD", stores the rest by sequence. */
function server() {
  const stored = new Map();
  const fetchImpl = async (url, { body }) => {
    const batch = JSON.parse(body);
    const bad = batch.samples.findIndex((sample) => sample.page === 'BAD');
    if (bad >= 0) return new Response(JSON.stringify({ ok: false, error: `samples[${bad}].page must be ...` }), { status: 400 });
    const duplicate = stored.has(batch.sequence);
    stored.set(batch.sequence, batch.samples);
    return new Response(JSON.stringify({ ok: true, duplicate }), { status: 200 });
  };
  return { stored, fetchImpl };
}

const sample = (t, page = '/index.html') => ({ t, x: 1, y: 2, viewport: [800, 600], scroll: [0, 0], page });

async function settle(sender, ms = 400) {
  for (let i = 0; i < ms / 2 && (sender.sending || sender.status.pending > 0); i += 1) await new Promise((r) => setTimeout(r, 2));
}

describe('Sender', () => {
  test('a refused batch is split until only the bad sample is left out', async () => {
    const { stored, fetchImpl } = server();
    const samples = Array.from({ length: 100 }, (_, t) => sample(t, t === 37 ? 'BAD' : '/index.html'));
    const sender = new Sender({
      settings: SETTINGS,
      session: 's-0123456789abcdef',
      samples: () => samples,
      meta: () => ({}),
      storage: memoryStorage(),
      fetchImpl,
    });
    sender.start();
    sender.cut();
    await settle(sender);
    sender.stop();
    const times = [...stored.values()].flat().map((s) => s.t);
    assert.deepEqual(
      times.sort((a, b) => a - b),
      [...Array(100).keys()].filter((t) => t !== 37),
    );
    assert.equal(sender.status.sentSamples, 99);
    assert.equal(sender.status.rejected, 1);
    assert.equal(new Set(stored.keys()).size, stored.size); // every piece had a sequence number of its own
  });

  test('a queue over the quota keeps its oldest batches in storage, never a stale copy', () => {
    const storage = memoryStorage(6000);
    const samples = [];
    const offline = async () => {
      throw new TypeError('network error');
    };
    const sender = new Sender({
      settings: SETTINGS,
      session: 's-0123456789abcdef',
      samples: () => samples,
      meta: () => ({}),
      storage,
      fetchImpl: offline,
    });
    for (let round = 0; round < 12; round += 1) {
      for (let i = 0; i < 20; i += 1) samples.push(sample(round * 20 + i));
      sender.cut(); // not started: nothing is sent, every batch waits
    }
    sender.next().done(); // the first two batches got through after all
    sender.next().done();
    const kept = JSON.parse(storage.getItem(sender.key)).batches;
    assert.equal(sender.queue.length, 10);
    assert.ok(kept.length > 0 && kept.length < 10, `${kept.length} kept`);
    assert.deepEqual(
      kept.map((batch) => batch.sequence),
      sender.queue.slice(0, kept.length).map((batch) => batch.sequence),
    );
    assert.equal(sender.status.persisted, false);
  });

  test('a visit to 1,001 distinct pages: every batch lists only its own pages, within the limits, and none is lost', async () => {
    // As measured end to end: 1,241 samples on 1,001 pages (links with different query strings).
    const { log, server, sender } = await visit({ pages: 1001, id: (i) => `/index.html?p=${i}`, perPage: (i) => (i % 4 === 0 ? 2 : 1) });
    assert.equal(log.samples.length, 1252);
    assertWithinLimits(server.bodies);
    assert.equal(server.samples().length, log.samples.length);
    assert.deepEqual(server.samples(), log.samples);
    assert.equal(server.pageIds().size, 1001); // every page's entry reached the server, in the batch of its samples
    assert.equal(sender.status.rejected, 0);
  });

  test('a visit to 600 pages of ~2,100-character ids: every body within the size limit, none lost', async () => {
    const long = (i) => `/index.html?${String(i).padStart(4, '0')}=${'q'.repeat(2100)}`;
    const { log, server, sender } = await visit({ pages: 600, id: long, perPage: (i) => (i % 3 === 0 ? 2 : 1) });
    assert.equal(log.samples.length, 800);
    assertWithinLimits(server.bodies);
    assert.deepEqual(server.samples(), log.samples);
    assert.equal(server.pageIds().size, 600); // clipped to MAX_TEXT, still distinct
    assert.equal(sender.status.rejected, 0);
  });

  test("an earlier page load's batch refused with 400 is split under that load's next sequence numbers", async () => {
    const server = limitedServer();
    const earlier = 'earlier-load-0000000001';
    const samples = Array.from({ length: 10 }, (_, t) => sample(t, t === 6 ? 'BAD' : '/index.html'));
    const body = { format: 'gazesite-batch', version: 1, session: earlier, study: 'pilot', sequence: 3, meta: { pages: [] }, samples };
    const storage = memoryStorage();
    const key = `${SETTINGS.queue.key}:${SETTINGS.url}:${earlier}`;
    // Batches 0-6 were cut by that load (3 is the one it never got through): its pieces take 7 on.
    storage.setItem(key, JSON.stringify({ updated: 0, next: 7, batches: [{ sequence: 3, body: JSON.stringify(body), count: 10 }] }));
    const sender = new Sender({
      settings: SETTINGS,
      session: 's-0123456789abcdef',
      samples: () => [],
      meta: () => ({}),
      storage,
      fetchImpl: server.fetchImpl,
    });
    sender.start();
    await settle(sender);
    sender.stop();
    assert.deepEqual(
      server
        .samples()
        .map((s) => s.t)
        .sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 7, 8, 9],
    );
    const sequences = [...server.stored.values()].map(({ batch }) => batch.sequence);
    assert.ok(
      sequences.every((sequence) => sequence >= 7),
      `${sequences}`,
    );
    assert.equal(new Set(sequences).size, sequences.length);
    assert.equal(sender.status.rejected, 1); // the bad sample alone
    assert.equal(storage.getItem(key), null); // all through: the earlier load's key is released
  });
});
