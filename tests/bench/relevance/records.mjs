// Turns `apt-cache dumpavail` (on stdin) into the benchmark's records, one per package name,
// written as a JSON array to the file named by the first argument:
//   {"id", "name", "summary", "description", "section"}
// summary is the first line of Description; description is the rest of the long description,
// its lines joined by spaces, without the " ." lines that separate paragraphs. A name seen
// again (the same package from another suite) keeps its first stanza.
import { readFileSync, writeFileSync } from 'node:fs';

// Splits one stanza into its fields; a line starting with a space continues the field before.
function fields(stanza) {
  const out = new Map();
  let current = null;
  for (const line of stanza.split('\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current) out.get(current).push(line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = line.slice(0, colon);
    out.set(current, [line.slice(colon + 1).trim()]);
  }
  return out;
}

function toRecord(stanza) {
  const f = fields(stanza);
  const name = f.get('Package')?.[0];
  if (!name) return null;
  const [summary = '', ...rest] = f.get('Description') ?? [];
  const description = rest
    .map((line) => line.trim())
    .filter((line) => line !== '.')
    .join(' ');
  return { id: name, name, summary, description, section: f.get('Section')?.[0] ?? '' };
}

const out = process.argv[2];
if (!out) {
  console.error('usage: apt-cache dumpavail | node records.mjs OUT.json');
  process.exit(2);
}
const records = new Map();
for (const stanza of readFileSync(0, 'utf8').split(/\n\n+/)) {
  const record = toRecord(stanza);
  if (record && !records.has(record.name)) records.set(record.name, record);
}
writeFileSync(out, JSON.stringify([...records.values()]));
const withLong = [...records.values()].filter((r) => r.description).length;
console.log(`${records.size} ${withLong}`);
