// The record view: a dialog with the record's fields, its full JSON as a collapsible tree,
// copy buttons and a link to the raw JSON endpoint. Opened from the URL (?record=source:id).
import { getJson, recordPath } from './api.js';
import { copyButton, fill, formatTime, h, message } from './dom.js';
import { jsonTree, setTreeOpen } from './json-tree.js';

const dialog = document.getElementById('record-dialog');
let shown = null;      // "source\0id" on display
let onClose = null;
let returnFocus = null;

dialog.addEventListener('close', () => {
  shown = null;
  const callback = onClose;
  onClose = null;
  callback?.();
  if (returnFocus?.isConnected) returnFocus.focus();
  returnFocus = null;
});

export function recordOpen() {
  return dialog.open;
}

export function closeRecord() {
  if (dialog.open) dialog.close();
}

// Shows source/id; onclosed runs when the user closes the dialog.
export async function openRecord(source, id, onclosed) {
  const key = `${source}\u0000${id}`;
  onClose = onclosed;
  if (shown === key && dialog.open) return;
  shown = key;
  if (!dialog.open) {
    returnFocus = document.activeElement;
    dialog.showModal();
  }
  fill(dialog, frame(source, id, message('info', 'Loading…')));
  try {
    const record = await getJson(recordPath(source, id));
    if (shown !== key) return;
    fill(dialog, frame(source, id, body(record), record));
  } catch (error) {
    if (shown !== key) return;
    fill(dialog, frame(source, id, message('error', error.message)));
  }
  dialog.querySelector('.dialog-close')?.focus();
}

function titleOf(record) {
  const data = record?.data;
  if (data && typeof data === 'object') {
    for (const name of ['title', 'name', 'subject', 'summary', 'label']) {
      if (typeof data[name] === 'string' && data[name]) return data[name];
    }
  }
  return null;
}

function frame(source, id, content, record) {
  const raw = recordPath(source, id);
  const title = titleOf(record) || `${source} #${id}`;
  return h('div', { class: 'record' },
    h('header', { class: 'dialog-head' },
      h('div', {},
        h('h2', { id: 'record-title' }, title),
        h('p', { class: 'meta' }, h('span', { class: 'badge' }, source), ' ',
          h('span', { class: 'hit-id' }, `#${id}`),
          record?.deleted ? h('span', { class: 'status dead' }, 'deleted at the source') : null,
          record ? h('span', {}, ` · fetched ${formatTime(record.fetched_at)}`) : null,
          record && record.updated_at !== record.fetched_at
            ? h('span', {}, ` · changed ${formatTime(record.updated_at)}`) : null)),
      h('button', {
        type: 'button', class: 'icon dialog-close', 'aria-label': 'Close record',
        onclick: () => dialog.close(),
      }, '×')),
    h('div', { class: 'record-actions' },
      record ? copyButton('Copy JSON', () => JSON.stringify(record.data, null, 2)) : null,
      copyButton('Copy link', () => location.href),
      copyButton('Copy id', () => id),
      h('a', { class: 'button secondary', href: raw, target: '_blank', rel: 'noopener' },
        'Raw JSON ↗')),
    content);
}

function displayValue(value) {
  if (value === null || value === undefined) return h('span', { class: 'j-null' }, '—');
  if (typeof value === 'object') {
    const text = JSON.stringify(value);
    return h('code', { class: 'compact' }, text.length > 160 ? `${text.slice(0, 157)}…` : text);
  }
  const text = String(value);
  if (/^https?:\/\//.test(text)) {
    return h('a', { href: text, target: '_blank', rel: 'noopener noreferrer' }, text);
  }
  return text;
}

function body(record) {
  const data = record.data;
  const rows = [];
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    for (const [name, value] of Object.entries(data)) rows.push([name, value]);
  }
  const tree = jsonTree(data);
  return h('div', { class: 'record-body' },
    rows.length === 0 ? null : h('section', { 'aria-labelledby': 'record-fields' },
      h('h3', { id: 'record-fields' }, 'Fields'),
      h('dl', { class: 'fields-table' }, rows.map(([name, value]) => [
        h('dt', {}, name), h('dd', {}, displayValue(value))]))),
    h('section', { 'aria-labelledby': 'record-json' },
      h('div', { class: 'section-head' },
        h('h3', { id: 'record-json' }, 'JSON'),
        h('div', { class: 'tree-actions' },
          h('button', { type: 'button', class: 'linklike', onclick: () => setTreeOpen(tree, true) },
            'Expand all'),
          h('button', { type: 'button', class: 'linklike', onclick: () => setTreeOpen(tree, false) },
            'Collapse all'))),
      tree));
}
