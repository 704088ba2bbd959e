// The toolbar and calibration buttons: wiring and enabled states.

/** Look up buttons by id ({name: id}) and call handlers[name] on each click; returns {name: button}. */
function bindButtons(doc, ids, handlers) {
  const buttons = {};
  for (const [name, id] of Object.entries(ids)) {
    buttons[name] = doc.getElementById(id);
    buttons[name].addEventListener('click', () => handlers[name]());
  }
  return buttons;
}

/** Wire the toolbar buttons to handlers: {start, stop, clear, json, csv, png}. */
export function bindControls(doc, handlers) {
  const buttons = bindButtons(
    doc,
    {
      start: 'start',
      stop: 'stop',
      clear: 'clear',
      json: 'download-json',
      csv: 'download-csv',
      png: 'download-png',
    },
    handlers,
  );
  return {
    /** Enable Start or Stop to match the camera state; nothing starts before the pipeline has loaded. */
    update(state, loaded) {
      const active = ['waiting-permission', 'no-face', 'running'].includes(state);
      buttons.start.disabled = !loaded || active;
      buttons.stop.disabled = !loaded || !active;
    },
  };
}

/**
 * Wire the calibration buttons to handlers: {calibrate, record, reset,
 * dataset}. The returned update({loaded, busy, calibrated, kept}) enables
 * them to match: nothing before the pipeline has loaded, no second flow
 * while one runs, Reset only with a calibration, the dataset download only
 * once something is kept (its label counts the crops).
 */
export function bindCalibrationControls(doc, handlers) {
  const buttons = bindButtons(
    doc,
    {
      calibrate: 'calibrate',
      record: 'record',
      reset: 'calibration-reset',
      dataset: 'download-dataset',
    },
    handlers,
  );
  return {
    update({ loaded, busy, calibrated, kept }) {
      buttons.calibrate.disabled = !loaded || busy;
      buttons.record.disabled = !loaded || busy;
      buttons.reset.disabled = !calibrated || busy;
      buttons.dataset.disabled = kept === 0 || busy;
      buttons.dataset.textContent = kept === 0 ? 'Dataset' : `Dataset (${kept})`;
      buttons.dataset.title =
        kept === 0
          ? 'Nothing kept yet: calibrate or record to collect face crops with their targets'
          : `Download the ${kept} face crops kept from calibration and recording, with their targets (gazesite-dataset JSON)`;
    },
  };
}
