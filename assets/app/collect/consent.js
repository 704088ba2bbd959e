// The consent notice of a collecting build, and the line that says what is being sent.
// Nothing starts (camera, calibration, sending) before the visitor accepts; declining is final for
// this page load unless the visitor opens the notice again with Start.

/** The #consent dialog: accept or decline, each heard once per click. */
export class ConsentGate {
  constructor(doc, { onAccept, onDecline }) {
    this.section = doc.getElementById('consent');
    this.acceptButton = doc.getElementById('consent-accept');
    this.declineButton = doc.getElementById('consent-decline');
    if (!this.section || !this.acceptButton || !this.declineButton) {
      throw new Error('the page collects samples but has no consent notice: rebuild it with gazesite build --collect');
    }
    this.decision = null; // null (not yet), 'accepted' or 'declined'
    this.acceptButton.addEventListener('click', () => this.decide('accepted', onAccept));
    this.declineButton.addEventListener('click', () => this.decide('declined', onDecline));
    // The buttons are disabled in the HTML, so nothing can be clicked before this code listens.
    this.acceptButton.disabled = false;
    this.declineButton.disabled = false;
    this.show();
  }

  /** True once the visitor accepted. */
  get allowed() {
    return this.decision === 'accepted';
  }

  /** Show the notice (again). */
  show() {
    if (this.allowed) return;
    this.section.hidden = false;
    this.acceptButton.focus();
  }

  decide(decision, handler) {
    if (this.allowed) return; // accepting is once per page load
    this.decision = decision;
    this.section.hidden = true;
    handler();
  }
}

const plural = (count, one, many) => `${count.toLocaleString('en')} ${count === 1 ? one : many}`;

/** #collect-status: data-state plus one sentence on what was sent and what waits. */
export class CollectStatus {
  constructor(element, host) {
    this.element = element;
    this.host = host;
  }

  set(state, text) {
    if (this.element.dataset.state === state && this.element.textContent === text) return;
    this.element.dataset.state = state;
    this.element.textContent = text;
  }

  /** The visitor declined; `discarded` unsent batches of earlier visits were deleted from this browser. */
  declined(discarded) {
    const earlier = discarded > 0 ? ' Unsent data of earlier visits was deleted from this browser.' : '';
    this.set('declined', `Nothing is sent: you declined.${earlier}`);
  }

  /** Show a Sender status. */
  show(status) {
    const sent = `${plural(status.sentSamples, 'sample', 'samples')} sent to ${this.host}`;
    const waiting = status.pending > 0 ? `, ${plural(status.pending, 'batch', 'batches')} waiting` : '';
    const refused = status.rejected > 0 ? `; ${plural(status.rejected, 'batch was', 'batches were')} refused (${status.lastError})` : '';
    const kept = status.persisted ? '' : ' Unsent data cannot be kept on this device (storage full): keep this page open.';
    if (status.state === 'retrying') {
      const seconds = Math.max(1, Math.round((status.nextTryMs ?? 0) / 1000));
      this.set(
        'retrying',
        `Cannot send to ${this.host} (${status.lastError}): ${plural(status.pending, 'batch', 'batches')} kept on this device, next try in ${seconds} s.${kept}`,
      );
    } else {
      this.set(status.rejected > 0 ? 'rejected' : 'sending', `${sent}${waiting}${refused}.${kept}`);
    }
  }
}
