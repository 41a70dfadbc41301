// The page's state lives in the URL so that any search (and any open record) can be
// bookmarked and shared, and back/forward walk through it.
//
//   /?q=pasta&source=recipes,notes&filter.state=open&sort=-updated&page=2&record=notes:17
//   /?view=admin&tab=runs
//
// Filters use the API's own names (filter.FIELD=value, repeatable), so the search query string
// is the URL's minus the UI-only parameters.

const ADMIN_PARAMS = ['source', 'status', 'target', 'dpage'];

export function emptySearch() {
  return { q: '', sources: [], filters: [], sort: 'relevance', page: 1 };
}

export function readState(search = location.search) {
  const params = new URLSearchParams(search);
  const state = emptySearch();
  state.view = params.get('view') === 'admin' ? 'admin' : 'search';
  state.tab = params.get('tab') || 'sources';
  // Admin tabs' own filters (runs of a source, deliveries by status and target).
  state.admin = {};
  for (const name of ADMIN_PARAMS) if (params.get(name)) state.admin[name] = params.get(name);
  state.q = params.get('q') || '';
  state.sources = (params.get('source') || '').split(',').filter(Boolean);
  for (const [name, value] of params) {
    const field = name.slice(7);
    // Repeated values of one field are alternatives; an exact repeat adds nothing.
    if (name.startsWith('filter.') && field &&
        !state.filters.some(([f, v]) => f === field && v === value)) {
      state.filters.push([field, value]);
    }
  }
  state.sort = params.get('sort') || 'relevance';
  const page = Number.parseInt(params.get('page') || '1', 10);
  state.page = Number.isFinite(page) && page >= 1 ? page : 1;
  const record = params.get('record') || '';
  const colon = record.indexOf(':');
  state.record = colon > 0 ? { source: record.slice(0, colon), id: record.slice(colon + 1) } : null;
  return state;
}

// The URL of a state (only non-default parts).
export function urlFor(state) {
  const params = new URLSearchParams();
  if (state.view === 'admin') {
    params.set('view', 'admin');
    if (state.tab && state.tab !== 'sources') params.set('tab', state.tab);
    for (const name of ADMIN_PARAMS) if (state.admin?.[name]) params.set(name, state.admin[name]);
  } else {
    appendSearch(params, state);
    if (state.page > 1) params.set('page', String(state.page));
    if (state.record) params.set('record', `${state.record.source}:${state.record.id}`);
  }
  const text = params.toString();
  return text ? `/?${text}` : '/';
}

// q, source, filter.* and sort, as both the URL and the API take them.
export function appendSearch(params, state) {
  if (state.q) params.set('q', state.q);
  if (state.sources.length) params.set('source', state.sources.join(','));
  for (const [field, value] of state.filters) params.append(`filter.${field}`, value);
  if (state.sort && state.sort !== 'relevance') params.set('sort', state.sort);
  return params;
}

let current = readState();
const listeners = new Set();

export function getState() {
  return current;
}

export function onStateChange(listener) {
  listeners.add(listener);
}

// Moves to a new state. push=true adds a history entry (a new search, opening a record);
// push=false replaces it (typing, so back doesn't step through every keystroke).
export function setState(patch, { push = false } = {}) {
  const next = { ...current, ...patch };
  const url = urlFor(next);
  if (url !== location.pathname + location.search) {
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  }
  const previous = current;
  current = next;
  for (const listener of listeners) listener(current, previous, { push });
}

window.addEventListener('popstate', () => {
  const previous = current;
  current = readState();
  for (const listener of listeners) listener(current, previous, { push: false });
});
