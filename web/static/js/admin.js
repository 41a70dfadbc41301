// Admin views (need a key with the write or admin role, entered here and kept in
// localStorage): sources with their last and next run and "run now", run history, targets,
// deliveries with retry, search analytics, and export.
import { getJson, listOf, request, sendJson, storedKey, storeKey } from './api.js';
import { fill, formatNumber, formatTime, h, message, relativeTime } from './dom.js';
import { getState, setState } from './state.js';
import { recordsLabel } from './forward.js';

const keyPanel = document.getElementById('key-panel');
const tabList = document.getElementById('admin-tabs');
const panel = document.getElementById('admin-panel');

const TABS = [
  ['sources', 'Sources'], ['runs', 'Runs'], ['targets', 'Targets'],
  ['deliveries', 'Deliveries'], ['searches', 'Searches'], ['export', 'Export'],
];
let refresh = null;  // the timer that keeps a tab current while something is running
let generation = 0;  // bumps on every render, so late answers for an old tab are dropped

function params() {
  return new URLSearchParams(Object.entries(getState().admin || {}));
}

export function renderAdmin() {
  clearTimeout(refresh);
  const mine = ++generation;
  renderKeyPanel();
  const state = getState();
  const active = TABS.some(([id]) => id === state.tab) ? state.tab : 'sources';
  fill(tabList, TABS.map(([id, label]) => h('button', {
    type: 'button', role: 'tab', id: `tab-${id}`, 'aria-selected': id === active ? 'true' : 'false',
    'aria-controls': 'admin-panel', tabindex: id === active ? '0' : '-1',
    onclick: () => setState({ view: 'admin', tab: id, admin: {} }, { push: true }),
    onkeydown: (e) => {
      const at = TABS.findIndex(([t]) => t === id);
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      e.preventDefault();
      const next = TABS[(at + step + TABS.length) % TABS.length][0];
      setState({ view: 'admin', tab: next, admin: {} }, { push: true });
      document.getElementById(`tab-${next}`)?.focus();
    },
  }, label)));
  panel.setAttribute('aria-labelledby', `tab-${active}`);
  const views = { sources, runs, targets, deliveries, searches, exporter };
  (views[active === 'export' ? 'exporter' : active])(mine);
}

function renderKeyPanel() {
  const key = storedKey();
  if (key) {
    fill(keyPanel, h('p', { class: 'key-state' }, 'Using the API key ',
      h('code', {}, `${key.slice(0, 6)}…`), ' kept in this browser. ',
      h('button', { type: 'button', class: 'linklike', id: 'forget-key',
        onclick: () => { storeKey(''); renderAdmin(); } }, 'Forget it')));
    return;
  }
  const input = h('input', {
    id: 'api-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false',
    placeholder: 'octohub_…',
  });
  const form = h('form', { class: 'key-form' },
    h('label', { for: 'api-key' }, 'API key'), input,
    h('button', { type: 'submit', class: 'primary' }, 'Use key'),
    h('p', { class: 'muted' }, 'The admin key is printed once when octohub first starts; ',
      h('code', {}, 'octohub keys create --role admin'), ' makes more. It stays in this browser only.'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey(input.value.trim());
    renderAdmin();
  });
  fill(keyPanel, form);
}

function current(mine) {
  return mine === generation;
}

function table(headers, rows, empty) {
  if (!rows.length) return h('p', { class: 'empty-line' }, empty);
  // On a phone each row becomes a card, each cell labelled by its column (see style.css).
  for (const row of rows) {
    [...row.children].forEach((cell, i) => { if (headers[i]) cell.dataset.label = headers[i]; });
  }
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' },
      t || h('span', { class: 'visually-hidden' }, 'Actions'))))),
    h('tbody', {}, rows)));
}

function statusBadge(status) {
  return status ? h('span', { class: `status ${status}` }, status) : '—';
}

function when(text) {
  return text ? h('time', { datetime: text, title: formatTime(text) }, relativeTime(text)) : '—';
}

async function load(mine, path, render) {
  fill(panel, message('info', 'Loading…'));
  try {
    const body = await getJson(path);
    if (current(mine)) render(body);
  } catch (error) {
    if (current(mine)) fill(panel, message('error', error.message));
  }
}

function again(mine, busy, ms = 1500) {
  if (busy && current(mine)) refresh = setTimeout(() => current(mine) && renderAdmin(), ms);
}

