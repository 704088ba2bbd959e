// How good a calibration is, from its check on the validation dots: one rule for the result screen,
// the calibration status and the participant flow.

/**
 * The quality of a calibration summary: "unchecked" (no check frame had a face), "worse" (its check
 * error is larger than the model's alone: the calibration made gaze worse), "poor" (its check error
 * is above `poorError`, screen fractions, from gazesite/calibration/settings.py) or "good".
 */
export function calibrationQuality(summary, poorError) {
  const check = summary?.validation;
  if (!(check?.samples > 0) || !Number.isFinite(check.error)) return 'unchecked';
  if (Number.isFinite(check.rawError) && check.error > check.rawError) return 'worse';
  return check.error > poorError ? 'poor' : 'good';
}
