// Forwarding (SPEC §5): select results, or take every record that matches the search, pick a
// target, send, and watch the deliveries of that forward until they settle.
import { getJson, listOf, sendJson } from './api.js';
import { fill, formatNumber, formatTime, h, message } from './dom.js';

// Selected results across pages: "source\0id" → {source, id, title}.
export const selection = new Map();
const bar = document.getElementById('selection-bar');
const dialog = document.getElementById('forward-dialog');
let lastState = null;
let lastResult = null;
let polling = null;

export function toggleSelected(hit, on) {
  const key = `${hit.source}\u0000${hit.id}`;
  if (on) selection.set(key, { source: hit.source, id: hit.id, title: hit.title });
  else selection.delete(key);
  for (const box of document.querySelectorAll('.hit input.select')) {
    box.closest('.hit').classList.toggle('selected', box.checked);
  }
  renderSelectionBar(lastState, lastResult);
}

export function renderSelectionBar(state, result) {
  lastState = state;
  lastResult = result;
  const parts = [];
  if (selection.size) {
    parts.push(h('span', { class: 'selected-count' }, `${formatNumber(selection.size)} selected`));
    parts.push(h('button', {
      type: 'button', class: 'primary', id: 'forward-selected',
      onclick: () => openForward({ kind: 'records' }),
    }, 'Forward selected…'));
    parts.push(h('button', {
      type: 'button', class: 'linklike',
      onclick: () => {
        selection.clear();
        for (const box of document.querySelectorAll('.hit input.select')) box.checked = false;
        toggleSelected({ source: '', id: '' }, false);
      },
    }, 'Clear selection'));
  }
  if (result && result.total > 0) {
    parts.push(h('button', {
      type: 'button', class: 'secondary', id: 'forward-all',
      onclick: () => openForward({ kind: 'query' }),
    }, `Forward all ${result.total_exact ? '' : '~'}${formatNumber(result.total)} that match…`));
  }
  fill(bar, parts);
  bar.hidden = parts.length === 0;
}

function closeDialog() {
  clearTimeout(polling);
  polling = null;
  dialog.close();
}

async function openForward({ kind }) {
  const state = lastState;
  const records = [...selection.values()].map(({ source, id }) => ({ source, id }));
  const what = kind === 'records'
    ? `${formatNumber(records.length)} selected record${records.length === 1 ? '' : 's'}`
    : `every record that matches${state.q ? ` “${state.q}”` : ''}`;
  const status = h('div', { class: 'forward-status', 'aria-live': 'polite' });
  const targetSelect = h('select', { id: 'forward-target', required: true, disabled: true },
    h('option', { value: '' }, 'Loading targets…'));
  const limit = h('input', {
    id: 'forward-limit', type: 'number', min: '1', max: '100000', value: '1000', inputmode: 'numeric',
  });
  const send = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Send');
  const form = h('form', { method: 'dialog', class: 'stack' },
    h('header', { class: 'dialog-head' },
      h('h2', { id: 'forward-title' }, 'Forward records'),
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onclick: closeDialog }, '×')),
    h('p', {}, `Send ${what} to a target API. Each record becomes a delivery that is retried until it succeeds.`),
    state.filters.length || state.sources.length
      ? h('p', { class: 'muted' }, 'The filters in effect apply: ',
        [...state.sources.map((s) => `source: ${s}`), ...state.filters.map(([f, v]) => `${f}: ${v}`)]
          .join(', '))
      : null,
    h('div', { class: 'field-row' }, h('label', { for: 'forward-target' }, 'Target'), targetSelect),
    kind === 'query'
      ? h('div', { class: 'field-row' }, h('label', { for: 'forward-limit' }, 'At most'), limit)
      : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: closeDialog }, 'Cancel'), send),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const target = targetSelect.value;
    if (!target) return;
    send.disabled = true;
    fill(status, message('info', 'Sending…'));
    const body = kind === 'records'
      ? { target, records }
      : { target, query: queryOf(state), limit: Number(limit.value) || 1000 };
    try {
      const answer = await sendJson('POST', '/api/v1/forwards', body);
      send.textContent = 'Sent';
      watchDeliveries(status, target, answer);
    } catch (error) {
      fill(status, message('error', error.message));
      send.disabled = false;
    }
  });
  fill(dialog, form);
  dialog.showModal();
  try {
    const targets = listOf(await getJson('/api/v1/targets'), 'targets');
    if (!targets.length) {
      fill(targetSelect, h('option', { value: '' }, 'No targets yet'));
      fill(status, message('info',
        'Define a target first (octohub targets apply FILE, or POST /api/v1/targets).'));
      return;
    }
    fill(targetSelect, targets.map((t) => h('option', { value: t.name },
      t.url ? `${t.name} — ${t.url}` : t.name)));
    targetSelect.disabled = false;
    send.disabled = false;
    targetSelect.focus();
  } catch (error) {
    fill(targetSelect, h('option', { value: '' }, 'Targets unavailable'));
    fill(status, message('error', error.message));
  }
}

