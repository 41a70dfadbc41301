// Asks Octohub and MiniSearch the same questions about the same records and prints how often
// each finds the target where a user would look for it:
//   node compare.mjs RECORDS.json QUERIES.json OCTOHUB_URL
// Octohub gets each query as its web UI sends it while one types
// (GET /api/v1/search?q=…&prefix=true&per_page=10), one at a time over a kept-alive
// connection (Node's fetch keeps connections alive). MiniSearch indexes the records in this
// process. The last number of the last line is Octohub's mean success over the sets divided
// by MiniSearch's.
import { readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';

const [recordsFile, queriesFile, base] = process.argv.slice(2);
if (!base) {
  console.error('usage: node compare.mjs RECORDS.json QUERIES.json OCTOHUB_URL');
  process.exit(2);
}
const records = JSON.parse(readFileSync(recordsFile, 'utf8'));
const sets = JSON.parse(readFileSync(queriesFile, 'utf8'));

// Where the target must be for a query of each set to count as answered.
const WITHIN = { exact: 1, typo: 3, prefix: 10, description: 10 };
const SAID = { 1: 'first hit', 3: 'in the top 3', 10: 'in the top 10' };

const seconds = (since) => ((performance.now() - since) / 1000).toFixed(1);

// The first ten ids Octohub answers, or the refusal when it answers anything but 200.
async function askOctohub(q) {
  const params = new URLSearchParams({ q, prefix: 'true', per_page: '10' });
  const response = await fetch(`${base}/api/v1/search?${params}`);
  const body = await response.text();
  if (response.status !== 200) return { refused: { status: response.status, body } };
  return { ids: JSON.parse(body).hits.map((hit) => hit.id) };
}

// MiniSearch set up for search as you type as its README shows it (minisearch 7.2.0,
// README.md, "Search options": prefix search, fuzzy: 0.2 as the edit distance for
// misspellings, a boost of 2 for the title field, given as default searchOptions), with the
// package name as the title. Its default tokenizer and term processing are kept.
function buildMiniSearch() {
  const engine = new MiniSearch({
    fields: ['name', 'summary', 'description'],
    searchOptions: { prefix: true, fuzzy: 0.2, boost: { name: 2 } },
  });
  engine.addAll(records);
  return engine;
}

const rankOf = (ids, target) => ids.indexOf(target);

const octohub = {};
const minisearch = {};
const refused = [];

let start = performance.now();
for (const [set, queries] of Object.entries(sets)) {
  octohub[set] = [];
  for (const { q, target } of queries) {
    const answer = await askOctohub(q);
    if (answer.refused) refused.push({ set, q, ...answer.refused });
    const ids = answer.ids ?? [];
    octohub[set].push({ q, target, ids, rank: rankOf(ids, target) });
  }
}
const total = Object.values(sets).reduce((n, queries) => n + queries.length, 0);
if (refused.length === total) {
  const { status, body } = refused[0];
  console.error(`octohub refused every query, e.g. ${status}: ${body.slice(0, 300)}`);
  process.exit(1);
}
const octohubSeconds = seconds(start);

start = performance.now();
const engine = buildMiniSearch();
const indexSeconds = seconds(start);
start = performance.now();
for (const [set, queries] of Object.entries(sets)) {
  minisearch[set] = queries.map(({ q, target }) => {
    const ids = engine.search(q).slice(0, 10).map((hit) => hit.id);
    return { q, target, ids, rank: rankOf(ids, target) };
  });
}
const miniSeconds = seconds(start);

const success = (results, set) =>
  results[set].filter((r) => r.rank >= 0 && r.rank < WITHIN[set]).length / results[set].length;
const names = Object.keys(sets);
const mean = (results) => names.reduce((sum, set) => sum + success(results, set), 0) / names.length;
const fixed = (x) => x.toFixed(2);

console.log(`octohub: ${total} queries over HTTP in ${octohubSeconds} s;` +
  ` minisearch: indexed in ${indexSeconds} s,` +
  ` ${total} queries in ${miniSeconds} s`);
console.log();
const row = (...cells) => console.log(
  `${cells[0].padEnd(12)} ${cells[1].padEnd(14)} ${cells[2].padStart(7)}` +
  ` ${cells[3].padStart(8)} ${cells[4].padStart(11)}`);
row('set', 'success if', 'queries', 'octohub', 'minisearch');
for (const set of names) {
  row(set, SAID[WITHIN[set]], String(sets[set].length), fixed(success(octohub, set)),
    fixed(success(minisearch, set)));
}
row('mean', '', '', fixed(mean(octohub)), fixed(mean(minisearch)));

console.log();
console.log('example failures of octohub (query -> target: what came first)');
for (const set of names) {
  const failures = octohub[set].filter((r) => !(r.rank >= 0 && r.rank < WITHIN[set]));
  for (const { q, target, ids, rank } of failures.slice(0, 3)) {
    const where = rank >= 0 ? `target at rank ${rank + 1}` : 'target not in the first 10';
    console.log(`  ${set.padEnd(12)} ${JSON.stringify(q)} -> ${target}: ` +
      `${ids[0] ?? 'nothing'} (${where})`);
  }
}
if (refused.length > 0) {
  console.log();
  console.log(`octohub refused ${refused.length} of ${total} queries (counted as failures):`);
  for (const { set, q, status, body } of refused.slice(0, 10)) {
    console.log(`  ${set.padEnd(12)} ${JSON.stringify(q)}: ${status} ${body.slice(0, 200)}`);
  }
}

const behind = names.filter((set) => success(octohub, set) < success(minisearch, set));
const verdict = (ok) => (ok ? 'met' : 'missed');
console.log();
console.log(`goals: octohub >= minisearch on every set ${verdict(behind.length === 0)}` +
  (behind.length ? ` (behind on ${behind.join(', ')})` : '') +
  `, typo >= 0.9 ${verdict(success(octohub, 'typo') >= 0.9)}` +
  `, exact = 1.0 ${verdict(success(octohub, 'exact') === 1)}`);
console.log(`ratio octohub/minisearch (mean success): ${fixed(mean(octohub) / mean(minisearch))}`);
