// Entry point: wires the views to the URL state and the keyboard.
//   /          focus the search box          ↑ ↓   move through the results
//   Enter      open the focused result       x     select it for forwarding
//   Esc        close the record or dialog    g a / g s   go to admin / search
import { renderAdmin } from './js/admin.js';
import { closeRecord, openRecord, recordOpen } from './js/record.js';
import {
  loadCatalog, moveThroughHits, scheduleSearch, searchChanged, setupSearch, syncInput,
  toggleFocusedHit,
} from './js/search.js';
import { getState, onStateChange, setState } from './js/state.js';

const searchView = document.getElementById('search-view');
const adminView = document.getElementById('admin-view');
const input = document.getElementById('q');
let recordPushed = false;  // the open record has a history entry of its own: close = back
let lastAdminUrl = null;   // the admin URL last rendered (its tab and filters)

function showView(state) {
  const admin = state.view === 'admin';
  searchView.hidden = admin;
  adminView.hidden = !admin;
  for (const [id, active] of [['nav-search', !admin], ['nav-admin', admin]]) {
    const link = document.getElementById(id);
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = admin ? 'Admin · Octohub' : state.q ? `${state.q} · Octohub` : 'Octohub';
}

function showRecord(state, pushed) {
  if (state.record) {
    recordPushed = pushed;
    openRecord(state.record.source, state.record.id, () => {
      if (!getState().record) return;  // closed by navigation
      if (recordPushed) history.back();
      else setState({ record: null });
    });
  } else if (recordOpen()) {
    closeRecord();
  }
}

onStateChange((state, previous, { push }) => {
  showView(state);
  syncInput(state);
  if (state.view === 'admin') {
    if (location.search !== lastAdminUrl) {
      lastAdminUrl = location.search;
      renderAdmin();
    }
    closeRecord();
    return;
  }
  lastAdminUrl = null;
  if (searchChanged(state, previous) || previous.view === 'admin') {
    const typing = state.q !== previous.q && state.page === previous.page
      && state.sort === previous.sort && previous.view !== 'admin';
    scheduleSearch({ debounce: typing, refreshCatalog: previous.view === 'admin' });
  }
  const recordKey = (s) => (s.record ? `${s.record.source}\u0000${s.record.id}` : '');
  if (recordKey(state) !== recordKey(previous)) {
    // Opened from the results with a history entry of its own: closing goes back to it.
    showRecord(state, push && !previous.record);
  }
});

window.addEventListener('octohub:key', () => {
  loadCatalog().then(() => {
    if (getState().view === 'search') scheduleSearch();
  });
});

function typingInField(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

let pendingG = false;
document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  const inField = typingInField(event.target);
  const inDialog = event.target instanceof Element && event.target.closest('dialog');
  if (event.key === '/' && !inField && !inDialog) {
    event.preventDefault();
    if (getState().view !== 'search') setState({ view: 'search' }, { push: true });
    input.focus();
    input.select();
    return;
  }
  if (inDialog || getState().view !== 'search') {
    if (!inField && !inDialog) handleG(event);
    return;
  }
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    if (inField && event.target !== input) return;
    if (moveThroughHits(event.key === 'ArrowDown' ? (event.target === input ? 0 : 1) : -1)) {
      event.preventDefault();
    }
    return;
  }
  if (event.key === 'Escape' && event.target === input && input.value) {
    input.value = '';
    input.dispatchEvent(new Event('input'));
    return;
  }
  if (!inField && event.key === 'x' && toggleFocusedHit()) {
    event.preventDefault();
    return;
  }
  if (!inField) handleG(event);
});

function handleG(event) {
  if (event.key === 'g') {
    pendingG = true;
    setTimeout(() => { pendingG = false; }, 1000);
    return;
  }
  if (pendingG && (event.key === 'a' || event.key === 's')) {
    pendingG = false;
    setState({ view: event.key === 'a' ? 'admin' : 'search', record: null }, { push: true });
  }
}

// Navigation links inside the app stay in the page.
for (const [id, view] of [['nav-search', 'search'], ['nav-admin', 'admin']]) {
  document.getElementById(id).addEventListener('click', (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    setState({ view, record: null }, { push: true });
  });
}

setupSearch();
const initial = getState();
showView(initial);
if (initial.view === 'admin') {
  lastAdminUrl = location.search;
  renderAdmin();
}
await loadCatalog();
if (getState().view === 'search') scheduleSearch();
if (initial.record) showRecord(initial, false);
if (initial.view === 'search' && !initial.record) input.focus();
