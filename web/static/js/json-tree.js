// A JSON value as a collapsible tree: objects and arrays are <details> elements (keyboard
// operable for free), scalars are coloured by type. Levels deeper than openDepth start closed.
import { h } from './dom.js';

export function jsonTree(value, { openDepth = 2 } = {}) {
  return h('div', { class: 'json-tree' }, node(null, value, 0, openDepth));
}

function scalar(value) {
  if (value === null) return h('span', { class: 'j-null' }, 'null');
  switch (typeof value) {
    case 'string': return h('span', { class: 'j-string' }, JSON.stringify(value));
    case 'number': return h('span', { class: 'j-number' }, String(value));
    case 'boolean': return h('span', { class: 'j-bool' }, String(value));
    default: return h('span', {}, String(value));
  }
}

function keyLabel(key) {
  if (key === null) return null;
  return [h('span', { class: typeof key === 'number' ? 'j-index' : 'j-key' },
    typeof key === 'number' ? String(key) : JSON.stringify(key)), ': '];
}

function node(key, value, depth, openDepth) {
  if (value === null || typeof value !== 'object') {
    return h('div', { class: 'j-row' }, keyLabel(key), scalar(value));
  }
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (!entries.length) return h('div', { class: 'j-row' }, keyLabel(key), `${open}${close}`);
  const size = isArray ? `${entries.length} item${entries.length === 1 ? '' : 's'}`
    : `${entries.length} key${entries.length === 1 ? '' : 's'}`;
  return h('details', { class: 'j-node', open: depth < openDepth },
    h('summary', {}, keyLabel(key), open, h('span', { class: 'j-size' }, ` ${size} `), close),
    h('div', { class: 'j-children' }, entries.map(([k, v]) => node(k, v, depth + 1, openDepth))));
}

// Opens or closes every node of a tree.
export function setTreeOpen(tree, open) {
  for (const details of tree.querySelectorAll('details')) details.open = open;
}
