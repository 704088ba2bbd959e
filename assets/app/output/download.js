// Save data to a file through a temporary <a download>.

/** Offer `url` (blob: or data:) as a download named `filename`. */
export function downloadUrl(filename, url) {
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
}

/** Offer text as a download named `filename`. */
export function downloadText(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  downloadUrl(filename, url);
  // The download has taken its copy once click() returns to the event loop.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