// The search as POST /api/v1/forwards takes it: {q, source}; facet filters join q as
// field:value terms, which the query syntax supports for every facet.
export function queryOf(state) {
  // The results on screen came from a prefix search (the last word as typed so far); a
  // trailing * makes the forward match the same records.
  const last = state.q.trim().split(/\s+/).pop() || '';
  const q = /^[\p{L}\p{N}_-]+$/u.test(last) && !/^(AND|OR|NOT|XOR|NEAR)$/.test(last)
    ? `${state.q.trim()}*` : state.q.trim();
  const terms = q ? [q.includes(' ') ? `(${q})` : q] : [];
  const byField = new Map();
  for (const [field, value] of state.filters) {
    byField.set(field, [...(byField.get(field) || []), `${field}:"${value.replace(/"/g, '')}"`]);
  }
  for (const values of byField.values()) {
    terms.push(values.length > 1 ? `(${values.join(' OR ')})` : values[0]);
  }
  const query = { q: terms.join(' AND ') };
  if (state.sources.length) query.source = state.sources.join(',');
  return query;
}

// Follows the deliveries of one forward (POST /api/v1/forwards answered
// {"forward_id", "deliveries": count, "records": count}) until every one is sent or dead.
function watchDeliveries(status, target, answer) {
  const count = Number(answer?.deliveries) || 0;
  const records = Number(answer?.records ?? count) || 0;
  if (!count || answer?.forward_id === null || answer?.forward_id === undefined) {
    fill(status, message('info', 'Nothing to send: no record matched.'));
    return;
  }
  const head = h('p', { class: 'message ok', role: 'status' },
    `Forward ${answer.forward_id} accepted: ${formatNumber(records)} record${records === 1 ? '' : 's'} in `
    + `${formatNumber(count)} deliver${count === 1 ? 'y' : 'ies'}.`);
  const progress = h('div', { class: 'delivery-progress', 'aria-live': 'polite' });
  fill(status, head, progress, h('p', {}, h('a', {
    href: `/?view=admin&tab=deliveries&target=${encodeURIComponent(target)}`,
  }, 'All deliveries of this target')));
  const started = Date.now();
  const poll = async () => {
    try {
      // The newest deliveries come first; a forward's are among the newest of its target.
      const query = new URLSearchParams({ target, per_page: '500' });
      const all = listOf(await getJson(`/api/v1/deliveries?${query}`), 'deliveries');
      const mine = all.filter((d) => String(d.forward_id) === String(answer.forward_id));
      const counts = {};
      for (const d of mine) counts[d.status] = (counts[d.status] || 0) + 1;
      fill(progress, h('p', { class: 'delivery-counts' }, Object.keys(counts).length
        ? Object.entries(counts).map(([s, n]) => h('span', { class: `status ${s}` }, `${formatNumber(n)} ${s}`))
        : 'Waiting for the first delivery…'),
      mine.length ? deliveryList(mine.slice(0, 20)) : null);
      const settled = mine.length >= Math.min(count, 500)
        && mine.every((d) => d.status === 'sent' || d.status === 'dead');
      if (!settled && Date.now() - started < 120000 && dialog.open) polling = setTimeout(poll, 1000);
    } catch (error) {
      fill(progress, message('error', error.message));
    }
  };
  poll();
}

// "notes/4", or "notes/4 +2 more" for a batch.
export function recordsLabel(delivery) {
  const refs = Array.isArray(delivery.records) ? delivery.records : [];
  if (!refs.length) return '';
  const first = `${refs[0].source}/${refs[0].id}`;
  return refs.length > 1 ? `${first} +${refs.length - 1} more` : first;
}

function deliveryList(deliveries) {
  return h('ul', { class: 'deliveries' }, deliveries.map((d) => h('li', {},
    h('span', { class: `status ${d.status}` }, d.status), ' ',
    `#${d.id} ${recordsLabel(d)}`,
    ` · ${d.attempts ?? 0} attempt${d.attempts === 1 ? '' : 's'}`,
    d.last_error ? h('span', { class: 'error-text' }, ` · ${d.last_error}`) : '',
    d.sent_at ? ` · sent ${formatTime(d.sent_at)}` : '')));
}
