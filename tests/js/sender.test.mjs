// assets/app/collect/sender.js against a stand-in server and storage: what a refused batch and a full queue cost.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { Sender } from '../../assets/app/collect/sender.js';

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
});

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

async function settle(sender) {
  for (let i = 0; i < 200 && (sender.sending || sender.status.pending > 0); i += 1) await new Promise((r) => setTimeout(r, 2));
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
});
