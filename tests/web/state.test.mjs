// The UI's URL state, without a browser: what a URL means and which URL a state gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';

// state.js reads the page's location and listens for popstate when it loads.
globalThis.location = { search: '', pathname: '/' };
globalThis.window = { addEventListener() {} };
const { readState, urlFor } = await import('../../web/static/js/state.js');

test('a search URL reads back as query, sources, filters, sort, page and record', () => {
  const state = readState('?q=pasta&source=recipes,notes&filter.state=open&filter.state=open' +
    '&filter.team=web&sort=-updated&page=2&record=notes:17:b');
  assert.equal(state.view, 'search');
  assert.equal(state.q, 'pasta');
  assert.deepEqual(state.sources, ['recipes', 'notes']);
  assert.deepEqual(state.filters, [['state', 'open'], ['team', 'web']]);  // a repeat adds nothing
  assert.equal(state.sort, '-updated');
  assert.equal(state.page, 2);
  assert.deepEqual(state.record, { source: 'notes', id: '17:b' });
});

test('nonsense pages are page 1, and a state writes only what is not default', () => {
  assert.equal(readState('?page=-3').page, 1);
  assert.equal(readState('?page=abc').page, 1);
  assert.equal(urlFor(readState('')), '/');
  const url = '/?q=a+b&source=x&filter.k=v&sort=title&page=3&record=x%3A1';
  assert.equal(urlFor(readState(url.slice(1))), url);
});

test('admin views keep their tab and filters, not the search', () => {
  const state = readState('?view=admin&tab=runs&source=tickets&q=ignored');
  assert.equal(state.view, 'admin');
  assert.deepEqual(state.admin, { source: 'tickets' });
  assert.equal(urlFor(state), '/?view=admin&tab=runs&source=tickets');
});
