// The search view: results as you type, facets and sources as filters, chips to remove them,
// sort, paging and the spelling suggestion. Reads and writes the URL state (state.js).
import { ApiError, getJson } from './api.js';
import { fill, formatDate, formatNumber, formatTime, h, message, safeSnippet } from './dom.js';
import { renderSelectionBar, selection, toggleSelected } from './forward.js';
import { appendSearch, emptySearch, getState, setState, urlFor } from './state.js';

const PER_PAGE = 20;
const FACET_VALUES_SHOWN = 8;
const DEBOUNCE_MS = 150;

const els = {
  input: document.getElementById('q'),
  filters: document.getElementById('filters'),
  summary: document.getElementById('summary'),
  sort: document.getElementById('sort'),
  chips: document.getElementById('chips'),
  message: document.getElementById('search-message'),
  hits: document.getElementById('hits'),
  pager: document.getElementById('pager'),
};

// What the index can be searched by (GET /api/v1/fields); empty until loaded.
let catalog = { documents: null, sources: [], fields: [] };
let catalogAt = 0;  // when it was loaded: sources and fields appear as harvesting goes on
const CATALOG_MAX_AGE_MS = 10000;
let ticket = 0;          // the latest search issued; answers to older ones are dropped
let inFlight = null;     // its AbortController
let timer = null;
let lastResult = null;
let lastFacets = {};        // the result's facets, with the counts otherCounts() adds
let sourceCounts = null;    // source → matches of the current search, once counted
const expandedFacets = new Set();

export function lastSearchResult() {
  return lastResult;
}

export async function loadCatalog() {
  catalogAt = Date.now();
  try {
    catalog = await getJson('/api/v1/fields');
  } catch {
    catalog = { documents: null, sources: [], fields: [] };  // the search shows the error
  }
  renderSortOptions();
}

function facetNames() {
  return catalog.fields.filter((f) => f.kind === 'facet').map((f) => f.name);
}

function renderSortOptions() {
  const state = getState();
  const options = [h('option', { value: 'relevance' }, 'Relevance')];
  for (const field of catalog.fields) {
    if (field.kind === 'date') {
      options.push(h('option', { value: `-${field.name}` }, `${field.name}: newest first`));
      options.push(h('option', { value: field.name }, `${field.name}: oldest first`));
    } else if (field.kind === 'number') {
      options.push(h('option', { value: `-${field.name}` }, `${field.name}: highest first`));
      options.push(h('option', { value: field.name }, `${field.name}: lowest first`));
    }
  }
  if (!options.some((o) => o.value === state.sort)) {
    options.push(h('option', { value: state.sort }, state.sort));  // from a bookmarked URL
  }
  fill(els.sort, options);
  els.sort.value = state.sort;
}

// Runs the search the state describes; debounced while typing.
export function scheduleSearch({ debounce = false, refreshCatalog = false } = {}) {
  clearTimeout(timer);
  if (refreshCatalog) catalogAt = 0;
  if (debounce) timer = setTimeout(runSearch, DEBOUNCE_MS);
  else runSearch();
}

async function runSearch() {
  const mine = ++ticket;
  if (Date.now() - catalogAt > CATALOG_MAX_AGE_MS) {
    await loadCatalog();
    if (mine !== ticket) return;
  }
  const state = getState();
  inFlight?.abort();
  inFlight = new AbortController();
  const params = appendSearch(new URLSearchParams(), state);
  params.set('page', String(state.page));
  params.set('per_page', String(PER_PAGE));
  if (state.q) params.set('prefix', 'true');
  const facets = facetNames();
  if (facets.length) params.set('facets', facets.join(','));
  document.body.classList.add('busy');
  try {
    const result = await getJson(`/api/v1/search?${params}`, { signal: inFlight.signal });
    if (mine !== ticket) return;  // a newer search is on its way
    lastResult = result;
    lastFacets = result.facets || {};
    sourceCounts = null;
    render(state, result);
    const extra = await otherCounts(state, inFlight.signal);
    if (mine !== ticket) return;
    lastFacets = { ...lastFacets, ...extra.facets };
    sourceCounts = extra.sources;
    renderFilters(state, lastFacets);
  } catch (error) {
    if (error.name === 'AbortError' || mine !== ticket) return;
    // A query being typed that cannot be parsed yet ("security AND"): the last results stay,
    // with a quiet hint, rather than flashing an error at every keystroke.
    if (error instanceof ApiError && error.status === 400 && state.q && lastResult) {
      renderUnfinished(error);
      return;
    }
    lastResult = null;
    renderError(state, error);
  } finally {
    if (mine === ticket) document.body.classList.remove('busy');
  }
}

