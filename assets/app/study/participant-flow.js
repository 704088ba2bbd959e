// What a study build (--collect, without --researcher-view) shows participants after consent: the head
// guide, calibration, the task, the page with nothing drawn over it, and the end screen. The researcher's
// heatmap, gaze dot and panel never appear; the status lines show only while something needs attention.

import { GUIDE_ADVICE, Steady, finishTarget, headGuide, meanBrightness } from './participant.js';

// Camera states in which nothing needs the participant's attention.
const QUIET = new Set(['running', 'consent']);
// States that stop everything: shown at once, not after PROBLEM_MS.
const BLOCKING = new Set(['camera-denied', 'no-camera', 'model-missing', 'error']);
// A passing problem (a frame without a face, a slow answer) shows only once it lasted this long (ms), so the
// status line does not flicker over the page.
const PROBLEM_MS = 1000;
const CHECK_MS = 250;
const plural = (count, one, many) => `${count.toLocaleString('en')} ${count === 1 ? one : many}`;

export class ParticipantFlow {
  /**
   * `settings` is config.participant; `app` holds the page's parts (tracker, calibrator, calibration,
   * samples, sender); `status` is the status line, `panel` the element holding it and #collect-status.
   */
  constructor(doc, { settings, app, status, panel }) {
    const $ = (id) => doc.getElementById(id);
    Object.assign(this, { settings, app, status, panel });
    this.screens = { guide: $('guide'), task: $('task'), end: $('end') };
    this.advice = $('guide-advice');
    this.continueButton = $('guide-continue');
    this.startButton = $('task-start');
    this.finishButton = $('finish');
    this.endSent = $('end-sent');
    this.endNext = $('end-next');
    this.collectStatus = $('collect-status');
    this.phase = 'consent'; // consent, loading, guide, calibration, task, page, end
    this.release = null; // ends the current diversion of camera frames
    this.timer = 0;
    this.problemChecks = 0;
    this.continueButton.addEventListener('click', () => this.calibrate());
    this.startButton.addEventListener('click', () => this.showPage());
    this.finishButton.addEventListener('click', () => this.finish());
    this.panel.hidden = true;
    setInterval(() => this.checkStatus(), CHECK_MS);
  }

  /** Consent was given before the model and OpenCV have loaded: the guide's screen says so meanwhile. */
  loading() {
    if (this.phase !== 'consent') return;
    this.phase = 'loading';
    this.screens.guide.hidden = false;
    this.advice.textContent = 'Loading the gaze tracker…';
  }

  /** Consent was given and the page has loaded: guide the participant's head, then calibrate. */
  begin() {
    if (this.phase !== 'consent' && this.phase !== 'loading') return;
    // Each participant calibrates afresh: a calibration stored by an earlier visit of this browser is not theirs.
    this.app.calibration.reset();
    this.showGuide();
  }

  /** The participant declined: nothing starts, and the end screen says so. */
  declined() {
    this.phase = 'end';
    this.endSent.textContent = 'You declined: nothing was recorded or sent.';
    this.endNext.textContent = 'You can close this page.';
    this.screens.end.hidden = false;
  }

  showGuide() {
    this.phase = 'guide';
    this.screens.guide.hidden = false;
    this.continueButton.disabled = true;
    this.advice.textContent = 'Starting the camera…';
    const steady = new Steady(this.settings.guide.holdMs);
    this.divert((result, at, image) => {
      const verdict = headGuide(
        { face: result.face, width: image?.width ?? 0, height: image?.height ?? 0, brightness: image ? meanBrightness(image) : 0 },
        this.settings.guide,
      );
      const held = steady.update(verdict.ok, at);
      this.continueButton.disabled = !held;
      this.advice.dataset.ok = String(verdict.ok);
      this.advice.textContent = verdict.ok
        ? held
          ? 'Good: keep this position and press Continue.'
          : 'Good: hold still…'
        : verdict.problems.map((problem) => GUIDE_ADVICE[problem]).join(' ');
    }, 'Position your head: follow the advice on the screen.');
    if (!this.app.tracker.active) this.app.tracker.start();
  }

  // Continue: runs inside the click, so the calibration overlay may go full screen.
  calibrate() {
    if (this.phase !== 'guide' || this.continueButton.disabled) return;
    // Frames stay away from the sample log until the calibration diverts them itself (after its fullscreen request).
    this.divert(() => {}, 'Calibrating: look at the dots.');
    this.phase = 'calibration';
    this.screens.guide.hidden = true;
    this.app.calibrator.calibrate({ participant: true, maxRedos: this.settings.maxRedos }).then((outcome) => {
      if (outcome === undefined)
        this.showGuide(); // cancelled, or the camera stopped (the status line says why)
      else this.showTask(outcome);
    });
  }

  showTask(outcome) {
    // Going on with the model alone: no calibration of anyone else's may stay in force.
    if (outcome === 'model') this.app.calibration.reset();
    this.phase = 'task';
    this.divert(() => {}, 'Ready: press Start.');
    this.screens.task.hidden = false;
    this.startButton.focus();
  }

  showPage() {
    if (this.phase !== 'task') return;
    this.phase = 'page';
    this.screens.task.hidden = true;
    this.endDiversion();
    this.app.samples.markPageStart();
    this.finishButton.hidden = false;
    if (this.settings.seconds) this.timer = setTimeout(() => this.finish(), this.settings.seconds * 1000);
  }

  /** The participant pressed Finish, or the time limit passed: stop, send what is left, thank, redirect. */
  async finish() {
    if (this.phase !== 'page') return;
    this.phase = 'end';
    this.app.samples.markPageEnd();
    clearTimeout(this.timer);
    this.finishButton.hidden = true;
    this.app.tracker.stop();
    this.screens.end.hidden = false;
    this.endSent.textContent = 'Sending your data…';
    this.endNext.textContent = '';
    const { sender } = this.app;
    const sent = sender ? await sender.flush(this.settings.flushMs) : null;
    this.endSent.textContent = sent
      ? `${plural(sent.sentSamples, 'sample was', 'samples were')} sent` +
        (sent.pending > 0
          ? `; ${plural(sent.pending, 'batch is', 'batches are')} still pending and will be sent when this page closes.`
          : '.')
      : 'Nothing was sent.';
    if (this.settings.finishUrl) {
      this.endNext.textContent = 'Taking you back to the study…';
      location.assign(finishTarget(this.settings.finishUrl, this.app.samples.participant));
    } else {
      this.endNext.textContent = 'You can close this page now.';
    }
  }

  // Camera frames go to `listener` instead of the sample log until endDiversion().
  divert(listener, message) {
    this.endDiversion();
    this.release = this.app.tracker.divert(listener, message);
  }

  endDiversion() {
    this.release?.();
    this.release = null;
  }

  // The status lines show while something needs the participant (at once if it stops everything), never otherwise.
  checkStatus() {
    const collect = this.collectStatus?.dataset.state;
    const problem = this.phase !== 'end' && (!QUIET.has(this.status.state) || collect === 'retrying' || collect === 'rejected');
    // Counted in checks, CHECK_MS apart: a problem that lasted PROBLEM_MS has been seen that many times in a row.
    this.problemChecks = problem ? this.problemChecks + 1 : 0;
    const show = problem && (BLOCKING.has(this.status.state) || this.problemChecks * CHECK_MS > PROBLEM_MS);
    if (this.panel.hidden === show) this.panel.hidden = !show;
  }
}
