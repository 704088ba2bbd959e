// What a batch says about pages: only the pages its own samples name, so no batch outgrows the server's limits.

/**
 * The `pages` entries a batch carries: those of the pages its own samples name, at most `maxPages` (the server's
 * limit). The session's whole list would ride on every batch: a visit to 1,001 pages, or to a few hundred with long
 * ids, would get every later batch refused, good samples and all. The server keeps each page's entry from whichever
 * batch brought it (gazesite.collect.storage), so every page still has its entry once all batches are in.
 */
export function batchPages(pages, samples, maxPages = Infinity) {
  if (!Array.isArray(pages)) return pages;
  const named = namedPages(samples);
  return pages.filter((page) => named.has(page?.id)).slice(0, maxPages);
}

/** The session metadata of a batch of `samples`: `meta` with only the pages they name. */
export function batchMeta(meta, samples, maxPages) {
  if (meta === null || typeof meta !== 'object' || !('pages' in meta)) return meta;
  return { ...meta, pages: batchPages(meta.pages, samples, maxPages) };
}

/** How many pages `samples` name. */
export function pageCount(samples) {
  return namedPages(samples).size;
}

/** The page ids `samples` name. */
function namedPages(samples) {
  return new Set(samples.map((sample) => sample?.page).filter((page) => typeof page === 'string'));
}