function sources(mine) {
  load(mine, '/api/v1/sources', (body) => {
    const list = listOf(body, 'sources');
    const notice = h('div', { id: 'run-notice', 'aria-live': 'polite' });
    const rows = list.map((s) => {
      const run = s.last_run;
      return h('tr', { dataset: { source: s.name } },
        h('th', { scope: 'row' }, h('a', {
          href: `/?view=admin&tab=runs&source=${encodeURIComponent(s.name)}`,
          onclick: (e) => { e.preventDefault(); goRuns(s.name); },
        }, s.name), h('div', { class: 'muted small' }, s.url || '')),
        h('td', { class: 'num' }, formatNumber(s.record_count ?? 0)),
        h('td', {}, run ? [statusBadge(run.status), ' ', when(run.finished_at || run.started_at)] : 'never',
          run && run.status === 'succeeded' ? h('div', { class: 'muted small' },
            `${formatNumber(run.records_new)} new · ${formatNumber(run.records_updated)} updated · `
            + `${formatNumber(run.records_unchanged)} unchanged · ${formatNumber(run.pages)} pages`) : null,
          run?.error ? h('div', { class: 'error-text small' }, run.error) : null),
        h('td', {}, s.schedule ? [h('div', {}, s.schedule), when(s.next_run_at)] : 'manual'),
        h('td', {}, h('button', {
          type: 'button', class: 'secondary run-now', 'aria-label': `Run now: ${s.name}`,
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              const queued = await sendJson('POST', `/api/v1/sources/${encodeURIComponent(s.name)}/runs`);
              fill(notice, message('ok', `Run ${queued.id} of ${s.name} ${queued.status}.`));
              setTimeout(() => current(mine) && renderAdmin(), 800);
            } catch (error) {
              fill(notice, message('error', error.message));
              e.target.disabled = false;
            }
          },
        }, 'Run now')));
    });
    fill(panel, h('div', { class: 'panel-head' }, notice, refreshButton()),
      table(['Source', 'Records', 'Last run', 'Schedule / next', ''], rows,
      'No sources yet: apply one with octohub sources apply FILE, or POST /api/v1/sources.'));
    again(mine, list.some((s) => ['queued', 'running'].includes(s.last_run?.status)));
  });
}

function refreshButton() {
  return h('button', { type: 'button', class: 'secondary refresh', onclick: () => renderAdmin() }, 'Refresh');
}

function goRuns(source) {
  setState({ view: 'admin', tab: 'runs', admin: { source } }, { push: true });
}

async function runs(mine) {
  fill(panel, message('info', 'Loading…'));
  let names;
  try {
    names = listOf(await getJson('/api/v1/sources'), 'sources').map((s) => s.name);
  } catch (error) {
    if (current(mine)) fill(panel, message('error', error.message));
    return;
  }
  if (!current(mine)) return;
  if (!names.length) {
    fill(panel, h('p', { class: 'empty-line' }, 'No sources, so no runs.'));
    return;
  }
  const chosen = names.includes(params().get('source')) ? params().get('source') : names[0];
  const select = h('select', { id: 'runs-source',
    onchange: () => goRuns(select.value) }, names.map((n) => h('option', { value: n, selected: n === chosen }, n)));
  const list = h('div', {});
  fill(panel, h('div', { class: 'panel-head' },
    h('div', { class: 'inline-form' }, h('label', { for: 'runs-source' }, 'Source'), select),
    refreshButton()), list);
  try {
    const body = await getJson(`/api/v1/sources/${encodeURIComponent(chosen)}/runs?limit=50`);
    if (!current(mine)) return;
    const all = listOf(body, 'runs');
    fill(list, table(['Run', 'Status', 'Trigger', 'Started', 'Finished', 'Pages', 'Seen', 'New',
      'Updated', 'Deleted', 'Error'], all.map((r) => h('tr', { dataset: { run: String(r.id) } },
      h('td', {}, String(r.id)), h('td', {}, statusBadge(r.status)), h('td', {}, r.trigger),
      h('td', {}, when(r.started_at)), h('td', {}, when(r.finished_at)),
      h('td', { class: 'num' }, formatNumber(r.pages)), h('td', { class: 'num' }, formatNumber(r.records_seen)),
      h('td', { class: 'num' }, formatNumber(r.records_new)),
      h('td', { class: 'num' }, formatNumber(r.records_updated)),
      h('td', { class: 'num' }, formatNumber(r.records_deleted)),
      h('td', { class: 'error-text' }, r.error || ''))), `${chosen} has not run yet.`));
    again(mine, all.some((r) => ['queued', 'running'].includes(r.status)));
  } catch (error) {
    if (current(mine)) fill(list, message('error', error.message));
  }
}

