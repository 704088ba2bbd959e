// The participant flow's decisions, free of the DOM: who the participant is, where they go when
// they finish, and whether the camera picture is good enough to calibrate.

/**
 * The participant id in a page's query string: the first of `params` present wins; it is kept only
 * when it matches `pattern` (gazesite.samples.schema.PARTICIPANT_ID, from the build), else dropped (null).
 */
export function participantId(search, { params, pattern }) {
  const query = new URLSearchParams(search);
  const name = params.find((param) => query.has(param));
  if (name === undefined) return null;
  const value = query.get(name);
  return new RegExp(`^(?:${pattern})$`).test(value) ? value : null;
}

/** Where a finished participant goes: `finishUrl` with `pid=<id>` set when there is an id. */
export function finishTarget(finishUrl, participant) {
  const url = new URL(finishUrl);
  if (participant !== null) url.searchParams.set('pid', participant);
  return url.href;
}

/** Mean grey level (0-255, ITU-R BT.601 weights) of RGBA pixels, reading every `step`-th pixel. */
export function meanBrightness({ data }, step = 4) {
  let sum = 0;
  let count = 0;
  for (let i = 0; i + 2 < data.length; i += 4 * step) {
    sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    count += 1;
  }
  return count === 0 ? 0 : sum / count;
}

/**
 * A status sentence as a study's participant reads it: they have no Start button (the researcher's
 * panel is not shown), so a sentence that asks for Start asks for a reload, which starts the flow again.
 */
export function participantWording(text) {
  return text.replaceAll('press Start', 'reload this page');
}

/** What the head guide says for each problem, in the order it checks them. */
export const GUIDE_ADVICE = {
  'no-face': 'No face in view: face the camera.',
  light: 'More light: turn on a lamp or face a window.',
  closer: 'Move closer to the camera.',
  farther: 'Move back a little.',
  centre: 'Centre your face in the camera picture.',
};

/**
 * The head guide's verdict on one camera frame: `face` [x, y, w, h] or null, the frame's `width` and
 * `height` in px, its mean `brightness`; `settings` is config.participant.guide (from the build).
 * Returns {ok, problems}: problems are keys of GUIDE_ADVICE, most pressing first.
 */
export function headGuide({ face, width, height, brightness }, settings) {
  const problems = [];
  if (brightness < settings.minBrightness) problems.push('light');
  if (face === null) return { ok: false, problems: ['no-face', ...problems] };
  const [x, y, w, h] = face;
  if (w < settings.minFaceWidth * width) problems.push('closer');
  if (w > settings.maxFaceWidth * width) problems.push('farther');
  const offsetX = Math.abs(x + w / 2 - width / 2) / width;
  const offsetY = Math.abs(y + h / 2 - height / 2) / height;
  if (Math.max(offsetX, offsetY) > settings.maxOffset) problems.push('centre');
  return { ok: problems.length === 0, problems };
}

/** Whether a condition has held without a break for `holdMs`: update(ok, now) says so after every frame. */
export class Steady {
  constructor(holdMs) {
    this.holdMs = holdMs;
    this.since = null;
  }

  update(ok, now) {
    if (!ok) this.since = null;
    else if (this.since === null) this.since = now;
    return this.since !== null && now - this.since >= this.holdMs;
  }
}
