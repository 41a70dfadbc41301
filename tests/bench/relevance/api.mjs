// A loopback API that serves the records for Octohub to harvest, as a numbered-page API does:
//   node api.mjs RECORDS.json
// GET /packages?page=N&per_page=M (pages from 1) answers {"items": [...]}, empty past the
// end. It prints "port P" once it listens on 127.0.0.1 and runs until it is killed.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const records = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method !== 'GET' || url.pathname !== '/packages') {
    res.writeHead(404).end();
    return;
  }
  const page = Number(url.searchParams.get('page') ?? 1);
  const perPage = Number(url.searchParams.get('per_page') ?? 100);
  if (!(Number.isInteger(page) && page >= 1 && Number.isInteger(perPage) && perPage >= 1)) {
    res.writeHead(400).end();
    return;
  }
  const start = (page - 1) * perPage;
  const body = JSON.stringify({ items: records.slice(start, start + perPage) });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});

server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