// A target's state: active, failing (probed by one delivery at a time) or paused, with why.
function targetState(t, notice, mine) {
  const state = t.state || 'active';
  const badge = h('span', { class: `status ${state}` }, state);
  if (state === 'active') return badge;
  const why = state === 'paused'
    ? `since ${when(t.paused_since)}: ${t.paused_reason || ''}`
    : `since ${when(t.failing_since)}: ${t.last_error || ''}`;
  return h('div', { class: 'target-state' }, badge, h('span', { class: 'muted' }, ` ${why} `),
    state === 'paused' ? h('button', {
      type: 'button', class: 'secondary', 'aria-label': `Resume target ${t.name}`,
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          await sendJson('POST', `/api/v1/targets/${encodeURIComponent(t.name)}/resume`);
          fill(notice, message('ok', `${t.name} resumed: what waited for it is being sent.`));
          setTimeout(() => current(mine) && renderAdmin(), 800);
        } catch (error) {
          fill(notice, message('error', error.message));
          e.target.disabled = false;
        }
      },
    }, 'Resume') : null);
}

function targets(mine) {
  load(mine, '/api/v1/targets', (body) => {
    const list = listOf(body, 'targets');
    const notice = h('div', { 'aria-live': 'polite' });
    fill(panel, notice, table(['Target', 'URL', 'State', 'Method', 'Batch', 'Attempts', ''], list.map((t) => h('tr', { dataset: { target: t.name } },
      h('th', { scope: 'row' }, t.name), h('td', { class: 'url' }, t.url || ''),
      h('td', {}, targetState(t, notice, mine)),
      h('td', {}, t.method || 'POST'), h('td', { class: 'num' }, String(t.batch ?? 1)),
      h('td', { class: 'num' }, String(t.max_attempts ?? '')),
      h('td', {}, h('a', {
        href: `/?view=admin&tab=deliveries&target=${encodeURIComponent(t.name)}`,
        onclick: (e) => {
          e.preventDefault();
          setState({ view: 'admin', tab: 'deliveries', admin: { target: t.name } }, { push: true });
        },
      }, 'Deliveries')))),
    'No targets yet: apply one with octohub targets apply FILE, or POST /api/v1/targets.'));
  });
}

// Search analytics: what people look for, what finds nothing, and searches per day.
function searches(mine) {
  load(mine, '/api/v1/analytics/searches?limit=20', (body) => {
    const link = (query) => h('a', { href: `/?q=${encodeURIComponent(query)}` }, query);
    const counted = (list) => list.map((q) => h('tr', {},
      h('th', { scope: 'row' }, link(q.query)), h('td', { class: 'num' }, formatNumber(q.searches))));
    const ms = (value) => `${Number(value).toFixed(1)} ms`;
    fill(panel,
      h('p', { class: 'muted' }, `Searches of the last ${body.kept_days} days, as typed. `,
        body.kept_days ? '' : 'None are kept: octohub serve runs with --analytics-days 0.'),
      h('h2', {}, 'Most searched'),
      table(['Query', 'Searches'], counted(body.queries), 'No searches yet.'),
      h('h2', {}, 'Found nothing'),
      table(['Query', 'Searches'], counted(body.zero_hit_queries),
        'Every search found something.'),
      h('h2', {}, 'By day'),
      table(['Day (UTC)', 'Searches', 'Median', 'p99'], body.days.map((d) => h('tr', {},
        h('th', { scope: 'row' }, d.day), h('td', { class: 'num' }, formatNumber(d.searches)),
        h('td', { class: 'num' }, ms(d.median_ms)), h('td', { class: 'num' }, ms(d.p99_ms)))),
      'No searches yet.'));
  });
}

