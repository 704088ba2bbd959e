// Sending a consenting visitor's samples to the build's --collect URL: batches with a session id and
// sequence numbers, kept in localStorage until the server has them, retried with back-off, flushed at
// page close with sendBeacon. The server is idempotent on (session, sequence), so a batch sent twice
// (a retry, a beacon racing a fetch, a reload that resends) is stored once.

import { batchMeta, pageCount } from './batch-pages.js';

// Answers that say the batch itself is wrong: sending it again cannot help, so it is dropped (and said so).
const PERMANENT = new Set([400, 409, 413, 415, 422]);
// Of those, the answers that may concern only some of its samples (one bad field, too many bytes): split, send again.
const DIVISIBLE = new Set([400, 413]);

/**
 * The session's metadata for a batch: the sample log's export document (samples v2: session, study, mode,
 * screen, calibration, pages, target, times) without its samples.
 */
export function sessionMeta(exportDocument) {
  const meta = { ...exportDocument };
  delete meta.samples;
  return meta;
}

/**
 * localStorage, or where the browser blocks it (storage disabled for the site) a stand-in that keeps
 * nothing: batches are still sent, only a reload would lose the unsent ones (the status line says so).
 */
export function pageStorage() {
  try {
    const { length } = localStorage; // throws a SecurityError when storage is blocked
    if (Number.isInteger(length)) return localStorage;
  } catch {
    // fall through to the stand-in
  }
  return {
    length: 0,
    key: () => null,
    getItem: () => null,
    removeItem: () => {},
    setItem: () => {
      throw new Error('storage is blocked');
    },
  };
}

const encoder = new TextEncoder();
const sleepMs = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * One page load's sender. `samples()` returns the live array of logged samples (only read, from the
 * first not yet cut into a batch on); `meta()` returns the session metadata at this moment;
 * `onChange(status)` hears every change of `status` (for the visible line and the test API).
 */
export class Sender {
  constructor({ settings, session, samples, meta, onChange = () => {}, storage = pageStorage(), fetchImpl = fetch.bind(globalThis) }) {
    Object.assign(this, { settings, session, samples, meta, onChange, storage, fetchImpl });
    this.prefix = `${settings.queue.key}:${settings.url}:`;
    this.key = this.prefix + session;
    this.queue = []; // this session's batches not yet acknowledged: {sequence, body, count}
    this.adopted = []; // unsent batches of earlier page loads: {key, text, batches, next (its next sequence, or null)}
    this.taken = 0; // samples already cut into batches
    this.sequence = 0;
    this.attempt = 0; // failed tries in a row (the back-off exponent)
    this.timer = null;
    this.sending = false;
    this.stopped = true;
    this.status = {
      state: 'idle',
      session,
      sentBatches: 0,
      sentSamples: 0,
      duplicates: 0,
      rejected: 0,
      pending: 0,
      nextTryMs: null,
      lastError: null,
      persisted: true,
    };
  }

