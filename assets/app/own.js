// Tables looked up with names from outside (a stored calibration, a model's config): own entries only, so
// "toString", "constructor" or "__proto__" never find something every object inherits.

/** table[key] when `key` is a string naming one of the table's own entries; undefined otherwise. */
export function lookup(table, key) {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}
