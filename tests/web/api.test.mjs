// The UI's REST helpers, without a browser: how answers become messages and paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, listOf, recordPath } from '../../web/static/js/api.js';

test('a problem reads as its detail and each field error as pointer and reason', () => {
  const problem = {
    type: 'about:blank', title: 'Unprocessable Content', status: 422, detail: 'invalid source',
    errors: [
      { pointer: '/name', reason: 'must be 1-64 characters' },
      { pointer: '', reason: 'YAML aliases are not accepted' },
    ],
  };
  assert.equal(describe(422, problem),
    'invalid source: /name must be 1-64 characters; YAML aliases are not accepted');
});

test('without a body the status is named, and 401 and 403 say what to do', () => {
  assert.equal(describe(502, null), 'The server answered 502');
  assert.match(describe(401, { detail: 'no key' }), /^no key — enter an API key under Admin\.$/);
  assert.match(describe(403, { title: 'Forbidden' }), /stronger role/);
});

test('record paths escape their parts, and lists come bare or named', () => {
  assert.equal(recordPath('a/b', 'x y?'), '/api/v1/records/a%2Fb/x%20y%3F');
  assert.deepEqual(listOf({ sources: [1, 2] }, 'sources'), [1, 2]);
  assert.deepEqual(listOf([3], 'sources'), [3]);
  assert.deepEqual(listOf({ other: [] }, 'sources'), []);
});
