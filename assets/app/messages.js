// The sentences the status line shows for each state: the one place they are written (the camera raises them too).

export const MESSAGES = {
  'waiting-permission': 'Waiting for permission to use the camera…',
  'camera-denied': 'Camera access was denied: allow the camera for this page, then press Start.',
  'no-camera': 'No camera was found: connect one, then press Start.',
  'no-face': 'No face in view: face the camera.',
  running: 'Tracking your gaze (not calibrated).',
  stopped: 'Stopped: press Start to track again.',
  'model-missing': 'The gaze model could not be loaded.',
  error: 'Something went wrong.',
  // --collect builds: nothing starts before the visitor accepts the consent notice.
  consent: 'Waiting for your consent: read the notice, then accept or decline.',
  declined: 'You declined: the camera stays off and nothing is sent. Press Start to read the notice again.',
};

// The running sentence once a calibration is active.
export const RUNNING_CALIBRATED = 'Tracking your gaze (calibrated).';
