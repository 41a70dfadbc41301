// The web UI in headless Chromium against a real `octohub serve` harvesting a local source API:
// search as you type, facets, chips, history, record view, keyboard, admin (key, run now, run
// history), error and empty states, accessibility (axe-core) and screenshots (light, dark,
// phone). Run: node tests/e2e/browser/ui_test.mjs --binary build/hub/octohub --artifacts DIR
import fs from 'node:fs';
import {
  launchBrowser, parseArgs, runScenarios, startOctohub, startSourceApi, startTargetApi,
} from './harness.mjs';

const STATES = ['open', 'closed', 'stale'];
const TEAMS = ['search', 'ingest', 'web', 'ops'];
const WORDS = ['pasta', 'oven', 'ladder', 'compass', 'lantern', 'harbor', 'violin', 'meadow'];

// 60 tickets; every seventh mentions a xylophone. 12 notes in a second source.
function tickets() {
  return Array.from({ length: 60 }, (_, i) => {
    const id = i + 1;
    return {
      id,
      title: `Ticket ${id}: ${WORDS[id % WORDS.length]} ${WORDS[(id * 3) % WORDS.length]}`,
      body: id % 7 === 0
        ? `The xylophone in room ${id} is out of tune <script>alert(1)</script> & needs care.`
        : `A routine report about the ${WORDS[id % WORDS.length]} and the ${WORDS[(id + 2) % WORDS.length]}.`,
      state: STATES[id % 3],
      team: TEAMS[id % 4],
      comments: (id * 7) % 50,
      updated_at: `2024-0${1 + (id % 9)}-${String(1 + (id % 28)).padStart(2, '0')}T10:00:00Z`,
      nested: { labels: [{ name: 'bug' }, { name: `p${id % 3}` }], reporter: { login: `user${id % 5}` } },
    };
  });
}

function notes() {
  return Array.from({ length: 12 }, (_, i) => ({
    id: `n-${i + 1}`, title: `Note ${i + 1} about a ${WORDS[i % WORDS.length]}`,
    body: i === 3 ? 'Remember the xylophone recital.' : 'Just a note.', kind: i % 2 ? 'idea' : 'todo',
  }));
}

const XYLOPHONE_TICKETS = tickets().filter((t) => t.body.includes('xylophone'));
const args = parseArgs(process.argv);

