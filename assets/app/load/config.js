// The page settings: the build's JSON config plus the one URL override (?backend=).

// The settings every page needs; a page built by an older gazesite lacks some.
const REQUIRED = ['backends', 'pipeline', 'model', 'cascade', 'wasmPaths', 'sampleFormat', 'datasetFormat', 'calibration', 'participant'];

/** Read the settings the build embedded in #gazesite-config. */
export function readConfig(doc = document) {
  const element = doc.getElementById('gazesite-config');
  if (!element) throw new Error('the page has no #gazesite-config settings: rebuild it with gazesite build');
  const config = JSON.parse(element.textContent);
  for (const key of REQUIRED) {
    if (!config[key]) throw new Error(`the page settings lack "${key}": rebuild the site with this gazesite version`);
  }
  return Object.freeze(config);
}

/**
 * The backend to try: `?backend=` in the page URL wins over the build setting.
 * An unknown value is reported and ignored rather than breaking the page.
 */
export function requestedBackend(config, search = location.search) {
  const choices = ['auto', ...config.backends];
  const fromUrl = new URLSearchParams(search).get('backend');
  if (fromUrl !== null) {
    if (choices.includes(fromUrl)) return fromUrl;
    console.warn(`gazesite: ignoring ?backend=${fromUrl}; expected one of ${choices.join(', ')}`);
  }
  return choices.includes(config.backend) ? config.backend : 'auto';
}

/**
 * The order in which backends are tried: the requested one first, then the
 * automatic order (the build's `backends`: gazesite.config.TFJS_BACKENDS).
 */
export function backendOrder(requested, backends) {
  if (requested === 'auto') return [...backends];
  return [requested, ...backends.filter((name) => name !== requested)];
}