function deliveries(mine) {
  const query = new URLSearchParams();
  const status = params().get('status') || '';
  const target = params().get('target') || '';
  if (status) query.set('status', status);
  if (target) query.set('target', target);
  const statusSelect = h('select', { id: 'delivery-status' },
    ['', 'pending', 'sent', 'failed', 'dead'].map((s) => h('option', { value: s, selected: s === status }, s || 'any')));
  const targetInput = h('input', { id: 'delivery-target', type: 'text', value: target, placeholder: 'any' });
  const filter = h('form', { class: 'inline-form' },
    h('label', { for: 'delivery-status' }, 'Status'), statusSelect,
    h('label', { for: 'delivery-target' }, 'Target'), targetInput,
    h('button', { type: 'submit', class: 'secondary' }, 'Show'));
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    const admin = {};
    if (statusSelect.value) admin.status = statusSelect.value;
    if (targetInput.value.trim()) admin.target = targetInput.value.trim();
    setState({ view: 'admin', tab: 'deliveries', admin }, { push: true });
  });
  const notice = h('div', { 'aria-live': 'polite' });
  const page = Math.max(1, Number(params().get('dpage')) || 1);
  query.set('page', String(page));
  query.set('per_page', '50');
  load(mine, `/api/v1/deliveries?${query}`, (body) => {
    const list = listOf(body, 'deliveries');
    const total = Number(body?.total ?? list.length);
    const pages = Math.max(1, Math.ceil(total / 50));
    const goto = (p) => setState({ view: 'admin', tab: 'deliveries',
      admin: { ...getState().admin, dpage: String(p) } }, { push: true });
    const pager = pages > 1 ? h('nav', { class: 'pager', 'aria-label': 'Delivery pages' },
      page > 1 ? h('button', { type: 'button', class: 'secondary', onclick: () => goto(page - 1) }, '← Newer') : null,
      h('span', { class: 'of' }, `Page ${page} of ${formatNumber(pages)} · ${formatNumber(total)} deliveries`),
      page < pages ? h('button', { type: 'button', class: 'secondary', onclick: () => goto(page + 1) }, 'Older →') : null)
      : null;
    fill(panel, h('div', { class: 'panel-head' }, filter, refreshButton()), notice,
      table(['Delivery', 'Target', 'Records', 'Status', 'Attempts', 'Last error', 'Created', 'Sent / next try', ''],
      list.map((d) => h('tr', { dataset: { delivery: String(d.id) } },
        h('td', {}, String(d.id)), h('td', {}, d.target || ''),
        h('td', {}, recordsLabel(d)),
        h('td', {}, statusBadge(d.status)), h('td', { class: 'num' }, String(d.attempts ?? '')),
        h('td', { class: 'error-text' }, d.last_error || (d.last_status >= 300 ? `HTTP ${d.last_status}` : '')),
        h('td', {}, when(d.created_at)),
        h('td', {}, d.sent_at ? when(d.sent_at) : d.next_attempt_at ? when(d.next_attempt_at) : '—'),
        h('td', {}, ['failed', 'dead'].includes(d.status) ? h('button', {
          type: 'button', class: 'secondary', 'aria-label': `Retry delivery ${d.id}`,
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              await sendJson('POST', `/api/v1/deliveries/${encodeURIComponent(d.id)}/retry`);
              fill(notice, message('ok', `Delivery ${d.id} queued again.`));
              setTimeout(() => current(mine) && renderAdmin(), 800);
            } catch (error) {
              fill(notice, message('error', error.message));
              e.target.disabled = false;
            }
          },
        }, 'Retry') : ''))),
    'No deliveries match.'), pager);
    again(mine, list.some((d) => d.status === 'pending'), 3000);
  });
}

// Export needs the key in a header, which a plain link cannot send: fetch it and hand the
// browser the bytes as a download.
async function exporter(mine) {
  let names = [];
  try {
    names = listOf(await getJson('/api/v1/sources'), 'sources').map((s) => s.name);
  } catch {
    // A key without the write role can still export if it is an admin key; keep going.
  }
  if (!current(mine)) return;
  const format = h('select', { id: 'export-format' },
    [['ndjson', 'NDJSON (one record a line)'], ['csv', 'CSV'], ['json', 'JSON array']]
      .map(([v, t]) => h('option', { value: v }, t)));
  const source = h('select', { id: 'export-source' }, h('option', { value: '' }, 'every source'),
    names.map((n) => h('option', { value: n }, n)));
  const q = h('input', { id: 'export-q', type: 'search', placeholder: 'every record',
    value: getState().q || '' });
  const since = h('input', { id: 'export-since', type: 'text', placeholder: '2024-01-01T00:00:00Z' });
  const status = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'export-download' }, 'Download');
  const form = h('form', { class: 'stack export-form' },
    h('div', { class: 'field-row' }, h('label', { for: 'export-format' }, 'Format'), format),
    h('div', { class: 'field-row' }, h('label', { for: 'export-source' }, 'Source'), source),
    h('div', { class: 'field-row' }, h('label', { for: 'export-q' }, 'Query'), q),
    h('div', { class: 'field-row' }, h('label', { for: 'export-since' }, 'Changed since'), since),
    h('div', { class: 'actions' }, button), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const query = new URLSearchParams({ format: format.value });
    if (source.value) query.set('source', source.value);
    if (q.value.trim()) query.set('q', q.value.trim());
    if (since.value.trim()) query.set('since', since.value.trim());
    button.disabled = true;
    fill(status, message('info', 'Exporting…'));
    try {
      const response = await request(`/api/v1/export?${query}`, { headers: { Accept: '*/*' } });
      const blob = await response.blob();
      const disposition = response.headers.get('Content-Disposition') || '';
      const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
      const name = named ? decodeURIComponent(named[1]) : `octohub-export.${format.value}`;
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: name, class: 'visually-hidden' }, name);
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      fill(status, message('ok', `Downloaded ${name} (${formatNumber(blob.size)} bytes).`));
    } catch (error) {
      fill(status, message('error', error.message));
    } finally {
      button.disabled = false;
    }
  });
  fill(panel, h('p', { class: 'muted' },
    'Every matching record with its mapped fields and the data as fetched. Needs an admin key.'), form);
}
