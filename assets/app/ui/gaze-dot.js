// The ring that shows the smoothed gaze on the page.

/** The ring that follows the smoothed gaze. */
export class GazeDot {
  constructor(element) {
    this.element = element;
  }

  /** Put the ring at viewport px (x, y). */
  move(x, y) {
    this.element.style.transform = `translate(${x}px, ${y}px)`;
    this.element.hidden = false;
  }

  hide() {
    this.element.hidden = true;
  }
}
