// The query sets, drawn from the records with a fixed seed, so every run (and both engines)
// asks the same questions:
//   node queries.mjs RECORDS.json COUNT > queries.json
// Each set is a list of {q, target}; the target is the package the query stands for.
//   exact        the name as it is
//   typo         a name of 5+ characters with one edit: a letter inserted, deleted,
//                replaced, or two adjacent letters swapped, anywhere (the first letter too);
//                never another package's name
//   prefix       the first 60% (rounded up) of a name of 10+ characters
//   description  three words of the summary, in their order: 3+ letters, no stop words
//                (lowercase, as typed)
// Each set draws from a stream of its own and takes its queries in order, so a smaller COUNT
// asks the first COUNT questions of a bigger one.
import { readFileSync } from 'node:fs';

const SEED = 20240613;
const SETS = ['exact', 'typo', 'prefix', 'description'];

// xorshift32 (Marsaglia, 2003): small, fast and good enough to pick samples. A zero state
// would stay zero, hence the `|| 1`.
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

const below = (rand, n) => Math.floor(rand() * n);

// Fisher-Yates on a copy.
function shuffled(rand, items) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = below(rand, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const isLetter = (c) => c >= 'a' && c <= 'z';

// One edit of NAME's letters, or null when the edit drawn cannot apply (e.g. no two adjacent
// letters that differ to swap).
function typo(rand, name) {
  const letterAt = [...name].flatMap((c, i) => (isLetter(c) ? [i] : []));
  if (letterAt.length === 0) return null;
  const randomLetter = () => LETTERS[below(rand, LETTERS.length)];
  switch (below(rand, 4)) {
    case 0: {
      const at = below(rand, name.length + 1);
      return name.slice(0, at) + randomLetter() + name.slice(at);
    }
    case 1: {
      const at = letterAt[below(rand, letterAt.length)];
      return name.slice(0, at) + name.slice(at + 1);
    }
    case 2: {
      const at = letterAt[below(rand, letterAt.length)];
      const letter = randomLetter();
      return letter === name[at] ? null : name.slice(0, at) + letter + name.slice(at + 1);
    }
    default: {
      const pairs = letterAt.filter(
        (i) => isLetter(name[i + 1] ?? '') && name[i] !== name[i + 1]);
      if (pairs.length === 0) return null;
      const at = pairs[below(rand, pairs.length)];
      return name.slice(0, at) + name[at + 1] + name[at] + name.slice(at + 2);
    }
  }
}

const STOP_WORDS = new Set(`
  about above after again all also among and any are because been before being between both
  but can could did does doing down during each few for from further had has have having her
  here hers him his how into its itself just more most nor not now off once only other our
  ours out over own same she should some such than that the their theirs them then there these
  they this those through too under until upon very via was were what when where which while
  who whom why will with within without would you your yours
`.split(/\s+/).filter(Boolean));

// Three words of SUMMARY in their order, or null when it has fewer than three to give. A
// word is all letters: "32bit" or "x11" are not words (and give none).
function describe(rand, summary) {
  const words = summary.toLowerCase().split(/[^\p{L}\p{N}]+/u)
    .filter((w) => /^\p{L}{3,}$/u.test(w) && !STOP_WORDS.has(w));
  if (words.length < 3) return null;
  const picked = shuffled(rand, words.map((_, i) => i)).slice(0, 3).sort((a, b) => a - b);
  return picked.map((i) => words[i]).join(' ');
}

// How each set turns a package into a query (null: this package gives none), and the
// shortest name it takes.
function makers(names) {
  return {
    exact: { shortest: 1, make: (rand, r) => r.name },
    typo: {
      shortest: 5,
      make: (rand, r) => {
        for (let tries = 0; tries < 20; tries++) {
          const q = typo(rand, r.name);
          if (q !== null && !names.has(q)) return q;
        }
        return null;
      },
    },
    prefix: { shortest: 10, make: (rand, r) => r.name.slice(0, Math.ceil(r.name.length * 0.6)) },
    description: { shortest: 1, make: (rand, r) => describe(rand, r.summary) },
  };
}

// COUNT queries of SET: the packages in a shuffled order, each asked about if it can be.
function draw(set, { shortest, make }, count, records) {
  // Nearby seeds start xorshift on nearby paths: spread them over the 32 bits first.
  const rand = random(Math.imul(SEED + SETS.indexOf(set), 0x9e3779b1));
  const out = [];
  for (const record of shuffled(rand, records.filter((r) => r.name.length >= shortest))) {
    if (out.length === count) break;
    const q = make(rand, record);
    if (q !== null) out.push({ q, target: record.name });
  }
  return out;
}

const [file, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!file || !(count > 0)) {
  console.error('usage: node queries.mjs RECORDS.json COUNT');
  process.exit(2);
}
// Sorted by name, so the draw does not depend on the order apt lists its packages in.
const records = JSON.parse(readFileSync(file, 'utf8'))
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
const byMaker = makers(new Set(records.map((r) => r.name)));
const sets = Object.fromEntries(
  SETS.map((set) => [set, draw(set, byMaker[set], count, records)]));
console.log(JSON.stringify(sets, null, 1));
