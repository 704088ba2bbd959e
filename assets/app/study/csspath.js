// A short, stable CSS path of an element: from the nearest ancestor with a unique, hand-written-looking id (or
// from body), tag names with :nth-of-type only where a sibling shares the tag. Classes are left out on purpose:
// pages toggle them (hover, active, loaded), so they would split one element into many.

// Deeper paths are cut at this many steps (the end nearest the element is kept): a path stays short.
const MAX_STEPS = 12;
// Ids like "main" or "hero-title"; generated ones (":r1:", "ember123", uuids) change between loads.
const STABLE_ID = /^[A-Za-z][\w-]{0,39}$/;
const GENERATED = /\d{3,}|[0-9a-f]{8}-/;

/** The CSS path of `element` in its own document, or null for no element. */
export function cssPath(element) {
  if (!element || element.nodeType !== 1) return null;
  const steps = [];
  for (let node = element; node && node.nodeType === 1 && steps.length < MAX_STEPS; node = node.parentElement) {
    const tag = node.localName;
    if (STABLE_ID.test(node.id) && !GENERATED.test(node.id) && node.ownerDocument.getElementById(node.id) === node) {
      steps.unshift(`#${node.id}`);
      break;
    }
    if (tag === 'body' || tag === 'html' || !node.parentElement) {
      steps.unshift(tag);
      break;
    }
    let index = 0;
    let count = 0;
    for (const sibling of node.parentElement.children) {
      if (sibling.localName !== tag) continue;
      count += 1;
      if (sibling === node) index = count;
    }
    steps.unshift(count > 1 ? `${tag}:nth-of-type(${index})` : tag);
  }
  return steps.join(' > ');
}