// Counts that choosing a value must not narrow away: a filtered field's other values (what
// switching to them would give) and each source's matches. One small request each, sent once
// the results are on screen.
async function otherCounts(state, signal) {
  const request = (patch, extra) => {
    const params = appendSearch(new URLSearchParams(), { ...state, ...patch });
    params.set('per_page', '1');
    params.set('analytics', 'false');  // counts for the filters, not a search anybody typed
    if (state.q) params.set('prefix', 'true');
    for (const [name, value] of Object.entries(extra)) params.set(name, value);
    return getJson(`/api/v1/search?${params}`, { signal });
  };
  const facets = {};
  const sources = {};
  const jobs = [];
  for (const field of new Set(state.filters.map(([f]) => f))) {
    jobs.push(request({ filters: state.filters.filter(([f]) => f !== field) }, { facets: field })
      .then((r) => { facets[field] = r.facets?.[field] || {}; }));
  }
  if (catalog.sources.length > 1 && catalog.sources.length <= 12) {
    for (const { name } of catalog.sources) {
      jobs.push(request({ sources: [name] }, { exact_total: 'true' })
        .then((r) => { sources[name] = r.total; }));
    }
  }
  await Promise.all(jobs);
  return { facets, sources: catalog.sources.length > 1 ? sources : null };
}

function render(state, result) {
  const exact = result.total_exact ? '' : 'about ';
  const noun = result.total === 1 ? 'result' : 'results';
  fill(els.summary, `${exact}${formatNumber(result.total)} ${noun}`,
    h('span', { class: 'took' }, ` · ${Number(result.took_ms).toFixed(1)} ms`));
  fill(els.message);
  if (result.suggestion) {
    const target = urlFor({ ...state, q: result.suggestion, page: 1, record: null });
    const link = h('a', { href: target, onclick: (e) => follow(e, { q: result.suggestion, page: 1 }) },
      result.suggestion);
    // Hits with a suggestion: nothing matched the words as typed, these are typo matches.
    els.message.append(result.hits.length > 0
      ? h('p', { class: 'suggestion' }, 'Showing results for ', link,
        ' — nothing matches “', state.q, '” as typed.')
      : h('p', { class: 'suggestion' }, 'Did you mean ', link, '?'));
  }
  renderChips(state);
  renderFilters(state, lastFacets);
  if (result.hits.length === 0) {
    fill(els.hits);
    els.message.append(emptyState(state, result));
  } else {
    fill(els.hits, result.hits.map((hit, i) => hitItem(state, hit, i)));
  }
  renderPager(state, result);
  renderSelectionBar(state, result);
}

function renderUnfinished(error) {
  fill(els.message, h('p', { class: 'tip unfinished', role: 'status' },
    'Showing the last results: the query cannot be read yet (', error.message, ').'));
}

function renderError(state, error) {
  fill(els.summary);
  fill(els.hits);
  els.pager.hidden = true;
  renderChips(state);
  const text = error instanceof ApiError ? error.message : `Search failed: ${error.message}`;
  fill(els.message, message('error', text));
  if (error instanceof ApiError && error.status === 400 && state.q) {
    els.message.append(h('p', { class: 'tip' },
      'Quotes make phrases ("exact words"); AND, OR, NOT combine words; field:value narrows.'));
  }
}

function emptyState(state, result) {
  if (catalog.documents === 0 && !state.q && !state.filters.length) {
    return h('div', { class: 'empty' },
      h('h2', {}, 'Nothing harvested yet'),
      h('p', {}, 'Add a source with ', h('code', {}, 'octohub sources apply FILE'),
        ', then start it under ', h('a', { href: '/?view=admin' }, 'Admin'),
        '. Records appear here as soon as they are indexed.'));
  }
  const tips = [];
  if (state.filters.length || state.sources.length) {
    tips.push(h('li', {}, h('button', {
      type: 'button', class: 'linklike',
      onclick: () => setState({ filters: [], sources: [], page: 1 }, { push: true }),
    }, 'Remove every filter'), ' — the words alone may match.'));
  }
  if (state.page > 1 && result.total > 0) {
    tips.push(h('li', {}, h('a', { href: urlFor({ ...state, page: 1 }),
      onclick: (e) => follow(e, { page: 1 }) }, 'Back to the first page')));
  }
  tips.push(h('li', {}, 'Use fewer or more general words, or end a word with ', h('code', {}, '*'),
    ' (', h('code', {}, 'pasta*'), ').'));
  tips.push(h('li', {}, 'Combine with ', h('code', {}, 'OR'), ', exclude with ', h('code', {}, 'NOT'),
    ', narrow with ', h('code', {}, 'field:value'), ' or ranges such as ',
    h('code', {}, 'updated:2024-01-01..2024-12-31'), '.'));
  return h('div', { class: 'empty' },
    h('h2', {}, state.q ? `No records match “${state.q}”` : 'No records match these filters'),
    h('ul', {}, tips));
}