  /** Begin: pick up earlier page loads' unsent batches, then cut and send every intervalMs. */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.adopt();
    this.tick = setInterval(() => this.cut(), this.settings.batch.intervalMs);
    this.onPageHide = () => this.flushOnClose();
    addEventListener('pagehide', this.onPageHide);
    this.onOnline = () => this.retryNow();
    addEventListener('online', this.onOnline);
    this.update({ state: 'sending' });
    this.pump();
  }

  /** Earlier page loads' batches that never got an answer (each load keeps its own localStorage key). */
  adopt() {
    for (let i = 0; i < this.storage.length; i += 1) {
      const key = this.storage.key(i);
      if (!key?.startsWith(this.prefix) || key === this.key) continue;
      const text = this.storage.getItem(key);
      try {
        const { batches, next } = JSON.parse(text);
        // `next`: the earlier load's next sequence number, which the pieces of its batches take when one is refused
        // and split (a key written before it was kept has none: its refused batches are dropped whole).
        if (Array.isArray(batches) && batches.length > 0)
          this.adopted.push({ key, text, batches, next: Number.isSafeInteger(next) ? next : null });
        else this.storage.removeItem(key);
      } catch {
        this.storage.removeItem(key); // unreadable: nothing can be sent from it
      }
    }
  }

  /** Forget every unsent batch this browser keeps for this collect URL (the visitor declined). */
  static discard(settings, storage = pageStorage()) {
    const prefix = `${settings.queue.key}:${settings.url}:`;
    const keys = [];
    for (let i = 0; i < storage.length; i += 1) if (storage.key(i)?.startsWith(prefix)) keys.push(storage.key(i));
    for (const key of keys) storage.removeItem(key);
    return keys.length;
  }

  /** Turn the samples logged since the last cut into batches (at most maxSamples each) and send. */
  cut() {
    const { maxSamples, maxBytes, maxPages = Infinity } = this.settings.batch;
    const meta = this.samples().length > this.taken ? this.meta() : null;
    while (this.taken < this.samples().length) {
      let count = Math.min(maxSamples, this.samples().length - this.taken);
      let body = this.batchBody(count, meta);
      // Long strings (v2 element paths, page ids) could pass the server's body limit, or the samples name more pages
      // than a batch may list: fewer samples per batch then.
      while (
        count > 1 &&
        (encoder.encode(body).length > maxBytes || pageCount(this.samples().slice(this.taken, this.taken + count)) > maxPages)
      ) {
        count = Math.ceil(count / 2);
        body = this.batchBody(count, meta);
      }
      this.queue.push({ sequence: this.sequence, body, count });
      this.taken += count;
      this.sequence += 1;
    }
    this.persist();
    this.pump();
  }

  /** The JSON body of the next batch: `count` samples from the first not yet taken, with the session's `meta`. */
  batchBody(count, meta = this.meta()) {
    const samples = this.samples().slice(this.taken, this.taken + count);
    return JSON.stringify({
      format: this.settings.batch.format,
      version: this.settings.batch.version,
      session: this.session,
      study: this.settings.study,
      sequence: this.sequence,
      meta: batchMeta(meta, samples, this.settings.batch.maxPages),
      samples,
    });
  }

  /**
   * Keep this session's unsent batches in localStorage, so a reload or a crash does not lose them. When they do
   * not all fit (the queue's limit, or the browser's quota), the oldest that fit are kept: never a stale copy,
   * and every batch stays in memory and is still sent; only a reload would lose the newest.
   */
  persist() {
    if (this.queue.length === 0) {
      this.storage.removeItem(this.key);
      this.update({ persisted: true });
      return;
    }
    let kept = this.queue.length;
    let size = 0;
    for (let i = 0; i < this.queue.length; i += 1) {
      size += JSON.stringify(this.queue[i]).length + 1;
      if (size > this.settings.queue.maxChars) {
        kept = i;
        break;
      }
    }
    for (; kept > 0; kept = Math.floor(kept / 2)) {
      try {
        this.storage.setItem(this.key, JSON.stringify({ updated: Date.now(), next: this.sequence, batches: this.queue.slice(0, kept) }));
        break;
      } catch {
        // Over the browser's quota: try with fewer.
      }
    }
    if (kept === 0) this.storage.removeItem(this.key);
    this.update({ persisted: kept === this.queue.length });
  }

  /**
   * A batch of this session the server refused as malformed or too large, cut in two halves with new sequence
   * numbers that take its place: one bad sample must not take the good ones with it. Repeated, it ends at the
   * one sample the server refuses.
   */
  split(batch) {
    const halves = this.halves(batch, () => {
      this.sequence += 1;
      return this.sequence - 1;
    });
    this.queue.splice(this.queue.indexOf(batch), 1, ...halves);
    this.persist();
    return true;
  }

  /**
   * The same for a batch of an earlier page load (another session): its halves take that load's next sequence
   * numbers. They stay in memory only: the earlier load's key keeps the whole batch until all its batches are
   * through, and a later load that resends it gets it refused and split again into the same pieces with the same
   * numbers, which the server takes as duplicates. Not split (false): a key kept before `next` was, or one rewritten
   * since it was read, whose page load is still open in another tab and splits the batch itself.
   */
  splitAdopted(entry, batch) {
    if (entry.next === null || this.storage.getItem(entry.key) !== entry.text) return false;
    const halves = this.halves(batch, () => {
      entry.next += 1;
      return entry.next - 1;
    });
    entry.batches.splice(entry.batches.indexOf(batch), 1, ...halves);
    return true;
  }

  /** The two halves of a batch, numbered by `nextSequence()`, each listing only the pages its own samples name. */
  halves(batch, nextSequence) {
    const body = JSON.parse(batch.body);
    const half = Math.ceil(body.samples.length / 2);
    return [body.samples.slice(0, half), body.samples.slice(half)].map((samples) => {
      const sequence = nextSequence();
      const meta = batchMeta(body.meta, samples, this.settings.batch.maxPages);
      return { sequence, body: JSON.stringify({ ...body, sequence, meta, samples }), count: samples.length };
    });
  }

  /** The next batch to send: earlier page loads' first, then this session's, in sequence order. */
  next() {
    while (this.adopted.length > 0 && this.adopted[0].batches.length === 0) this.releaseAdopted(this.adopted.shift());
    if (this.adopted.length > 0) {
      const entry = this.adopted[0];
      const batch = entry.batches[0];
      return {
        batch,
        split: () => this.splitAdopted(entry, batch),
        done: () => entry.batches.shift(),
      };
    }
    if (this.queue.length > 0)
      return {
        batch: this.queue[0],
        split: () => this.split(this.queue[0]),
        done: () => {
          this.queue.shift();
          this.persist();
        },
      };
    return null;
  }

  /** Remove an adopted key once all its batches are through, unless another tab rewrote it meanwhile. */
  releaseAdopted(entry) {
    if (this.storage.getItem(entry.key) === entry.text) this.storage.removeItem(entry.key);
  }

  /** Send batches one at a time until none is left or a try fails (then wait and try again). */
  async pump() {
    if (this.sending || this.stopped) return;
    this.sending = true;
    try {
      for (let item = this.next(); item !== null && !this.stopped; item = this.next()) {
        const result = await this.send(item.batch);
        if (result.divisible && item.batch.count > 1 && item.split()) continue;
        if (result.ok || result.permanent) {
          item.done();
          this.attempt = 0;
          this.update(
            result.ok
              ? {
                  state: 'sending',
                  sentBatches: this.status.sentBatches + 1,
                  sentSamples: this.status.sentSamples + item.batch.count,
                  duplicates: this.status.duplicates + (result.duplicate ? 1 : 0),
                  nextTryMs: null,
                }
              : { state: 'rejected', rejected: this.status.rejected + 1, lastError: result.reason },
          );
          continue;
        }
        const delay = this.backoff(result.retryAfterMs);
        this.update({ state: 'retrying', lastError: result.reason, nextTryMs: delay });
        await Promise.race([
          sleepMs(delay),
          new Promise((resolve) => {
            this.wake = resolve;
          }),
        ]);
        this.wake = null;
      }
    } finally {
      this.sending = false;
      this.update({});
    }
  }

  /** Try again at once (the browser came back online). */
  retryNow() {
    this.attempt = 0;
    this.wake?.();
  }

  /** Exponential back-off with jitter (half to full), at least what the server asked for, at most maxMs. */
  backoff(retryAfterMs) {
    const { firstMs, maxMs } = this.settings.retry;
    const base = Math.min(maxMs, firstMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.min(maxMs, Math.max(retryAfterMs ?? 0, base * (0.5 + Math.random() / 2)));
  }

  /**
   * POST one batch; resolves with {ok, duplicate} or {permanent, divisible, reason} or {reason, retryAfterMs}, never
   * rejects.
   */
  async send(batch) {
    let response;
    try {
      response = await this.fetchImpl(this.settings.url, {
        method: 'POST',
        body: batch.body,
        headers: { 'Content-Type': 'application/json' },
        credentials: 'omit',
        cache: 'no-store',
        signal: AbortSignal.timeout(this.settings.retry.timeoutMs),
      });
    } catch (error) {
      return { reason: `the server cannot be reached (${error?.name === 'TimeoutError' ? 'no answer in time' : 'network error'})` };
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      // An answer that is not ours (a proxy's error page): its status still decides.
    }
    if (response.ok) return { ok: true, duplicate: answer?.duplicate === true };
    const reason = `the server answered ${response.status}${typeof answer?.error === 'string' ? `: ${answer.error.slice(0, 200)}` : ''}`;
    if (PERMANENT.has(response.status)) return { permanent: true, divisible: DIVISIBLE.has(response.status), reason };
    const retryAfter = Number(response.headers.get('Retry-After'));
    return { reason, retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null };
  }

  /**
   * The page is going away: cut the last samples and hand every unsent batch to sendBeacon (text/plain,
   * which needs no preflight). They stay in localStorage too: if a beacon is lost, the next visit
   * resends it, and the server drops what it already has.
   */
  flushOnClose() {
    if (this.stopped) return;
    this.cut();
    const all = [...this.adopted.flatMap((entry) => entry.batches), ...this.queue];
    for (const batch of all) {
      const blob = new Blob([batch.body], { type: 'text/plain;charset=UTF-8' });
      if (!navigator.sendBeacon(this.settings.url, blob)) break; // over the browser's beacon quota: the rest waits for the next visit
    }
  }

  /**
   * Cut the last samples and wait until every batch is through or `timeoutMs` has passed (a study's
   * participant finished); resolves with the status. Whatever is still unsent stays in localStorage
   * and goes out by sendBeacon when the page closes.
   */
  async flush(timeoutMs) {
    if (this.stopped) return this.status;
    this.cut();
    this.retryNow();
    const deadline = performance.now() + timeoutMs;
    while (this.status.pending > 0 && performance.now() < deadline) await sleepMs(100);
    return this.status;
  }

  /** Stop sending (unsent batches stay in localStorage). */
  stop() {
    this.stopped = true;
    clearInterval(this.tick);
    removeEventListener('pagehide', this.onPageHide);
    removeEventListener('online', this.onOnline);
    this.wake?.();
  }

  update(changes) {
    const pending = this.queue.length + this.adopted.reduce((sum, entry) => sum + entry.batches.length, 0);
    this.status = { ...this.status, ...changes, pending };
    this.onChange(this.status);
  }
}