async function setup() {
  const sourceApi = await startSourceApi({ '/tickets': tickets(), '/notes': notes() });
  const targetApi = await startTargetApi();
  const hub = await startOctohub(args.binary);
  const paging = { type: 'page', param: 'page', size_param: 'per_page', size: 25 };
  await hub.api('POST', '/api/v1/sources', {
    name: 'tickets', url: sourceApi.url('/tickets'), records: '/items', id: '/id', pagination: paging,
    index: {
      title: '/title', text: ['/body', '/nested/labels/*/name'],
      facets: { state: '/state', team: '/team' },
      dates: { updated: '/updated_at' }, numbers: { comments: '/comments' },
    },
  });
  await hub.api('POST', '/api/v1/sources', {
    name: 'notes', url: sourceApi.url('/notes'), records: '/items', id: '/id', pagination: paging,
    index: { title: '/title', text: ['/body'], facets: { kind: '/kind' } },
  });
  const browser = await launchBrowser(args.chromium);
  const page = browser.context.pages()[0] || await browser.context.newPage();
  // Every Content-Security-Policy violation of every page loaded, whatever logs it.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const seen = JSON.parse(sessionStorage.getItem('csp-violations') || '[]');
      seen.push(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`);
      sessionStorage.setItem('csp-violations', JSON.stringify(seen));
    });
  });
  const consoleErrors = [];
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  page.on('console', (msg) => {
    // The 401 and 400 answers the scenarios provoke are logged by Chromium itself; anything
    // else on the console is the UI's own error.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      consoleErrors.push(msg.text());
    }
  });
  return {
    page, hub, sourceApi, targetApi, consoleErrors,
    url: (p) => hub.url(p),
    async teardown() {
      await browser.close();
      await hub.stop();
      await sourceApi.close();
      await targetApi.close();
    },
  };
}

// The search API as the test's own oracle.
async function apiSearch(t, query) {
  return t.hub.api('GET', `/api/v1/search?${query}`);
}

// RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const text = (t, selector) => t.page.locator(selector).first().textContent();
const hitTitles = (t) => t.page.locator('.hit-link').allTextContents();

const scenarios = [
  ['without a key the search explains how to get one', async (t) => {
    await t.page.goto(t.url('/'));
    const error = t.page.locator('#search-message .message.error');
    await error.waitFor();
    t.expect((await error.textContent()).includes('API key'), 'the 401 detail and a hint to enter a key');
  }],

  ['admin: log in with the printed admin key, run sources now, see the runs', async (t) => {
    if (!t.page.url().startsWith(t.url('/'))) await t.page.goto(t.url('/'));
    await t.page.click('#nav-admin');
    await t.page.locator('#api-key').waitFor();
    await t.axe('admin key form');
    await t.page.fill('#api-key', t.hub.adminKey);
    await t.page.click('.key-form button[type=submit]');
    const row = t.page.locator('tr[data-source="tickets"]');
    await row.waitFor();
    t.expect((await row.textContent()).includes('never'), 'no run yet');
    await t.page.click('tr[data-source="tickets"] button.run-now');
    await t.page.locator('#run-notice .message.ok').waitFor();
    await t.page.click('tr[data-source="notes"] button.run-now');
    await t.eventually(async () => (await row.locator('.status').textContent()) === 'succeeded',
      'the tickets run to succeed (the sources view refreshes itself)');
    t.expect((await row.locator('td.num').textContent()).trim() === '60', '60 records in the listing');
    await t.page.click('tr[data-source="tickets"] th a');
    const run = t.page.locator('#admin-panel tr[data-run]').first();
    await run.waitFor();
    const cells = await run.locator('td').allTextContents();
    t.expect(cells[1] === 'succeeded' && cells[2] === 'manual' && cells[7] === '60',
      `a manual run with 60 new records: ${cells}`);
    t.expect(new URL(t.page.url()).searchParams.get('source') === 'tickets', 'the runs tab in the URL');
    await t.shot('admin-runs');
    await t.axe('admin runs');
    await t.page.click('#tab-sources');
    await t.eventually(async () => (await t.page.locator('tr[data-source="notes"] .status').textContent()) === 'succeeded',
      'the notes run to succeed');
    await t.shot('admin-sources');
    await t.axe('admin sources');
    await t.page.click('#tab-export');
    await t.page.locator('#export-source option[value="notes"]').waitFor({ state: 'attached' });
    await t.axe('admin export form');
    await t.page.click('#tab-sources');
    await t.page.locator('tr[data-source="tickets"]').waitFor();
    // Both sources indexed before the search scenarios start.
    await t.eventually(async () => (await apiSearch(t, 'q=')).total === 72, 'all 72 records indexed');
  }],

  ['typing a query shows highlighted hits, total and time, and puts the query in the URL', async (t) => {
    await t.page.click('#nav-search');
    await t.page.click('#q');
    await t.page.keyboard.type('xyloph', { delay: 40 });
    await t.eventually(async () => (await hitTitles(t)).length === XYLOPHONE_TICKETS.length + 1,
      'every xylophone record as a hit');
    const marks = await t.page.locator('.hit .snippet mark').allTextContents();
    t.expect(marks.length >= XYLOPHONE_TICKETS.length && marks.every((m) => /^xylophone$/i.test(m)),
      `highlighted words: ${marks}`);
    // The body's markup arrives escaped and stays text.
    t.expect(await t.page.locator('.hit .snippet script').count() === 0, 'no markup from the data');
    const snippet = await t.page.locator('.hit .snippet').first().textContent();
    t.expect(snippet.includes('<script>') || !snippet.includes('script'), `snippet text kept literally: ${snippet}`);
    const sourceCount = (name) => t.page.locator(`button.facet-value[data-facet="source"][data-value="${name}"] .count`).textContent();
    await t.eventually(async () => (await sourceCount('tickets')) === '8' && (await sourceCount('notes')) === '1',
      'the sources counted for this query');
    const summary = await text(t, '#summary');
    t.expect(/\b9 results · \d+\.\d ms/.test(summary), `total and time: ${summary}`);
    t.expect(new URL(t.page.url()).searchParams.get('q') === 'xyloph', 'q in the URL');
    await t.shot('search-light');
    await t.axe('search results');
  }],

  ['facets narrow with exact counts, chips remove them, back and forward replay them', async (t) => {
    await t.page.goto(t.url('/?source=tickets'));
    const open = t.page.locator('button.facet-value[data-facet="state"][data-value="open"]');
    await open.waitFor();
    const openCount = Number(await open.locator('.count').textContent());
    t.expect(openCount === 20, `20 open tickets: ${openCount}`);
    const teamCounts = async () => (await t.page.locator('button.facet-value[data-facet="team"] .count')
      .allTextContents()).map(Number);
    t.expect((await teamCounts()).reduce((a, b) => a + b, 0) === 60, 'team counts over all 60 tickets');
    await open.click();
    await t.page.locator('.chip', { hasText: 'state: open' }).waitFor();
    await t.eventually(async () => (await teamCounts()).reduce((a, b) => a + b, 0) === 20,
      'team counts narrowed to the open tickets');
    t.expect((await open.getAttribute('aria-pressed')) === 'true', 'the value shows as chosen');
    t.expect((await text(t, '#summary')).startsWith('20 results'), 'the total narrowed');
    t.expect(new URL(t.page.url()).searchParams.get('filter.state') === 'open', 'the filter in the URL');
    // The other values of the chosen field stay offered with their own counts; choosing one
    // as well matches either.
    const closed = t.page.locator('button.facet-value[data-facet="state"][data-value="closed"]');
    await t.eventually(async () => (await closed.locator('.count').textContent()) === '20', 'closed still offered');
    await closed.click();
    await t.page.locator('.chip', { hasText: 'state: closed' }).waitFor();
    t.expect(await t.page.locator('.chip', { hasText: 'state: open' }).count() === 1, 'open kept');
    await t.eventually(async () => (await text(t, '#summary')).startsWith('40 results'),
      'open or closed: 40 tickets');
    t.expect(JSON.stringify(new URL(t.page.url()).searchParams.getAll('filter.state')) ===
      JSON.stringify(['open', 'closed']), 'both values in the URL');
    await t.eventually(async () => (await teamCounts()).reduce((a, b) => a + b, 0) === 40,
      'team counts over the open and closed tickets');
    await t.page.goBack();
    await t.page.locator('.chip', { hasText: 'state: closed' }).waitFor({ state: 'detached' });
    await t.page.locator('.chip', { hasText: 'state: open' }).waitFor();
    await t.eventually(async () => (await text(t, '#summary')).startsWith('20 results'), 'open again after back');
    await t.page.locator('button.facet-value[data-facet="team"]').first().click();
    await t.eventually(async () => (await t.page.locator('.chip').count()) === 3, 'three chips');
    await t.page.click('button[aria-label="Remove filter state: open"]');
    await t.eventually(async () => (await t.page.locator('.chip', { hasText: 'state: open' }).count()) === 0,
      'the state chip removed');
    await t.page.goBack();
    await t.page.locator('.chip', { hasText: 'state: open' }).waitFor();
    await t.page.goForward();
    await t.eventually(async () => (await t.page.locator('.chip', { hasText: 'state: open' }).count()) === 0,
      'forward removes it again');
    await t.page.click('.chips button.clear');
    await t.eventually(async () => (await t.page.locator('.chip').count()) === 0, 'clear all');
    await t.eventually(async () => (await text(t, '#summary')).startsWith('72 results'), 'every record again');
  }],

  ['a bookmarked URL restores query, filters and sort', async (t) => {
    await t.page.goto(t.url('/?q=xylophone&filter.state=open&sort=-comments'));
    await t.page.locator('.chip', { hasText: 'state: open' }).waitFor();
    t.expect((await t.page.inputValue('#q')) === 'xylophone', 'the query in the box');
    t.expect((await t.page.inputValue('#sort')) === '-comments', 'the sort chosen');
    const expected = await apiSearch(t, 'q=xylophone&filter.state=open&sort=-comments');
    await t.eventually(async () => JSON.stringify(await hitTitles(t)) === JSON.stringify(expected.hits.map((h) => h.title)),
      'the same hits in the same order as the API');
  }],

  ['sort and paging', async (t) => {
    await t.page.goto(t.url('/?source=tickets'));
    await t.page.locator('.hit-link').first().waitFor();
    await t.page.selectOption('#sort', '-comments');
    const expected = await apiSearch(t, 'source=tickets&sort=-comments');
    await t.eventually(async () => (await hitTitles(t))[0] === expected.hits[0].title, 'the most commented first');
    t.expect(new URL(t.page.url()).searchParams.get('sort') === '-comments', 'sort in the URL');
    await t.page.click('.pager a[rel="next"]');
    await t.page.locator('.pager .current', { hasText: '2' }).waitFor();
    const second = await apiSearch(t, 'source=tickets&sort=-comments&page=2');
    await t.eventually(async () => (await hitTitles(t))[0] === second.hits[0].title, 'page 2 of the same order');
    t.expect(new URL(t.page.url()).searchParams.get('page') === '2', 'page in the URL');
  }],

  ['a record opens with its fields and collapsible JSON, a raw link and copy buttons; Esc closes', async (t) => {
    await t.page.goto(t.url('/?q=xylophone&source=tickets'));
    const first = t.page.locator('.hit-link').first();
    const title = await first.textContent();
    await first.click();
    const dialog = t.page.locator('#record-dialog[open]');
    await dialog.locator('.json-tree').waitFor();
    t.expect((await text(t, '#record-title')) === title, 'the title of the clicked hit');
    const id = new URL(t.page.url()).searchParams.get('record');
    t.expect(/^tickets:\d+$/.test(id), `the record in the URL: ${id}`);
    const raw = await dialog.locator('a', { hasText: 'Raw JSON' }).getAttribute('href');
    t.expect(raw === `/api/v1/records/tickets/${id.split(':')[1]}`, `raw link ${raw}`);
    t.expect(await dialog.locator('dt', { hasText: 'team' }).count() === 1, 'the fields listed');
    t.expect(await dialog.locator('.j-key', { hasText: '"reporter"' }).count() === 1, 'nested JSON shown');
    t.expect(await dialog.locator('.copy', { hasText: 'Copy JSON' }).count() === 1, 'a copy button');
    await dialog.locator('button', { hasText: 'Collapse all' }).click();
    t.expect(await dialog.locator('details[open]').count() === 0, 'collapsed');
    await dialog.locator('button', { hasText: 'Expand all' }).click();
    t.expect(await dialog.locator('details:not([open])').count() === 0, 'expanded');
    await t.shot('record');
    await t.axe('record view');
    await t.page.keyboard.press('Escape');
    await t.eventually(async () => (await t.page.locator('#record-dialog[open]').count()) === 0, 'the dialog closed');
    await t.eventually(() => !new URL(t.page.url()).searchParams.has('record'), 'the record gone from the URL');
    // A shared record link opens it directly.
    await t.page.goto(t.url(`/?record=${encodeURIComponent(id)}`));
    await t.page.locator('#record-dialog[open] .json-tree').waitFor();
  }],

  ['keyboard: / focuses the search, arrows move, x selects, Enter opens, Esc closes', async (t) => {
    await t.page.goto(t.url('/?q=ticket&source=tickets'));
    await t.page.locator('.hit-link').first().waitFor();
    await t.page.locator('#summary').click();
    await t.page.keyboard.press('/');
    t.expect(await t.page.evaluate(() => document.activeElement.id) === 'q', 'the search box focused');
    await t.page.keyboard.press('ArrowDown');
    await t.page.keyboard.press('ArrowDown');
    await t.page.keyboard.press('ArrowUp');
    await t.page.keyboard.press('ArrowDown');
    const titles = await hitTitles(t);
    const focused = () => t.page.evaluate(() => document.activeElement.textContent);
    t.expect(await focused() === titles[1], `the second hit focused: ${await focused()}`);
    await t.page.keyboard.press('x');
    await t.page.locator('.selected-count', { hasText: '1 selected' }).waitFor();
    await t.page.keyboard.press('Enter');
    await t.page.locator('#record-dialog[open] .json-tree').waitFor();
    t.expect((await text(t, '#record-title')) === titles[1], 'Enter opened the focused hit');
    await t.page.keyboard.press('Escape');
    await t.eventually(async () => (await t.page.locator('#record-dialog[open]').count()) === 0, 'closed');
    await t.eventually(() => !new URL(t.page.url()).searchParams.has('record'), 'back to the results URL');
    t.expect(await focused() === titles[1], 'the focus back on the hit');
  }],

  ['spelling suggestion, empty state and error messages', async (t) => {
    await t.page.goto(t.url('/?q=xylofone%20tune'));
    const suggestion = t.page.locator('.suggestion a');
    await suggestion.waitFor();
    t.expect((await suggestion.textContent()).includes('xylophone'), 'the corrected query offered');
    await suggestion.click();
    await t.eventually(async () => (await t.page.inputValue('#q')).startsWith('xylophone'), 'the suggestion taken');
    await t.page.locator('.hit-link').first().waitFor();
    await t.page.fill('#q', 'qwertyuiop');
    await t.page.locator('.empty h2', { hasText: 'No records match' }).waitFor();
    await t.page.goto(t.url('/?sort=-nosuchfield'));
    const error = t.page.locator('#search-message .message.error');
    await error.waitFor();
    t.expect((await error.textContent()).includes('nosuchfield'), 'the problem detail shown');
  }],

  ['typo matches are shown as such, and a query being typed keeps the last results', async (t) => {
    // "xylophne": one letter off, so its records come as typo matches.
    await t.page.goto(t.url('/?q=xylophne'));
    const shown = t.page.locator('.suggestion', { hasText: 'Showing results for' });
    await shown.waitFor();
    t.expect((await shown.textContent()).includes('xylophone'), 'the word matched named');
    t.expect((await t.page.locator('.hit-link').count()) === XYLOPHONE_TICKETS.length + 1,
      'every xylophone record found through the typo');
    await t.page.fill('#q', 'xylophone');
    await t.eventually(async () => (await t.page.locator('.suggestion').count()) === 0,
      'no suggestion once the word is right');
    const before = await t.page.locator('.hit-link').count();
    // Half a query: the parser cannot read it yet; the results stay, with a quiet hint.
    await t.page.fill('#q', 'xylophone AND');
    await t.page.locator('#search-message .unfinished').waitFor();
    t.expect((await t.page.locator('#search-message .message.error').count()) === 0,
      'no error while typing');
    t.expect((await t.page.locator('.hit-link').count()) === before, 'the last results kept');
    await t.page.fill('#q', 'xylophone AND tune');
    await t.eventually(async () => (await t.page.locator('#search-message .unfinished').count()) === 0,
      'the hint gone once the query reads');
  }],

  ['admin: the searches tab shows what was searched and what found nothing', async (t) => {
    // The scenarios before searched for xylophone, and for qwertyuiop, which finds nothing.
    await t.page.goto(t.url('/?view=admin&tab=searches'));
    const table = (heading) => t.page.locator(`#admin-panel h2:has-text("${heading}") + *`);
    // The log is written once a second: the tab is opened again until both have come.
    await t.eventually(async () => {
      await t.page.click('#tab-searches');
      await t.page.locator('#admin-panel h2').first().waitFor();
      return (await table('Most searched').textContent()).includes('xylophone') &&
        (await table('Found nothing').textContent()).includes('qwertyuiop');
    }, 'xylophone among the searches, and qwertyuiop among those that found nothing');
    const days = await table('By day').locator('tbody tr').count();
    t.expect(days === 1, `one day of searches: ${days}`);
    await t.shot('admin-searches');
    await t.axe('admin searches');
  }],

  ['dark and phone layouts pass the accessibility scan', async (t) => {
    await t.page.emulateMedia({ colorScheme: 'dark' });
    await t.page.goto(t.url('/?q=xylophone'));
    await t.page.locator('.hit .snippet mark').first().waitFor();
    await t.shot('search-dark');
    await t.axe('search results, dark');
    await t.page.locator('.hit-link').first().click();
    await t.page.locator('#record-dialog[open] .json-tree').waitFor();
    await t.shot('record-dark');
    await t.page.keyboard.press('Escape');
    // Closing goes back in history; let that land before navigating again.
    await t.eventually(() => !new URL(t.page.url()).searchParams.has('record'), 'the record closed');
    await t.page.setViewportSize({ width: 390, height: 844 });
    await t.page.emulateMedia({ colorScheme: 'light' });
    await t.page.goto(t.url('/?q=xylophone'));
    await t.page.locator('.hit .snippet mark').first().waitFor();
    const overflow = await t.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    t.expect(!overflow, 'no horizontal scrolling at phone width');
    await t.shot('search-phone', { fullPage: true });
    await t.axe('search results, phone');
    await t.page.goto(t.url('/?view=admin'));
    await t.page.locator('tr[data-source="tickets"]').waitFor();
    await t.shot('admin-phone');
    await t.axe('admin sources, phone');
    await t.page.setViewportSize({ width: 1280, height: 860 });
  }],

  ['an answer to an older query never replaces a newer one', async (t) => {
    await t.page.goto(t.url('/'));
    await t.page.locator('.hit-link').first().waitFor();
    // Hold every answer for "lantern" back until after the "xylophone" one has been shown.
    let release;
    const held = new Promise((r) => { release = r; });
    await t.page.route(/\/api\/v1\/search\?.*q=lantern/, async (route) => {
      await held;
      await route.continue().catch(() => {});  // the UI may have aborted it meanwhile
    });
    await t.page.fill('#q', 'lantern');
    await t.page.waitForTimeout(400);  // past the debounce: the "lantern" request is out
    await t.page.fill('#q', 'xylophone');
    await t.eventually(async () => (await hitTitles(t)).length === XYLOPHONE_TICKETS.length + 1, 'xylophone hits');
    release();
    await t.page.waitForTimeout(500);
    const titles = await hitTitles(t);
    t.expect(titles.length === XYLOPHONE_TICKETS.length + 1 && !titles.some((x) => x.includes('Ticket 4:')),
      `still the xylophone hits: ${titles}`);
    await t.page.unroute(/\/api\/v1\/search\?.*q=lantern/);
  }],

  ['snippets can only ever yield <mark> elements; URL state round-trips', async (t) => {
    const result = await t.page.evaluate(async () => {
      const dom = await import('/js/dom.js');
      const state = await import('/js/state.js');
      const box = document.createElement('div');
      box.append(dom.safeSnippet('a &lt;b&gt; <mark>x&amp;y</mark> <img src=x onerror=alert(1)> <mark>z</mark>'));
      const url = '/?q=a+b&source=notes,tickets&filter.state=open&filter.team=web&sort=-updated&page=3&record=tickets:7';
      return {
        tags: [...box.querySelectorAll('*')].map((e) => e.tagName),
        text: box.textContent,
        roundTrip: state.urlFor(state.readState(url.slice(1))),
        url,
      };
    });
    t.expect(JSON.stringify(result.tags) === '["MARK","MARK"]', `only marks: ${result.tags}`);
    t.expect(result.text === 'a <b> x&y <img src=x onerror=alert(1)> z', `text kept: ${result.text}`);
    t.expect(decodeURIComponent(result.roundTrip) === decodeURIComponent(result.url),
      `round trip: ${result.roundTrip}`);
  }],

  ['forward two selected records and see them arrive at a local target', async (t) => {
    await t.hub.api('POST', '/api/v1/targets', { name: 'inbox', url: t.targetApi.url('/inbox') });
    await t.page.goto(t.url('/?q=xylophone&source=tickets'));
    await t.page.locator('.hit-link').first().waitFor();
    const boxes = t.page.locator('.hit input.select');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await t.page.locator('.selected-count', { hasText: '2 selected' }).waitFor();
    const chosen = (await t.page.locator('.hit-link').evaluateAll((links) => links.slice(0, 2)
      .map((a) => new URL(a.href).searchParams.get('record').split(':')[1]))).sort();
    await t.page.click('#forward-selected');
    await t.page.locator('#forward-target option[value="inbox"]').waitFor({ state: 'attached' });
    await t.axe('forward dialog');
    await t.page.click('#forward-dialog button[type=submit]');
    await t.page.locator('#forward-dialog .message.ok', { hasText: 'accepted' }).waitFor();
    await t.page.locator('#forward-dialog .delivery-counts', { hasText: '2 sent' }).waitFor();
    await t.shot('forward');
    const ids = t.targetApi.received.filter((r) => r.url === '/inbox').map((r) => String(JSON.parse(r.body).id)).sort();
    t.expect(JSON.stringify(ids) === JSON.stringify(chosen), `the two records arrived: ${ids} vs ${chosen}`);
    await t.page.keyboard.press('Escape');
  }],

  ['forward every record that matches a query with a facet filter', async (t) => {
    const before = t.targetApi.received.length;
    await t.page.goto(t.url('/?q=xyloph&filter.state=open'));  // as typed: a prefix
    await t.page.locator('.chip', { hasText: 'state: open' }).waitFor();
    const expected = (await apiSearch(t, 'q=xyloph&prefix=true&filter.state=open')).hits.map((h) => String(h.id)).sort();
    t.expect(expected.length === 2, `two open xylophone tickets: ${expected}`);
    await t.page.click('#forward-all');
    await t.page.locator('#forward-target option[value="inbox"]').waitFor({ state: 'attached' });
    await t.page.click('#forward-dialog button[type=submit]');
    await t.page.locator('#forward-dialog .delivery-counts', { hasText: `${expected.length} sent` }).waitFor();
    const ids = t.targetApi.received.slice(before).map((r) => String(JSON.parse(r.body).id)).sort();
    t.expect(JSON.stringify(ids) === JSON.stringify(expected), `the matching records arrived: ${ids} vs ${expected}`);
    await t.page.keyboard.press('Escape');
  }],

  ['a dead delivery shows its error in admin and can be retried', async (t) => {
    await t.hub.api('POST', '/api/v1/targets', { name: 'broken', url: t.targetApi.url('/fail'), max_attempts: 1 });
    await t.hub.api('POST', '/api/v1/forwards', { target: 'broken', records: [{ source: 'notes', id: 'n-4' }] });
    await t.page.goto(t.url('/?view=admin&tab=deliveries&target=broken'));
    const row = t.page.locator('#admin-panel tr[data-delivery]').first();
    await t.eventually(async () => {
      await t.page.click('#admin-panel button.refresh');
      return (await row.locator('.status').textContent()) === 'dead';
    }, 'the delivery to be dead').catch(async (error) => {
      const stored = await t.hub.api('GET', '/api/v1/deliveries?target=broken');
      throw new Error(`${error.message}; stored: ${JSON.stringify(stored)}`);
    });
    t.expect((await row.locator('.error-text').textContent()).includes('500'), 'the failure shown');
    await t.axe('admin deliveries');
    await t.shot('admin-deliveries');
    const attempts = t.targetApi.received.filter((r) => r.url === '/fail').length;
    await row.locator('button', { hasText: 'Retry' }).click();
    await t.page.locator('#admin-panel .message.ok', { hasText: 'queued again' }).waitFor();
    await t.eventually(() => t.targetApi.received.filter((r) => r.url === '/fail').length > attempts,
      'the retried delivery sent again');
  }],

  ['a paused target shows why in admin and is resumed with one click', async (t) => {
    await t.hub.api('POST', '/api/v1/targets', {
      name: 'flaky', url: t.targetApi.url('/fail'), retry_schedule: ['50ms'], max_attempts: 100,
      pause_after: '1500ms',
    });
    await t.hub.api('POST', '/api/v1/forwards', { target: 'flaky', records: [{ source: 'notes', id: 'n-4' }] });
    await t.eventually(async () => (await t.hub.api('GET', '/api/v1/targets/flaky')).state === 'paused',
      'the failing target to be paused');
    await t.page.goto(t.url('/?view=admin&tab=targets'));
    const row = t.page.locator('#admin-panel tr[data-target="flaky"]');
    await row.locator('.status', { hasText: 'paused' }).waitFor();
    t.expect((await row.textContent()).includes('every delivery failed for 1500ms'), 'why it was paused');
    await t.axe('admin targets');
    await t.shot('admin-targets');
    await row.locator('button', { hasText: 'Resume' }).click();
    await t.page.locator('#admin-panel .message.ok', { hasText: 'resumed' }).waitFor();
    const state = (await t.hub.api('GET', '/api/v1/targets/flaky')).state;
    t.expect(state !== 'paused', `the target resumed (it is ${state})`);
  }],

  ['export downloads the matching records as CSV and NDJSON with the admin key', async (t) => {
    await t.page.goto(t.url('/?view=admin&tab=export'));
    await t.page.locator('#export-source option[value="tickets"]').waitFor({ state: 'attached' });
    const download = async (format) => {
      await t.page.selectOption('#export-format', format);
      await t.page.selectOption('#export-source', 'tickets');
      await t.page.fill('#export-q', 'xylophone');
      const [file] = await Promise.all([t.page.waitForEvent('download'), t.page.click('#export-download')]);
      await t.page.locator('#admin-panel .message.ok', { hasText: 'Downloaded' }).waitFor();
      return fs.readFileSync(await file.path(), 'utf8');
    };
    const rows = parseCsv(await download('csv'));
    t.expect(rows[0].slice(0, 3).join(',') === 'source,id,updated_at', `CSV header: ${rows[0]}`);
    const ids = rows.slice(1).map((r) => r[1]).sort();
    const expected = XYLOPHONE_TICKETS.map((x) => String(x.id)).sort();
    t.expect(JSON.stringify(ids) === JSON.stringify(expected), `CSV rows: ${ids}`);
    const lines = (await download('ndjson')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    t.expect(lines.length === expected.length && lines.every((l) => l.source === 'tickets' && l.data.body.includes('xylophone')),
      'NDJSON lines with the records as fetched');
    await t.shot('admin-export');
  }],

  ['the UI and the API reference work under their Content-Security-Policy, with no violation', async (t) => {
    const answer = await t.page.goto(t.url('/?q=xylophone'));
    const policy = answer.headers()['content-security-policy'] || '';
    t.expect(/script-src 'self'(;|$)/.test(policy) && !policy.includes('unsafe'), `strict policy: ${policy}`);
    t.expect(answer.headers()['x-content-type-options'] === 'nosniff', 'nosniff');
    t.expect(answer.headers()['referrer-policy'] === 'no-referrer', 'no referrer');
    await t.eventually(async () => (await hitTitles(t)).length > 0, 'search works under the policy');
    await t.page.locator('.hit-link').first().click();
    await t.page.locator('#record-dialog[open] .json-tree').waitFor();
    await t.page.keyboard.press('Escape');
    // Closing the record changes the URL: leave only once that is done, or the load is aborted.
    await t.eventually(() => !new URL(t.page.url()).searchParams.has('record'), 'the record closed');
    await t.page.waitForLoadState('networkidle');
    const docs = await t.page.goto(t.url('/docs'));
    t.expect(!/script-src[^;]*unsafe/.test(docs.headers()['content-security-policy'] || ''), 'no inline scripts on /docs');
    await t.page.getByText('Octohub API', { exact: false }).first().waitFor({ timeout: 20000 });
    const violations = await t.page.evaluate(() => sessionStorage.getItem('csp-violations') || '[]');
    t.expect(violations === '[]', `no policy violations: ${violations}`);
  }],

  ['the page logs no script errors', async (t) => {
    t.expect(t.consoleErrors.length === 0, `no errors: ${t.consoleErrors.join('\n')}`);
  }],
];

await runScenarios({ args, setup, scenarios });