function follow(event, patch) {
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button === 1) return;
  event.preventDefault();
  setState({ ...patch, record: null }, { push: true });
}

function hitItem(state, hit, index) {
  const key = `${hit.source}\u0000${hit.id}`;
  const title = hit.title || `${hit.source} ${hit.id}`;
  const href = urlFor({ ...state, record: { source: hit.source, id: hit.id } });
  const checkbox = h('input', {
    type: 'checkbox', class: 'select', id: `select-${index}`, checked: selection.has(key),
    'aria-label': `Select ${title}`,
    onchange: (e) => toggleSelected(hit, e.target.checked),
  });
  const fieldChips = Object.entries(hit.fields || {})
    .filter(([, value]) => value !== null && typeof value !== 'object')
    .slice(0, 4)
    .map(([name, value]) => h('span', { class: 'field' },
      h('span', { class: 'field-name' }, name), ' ', fieldValue(name, value)));
  return h('li', { class: `hit${selection.has(key) ? ' selected' : ''}` },
    checkbox,
    h('div', { class: 'hit-body' },
      h('h2', { class: 'hit-title' }, h('a', {
        class: 'hit-link', href, dataset: { index: String(index) },
        onclick: (e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button === 1) return;
          e.preventDefault();
          setState({ record: { source: hit.source, id: hit.id } }, { push: true });
        },
      }, title)),
      h('p', { class: 'meta' },
        h('span', { class: 'badge' }, hit.source), ' ',
        h('span', { class: 'hit-id' }, `#${hit.id}`),
        hit.updated_at ? h('span', {}, ' · ', h('time', { datetime: hit.updated_at },
          formatTime(hit.updated_at))) : null,
        fieldChips.length ? h('span', { class: 'fields' }, fieldChips) : null),
      hit.snippet ? h('p', { class: 'snippet' }, safeSnippet(hit.snippet)) : null));
}

// A mapped field's value for display: dates as dates, numbers grouped.
function fieldValue(name, value) {
  const kind = catalog.fields.find((f) => f.name === name)?.kind;
  if (kind === 'date') return formatDate(value);
  if (kind === 'number' && typeof value === 'number') return formatNumber(value);
  return String(value);
}

function isFiltered(state, field, value) {
  return state.filters.some(([f, v]) => f === field && v === value);
}

// Values of one field are alternatives (the API ORs a repeated filter.FIELD); different
// fields must all hold. A field's own counts are asked for without its own filters, so the
// other values stay listed with what choosing them would add.
function toggleFilter(field, value) {
  const state = getState();
  const filters = isFiltered(state, field, value)
    ? state.filters.filter(([f, v]) => !(f === field && v === value))
    : [...state.filters, [field, value]];
  setState({ filters, page: 1, record: null }, { push: true });
}

function toggleSource(name) {
  const state = getState();
  const sources = state.sources.includes(name)
    ? state.sources.filter((s) => s !== name) : [...state.sources, name];
  setState({ sources, page: 1, record: null }, { push: true });
}

function facetButton(label, count, pressed, onclick, kind) {
  return h('li', {}, h('button', {
    type: 'button', class: 'facet-value', 'aria-pressed': pressed ? 'true' : 'false',
    dataset: { facet: kind, value: label }, onclick,
  }, h('span', { class: 'facet-label' }, label),
  ' ', h('span', { class: 'count' }, count === null ? '' : formatNumber(count))));
}

function renderFilters(state, facets) {
  const groups = [];
  if (catalog.sources.length > 1 || state.sources.length) {
    const names = new Set([...catalog.sources.map((s) => s.name), ...state.sources]);
    // Until this search's own counts arrive, the index's totals are right only for no query.
    const unfiltered = !state.q && !state.filters.length;
    const counts = sourceCounts
      || (unfiltered ? Object.fromEntries(catalog.sources.map((s) => [s.name, s.documents])) : {});
    groups.push(h('section', { class: 'facet', 'aria-labelledby': 'facet-source' },
      h('h2', { id: 'facet-source' }, 'Source'),
      h('ul', {}, [...names].map((name) => facetButton(name, counts[name] ?? null,
        state.sources.includes(name), () => toggleSource(name), 'source')))));
  }
  for (const [field, counts] of Object.entries(facets)) {
    const values = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [f, v] of state.filters) {
      if (f === field && !(v in counts)) values.unshift([v, 0]);  // selected, nothing left
    }
    if (!values.length) continue;
    const expanded = expandedFacets.has(field);
    const shown = expanded ? values : values.slice(0, FACET_VALUES_SHOWN);
    const id = `facet-${field}`;
    groups.push(h('section', { class: 'facet', 'aria-labelledby': id },
      h('h2', { id }, field.replace(/_/g, ' ')),
      h('ul', {}, shown.map(([value, count]) => facetButton(value, count,
        isFiltered(state, field, value), () => toggleFilter(field, value), field))),
      values.length > FACET_VALUES_SHOWN ? h('button', {
        type: 'button', class: 'linklike more', 'aria-expanded': expanded ? 'true' : 'false',
        onclick: () => {
          if (expanded) expandedFacets.delete(field); else expandedFacets.add(field);
          if (lastResult) renderFilters(getState(), lastFacets);
        },
      }, expanded ? 'Show fewer' : `Show all ${values.length}`) : null));
  }
  fill(els.filters, groups.length ? groups : null);
  els.filters.hidden = groups.length === 0;
}

