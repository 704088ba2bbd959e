// The calibration overlay (#calibration): full screen where the browser
// allows it, a dot, a progress line, the result screen, and the ways out
// (Escape, the Cancel button, leaving fullscreen).

/**
 * Ask for fullscreen on `element`; resolves true if granted. Browsers refuse
 * without a recent user gesture, in some frames and by policy, and headless
 * Chromium may refuse outright: that is not an error, the overlay then
 * covers the viewport as a fixed layer instead.
 */
async function enterFullscreen(element) {
  if (typeof element.requestFullscreen !== 'function' || document.fullscreenEnabled === false) return false;
  try {
    await element.requestFullscreen({ navigationUI: 'hide' });
    return document.fullscreenElement === element;
  } catch {
    return false;
  }
}

export class CalibrationOverlay {
  constructor(doc) {
    const $ = (id) => doc.getElementById(id);
    this.doc = doc;
    this.root = $('calibration');
    this.dot = this.root.querySelector('.calibration-dot');
    this.message = $('calibration-message');
    this.result = $('calibration-result');
    this.resultTitle = $('calibration-result-title');
    this.figures = $('calibration-figures');
    this.accept = $('calibration-accept');
    this.redo = $('calibration-redo');
    this.cancel = $('calibration-cancel');
    this.fullscreen = false;
    // Counts open() calls, so a late fullscreen answer knows whether it is still wanted.
    this.opened = 0;
    this.onCancel = null;
    this.choose = null;
    this.returnFocus = null;
    this.cancel.addEventListener('click', () => this.abort());
    this.accept.addEventListener('click', () => this.choose?.('accept'));
    this.redo.addEventListener('click', () => this.choose?.('redo'));
    doc.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.isOpen) {
        event.preventDefault();
        this.abort();
      }
    });
    // In fullscreen, Escape belongs to the browser: it leaves fullscreen and
    // the page sees no key. Leaving fullscreen also moves every dot on the
    // screen, so it ends the run either way.
    doc.addEventListener('fullscreenchange', () => {
      if (this.fullscreen && doc.fullscreenElement !== this.root) {
        this.fullscreen = false;
        this.abort();
      }
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  /**
   * Show the overlay at once and ask for fullscreen; resolves true if
   * granted. Not async up to the request, so it runs inside the click that
   * opened it (browsers grant fullscreen only to a user gesture) and the
   * overlay is up before that click returns. `onCancel` hears Escape,
   * Cancel or leaving fullscreen.
   */
  open(onCancel) {
    const opening = ++this.opened;
    this.onCancel = onCancel;
    this.returnFocus = this.doc.activeElement;
    this.result.hidden = true;
    this.hideDot();
    this.say('');
    this.root.hidden = false;
    this.cancel.focus();
    return enterFullscreen(this.root).then((granted) => {
      if (opening === this.opened && this.isOpen) {
        this.fullscreen = granted;
      } else if (granted) {
        // Closed while the browser was still switching: leave again.
        this.doc.exitFullscreen().catch(() => {});
      }
      return this.fullscreen;
    });
  }

  /** Hide the overlay, leave fullscreen if it was ours, and give the focus back. */
  close() {
    this.onCancel = null;
    this.choose = null;
    this.opened += 1;
    this.root.hidden = true;
    this.hideDot();
    if (this.fullscreen) {
      this.fullscreen = false;
      if (this.doc.fullscreenElement === this.root) this.doc.exitFullscreen().catch(() => {});
    }
    this.returnFocus?.focus?.();
    this.returnFocus = null;
  }

  abort() {
    const onCancel = this.onCancel;
    this.onCancel = null;
    onCancel?.();
  }

  /** The progress line at the bottom. */
  say(text) {
    if (this.message.textContent !== text) this.message.textContent = text;
  }

  /**
   * Put the dot at `point` ([x, y] in fractions of the overlay). `phase`:
   * "settle" (a ring closes in over `ms` while the eyes find the dot),
   * "collect" (frames are being kept) or "follow" (the recording's moving dot).
   */
  showDot(point, phase, ms = 0) {
    const { width, height } = this.root.getBoundingClientRect();
    this.dot.style.transform = `translate(${point[0] * width}px, ${point[1] * height}px)`;
    if (this.dot.dataset.phase !== phase) {
      this.dot.style.setProperty('--settle-ms', `${ms}ms`);
      this.dot.dataset.phase = phase;
    }
    this.dot.hidden = false;
  }

  hideDot() {
    this.dot.hidden = true;
    delete this.dot.dataset.phase;
  }

  /** Where `point` ([x, y] in fractions of the overlay) is in viewport px: {x, y}. */
  toViewport(point) {
    const rect = this.root.getBoundingClientRect();
    return { x: rect.left + point[0] * rect.width, y: rect.top + point[1] * rect.height };
  }

  /**
   * Show the result screen: `title`, `lines` ([{text, title?}]; a title is
   * the hover text that defines a figure), and the two choices. Resolves
   * "accept" or "redo"; `canAccept` false leaves only Redo and Cancel.
   */
  showResult({ title, lines, acceptLabel, redoLabel, canAccept = true, recommendRedo = false }) {
    this.hideDot();
    this.say('');
    this.resultTitle.textContent = title;
    this.figures.replaceChildren(
      ...lines.map((line) => {
        const paragraph = this.doc.createElement('p');
        paragraph.textContent = line.text;
        if (line.title) paragraph.title = line.title;
        if (line.warning) paragraph.className = 'calibration-warning';
        return paragraph;
      }),
    );
    this.accept.textContent = acceptLabel;
    this.redo.textContent = redoLabel;
    this.accept.disabled = !canAccept;
    this.result.dataset.poor = String(recommendRedo);
    // Redo is the default (focused, first) when the result is poor.
    this.redo.classList.toggle('recommended', recommendRedo);
    this.result.hidden = false;
    (canAccept && !recommendRedo ? this.accept : this.redo).focus();
    return new Promise((resolve) => {
      this.choose = (choice) => {
        this.choose = null;
        this.result.hidden = true;
        resolve(choice);
      };
    });
  }
}