function renderChips(state) {
  const chips = [];
  for (const source of state.sources) {
    chips.push(chip(`source: ${source}`, () => toggleSource(source)));
  }
  for (const [field, value] of state.filters) {
    chips.push(chip(`${field}: ${value}`, () => toggleFilter(field, value)));
  }
  if (chips.length > 1) {
    chips.push(h('button', {
      type: 'button', class: 'linklike clear',
      onclick: () => setState({ filters: [], sources: [], page: 1, record: null }, { push: true }),
    }, 'Clear all'));
  }
  fill(els.chips, chips);
}

function chip(label, onremove) {
  return h('span', { class: 'chip' }, label, h('button', {
    type: 'button', class: 'chip-remove', 'aria-label': `Remove filter ${label}`, onclick: onremove,
  }, '×'));
}

function renderPager(state, result) {
  const pages = Math.min(Math.ceil(result.total / PER_PAGE), Math.floor(100000 / PER_PAGE));
  els.pager.hidden = pages <= 1 && state.page <= 1;
  if (els.pager.hidden) return;
  const link = (page, label, attrs = {}) => h('a', {
    href: urlFor({ ...state, page, record: null }), ...attrs,
    onclick: (e) => { follow(e, { page }); els.input.scrollIntoView?.({ block: 'nearest' }); },
  }, label);
  const items = [];
  items.push(state.page > 1 ? link(state.page - 1, '← Previous', { rel: 'prev' })
    : h('span', { class: 'disabled', 'aria-hidden': 'true' }, '← Previous'));
  const first = Math.max(1, state.page - 2);
  const last = Math.min(pages, state.page + 2);
  for (let page = first; page <= last; page++) {
    items.push(page === state.page
      ? h('span', { class: 'current', 'aria-current': 'page' }, String(page))
      : link(page, String(page), { 'aria-label': `Page ${page}` }));
  }
  items.push(state.page < pages ? link(state.page + 1, 'Next →', { rel: 'next' })
    : h('span', { class: 'disabled', 'aria-hidden': 'true' }, 'Next →'));
  fill(els.pager, items, h('span', { class: 'of' }, `of ${formatNumber(pages)}`));
}

// Moves the focus through the results: delta +1/-1, or 0 for the first.
export function moveThroughHits(delta) {
  const links = [...els.hits.querySelectorAll('.hit-link')];
  if (!links.length) return false;
  const at = links.indexOf(document.activeElement);
  let next = at < 0 ? (delta < 0 ? links.length - 1 : 0) : at + delta;
  if (next < 0) {
    els.input.focus();
    return true;
  }
  next = Math.min(next, links.length - 1);
  links[next].focus();
  links[next].scrollIntoView({ block: 'nearest' });
  return true;
}

// Toggles the selection of the result that has the focus.
export function toggleFocusedHit() {
  const li = document.activeElement?.closest?.('.hit');
  const box = li?.querySelector('input.select');
  if (!box) return false;
  box.click();
  return true;
}

export function setupSearch() {
  els.input.value = getState().q;
  // The first keystroke of a burst of typing adds a history entry, the others replace it, so
  // back returns to the search before, not to every prefix typed.
  let typing = false;
  els.input.addEventListener('input', () => {
    setState({ view: 'search', q: els.input.value, page: 1, record: null }, { push: !typing });
    typing = true;
  });
  els.input.addEventListener('blur', () => { typing = false; });
  document.getElementById('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    typing = false;
    setState({ view: 'search', q: els.input.value, page: 1, record: null });
    scheduleSearch();
  });
  els.sort.addEventListener('change', () => {
    setState({ sort: els.sort.value, page: 1, record: null }, { push: true });
  });
}

// Whether the search part of two states differs (the record and view do not count).
export function searchChanged(a, b) {
  const key = (s) => urlFor({ ...emptySearch(), ...s, view: 'search', record: null });
  return key(a) !== key(b);
}

export function syncInput(state) {
  if (els.input.value !== state.q) els.input.value = state.q;
  if (els.sort.value !== state.sort) {
    if (![...els.sort.options].some((o) => o.value === state.sort)) renderSortOptions();
    els.sort.value = state.sort;
  }
}
