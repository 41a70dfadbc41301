// Browser test harness: a real `octohub serve` (embedded PostgreSQL, private data dir, free
// port), local source and target APIs, headless Chromium through playwright-core, axe-core
// scans and screenshots. A scenario is one entry of the list given to runScenarios():
//   ['a name', async (t) => { await t.page.goto(t.url('/')); ... }]
// where t carries page, url(), adminKey, sourceApi, targetApi, axe(), shot() and expect().
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

// Servers this run started; stopped however the run ends (a failed setup, an exception).
const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

export function parseArgs(argv) {
  const args = {
    binary: '', artifacts: '', chromium: process.env.CHROMIUM || '/usr/bin/chromium', only: '',
  };
  for (let i = 2; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in args)) throw new Error(`unknown argument ${argv[i]}`);
    args[name] = argv[++i];
  }
  if (!args.binary) throw new Error('--binary PATH_TO_OCTOHUB is required');
  if (!args.artifacts) throw new Error('--artifacts DIR is required');
  return args;
}

// A JSON API over fixed records, paged as ?page=N&per_page=M under {"items": [...]}.
export async function startSourceApi(routes) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const records = routes[url.pathname];
    if (!records) {
      res.writeHead(404).end('{}');
      return;
    }
    const page = Number(url.searchParams.get('page') || 1);
    const size = Number(url.searchParams.get('per_page') || 50);
    const items = records.slice((page - 1) * size, page * size);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ items }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: (p) => `http://127.0.0.1:${server.address().port}${p}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

// A target API that records every request it receives; paths under /fail answer 500.
export async function startTargetApi() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const failing = req.url.startsWith('/fail');
      res.writeHead(failing ? 500 : 200, { 'Content-Type': 'application/json' })
        .end(failing ? '{"error":"down"}' : '{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    received,
    url: (p) => `http://127.0.0.1:${server.address().port}${p}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

// `octohub serve` on a fresh data dir; resolves once it is ready, with its address and the
// admin key printed at first start.
export async function startOctohub(binary, extraArgs = []) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'octohub-ui-'));
  const child = spawn(binary, ['serve', '--data-dir', path.join(dataDir, 'data'),
    '--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let log = '';
  let address = null;
  let adminKey = null;
  let stopping = false;
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`octohub did not start:\n${log}`));
    }, 90000);
    child.stderr.setEncoding('utf8');
    let partial = '';  // a chunk can end mid-line
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const key = /^octohub: admin key \(shown once\): (\S+)/.exec(line);
        if (key) adminKey = key[1];
        if (line.includes('"serve.ready"')) address = JSON.parse(line).listen;
      }
      if (address && adminKey) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code, signal) => reject(new Error(`octohub exited with ${code ?? signal}:\n${log}`)));
  });
  await ready;
  // A server that dies after start would otherwise surface only as refused connections.
  child.on('exit', (code, signal) => {
    if (!stopping) console.log(`octohub exited unexpectedly with ${code ?? signal}; its log ends:\n${log.slice(-4000)}`);
  });
  return {
    address, adminKey, dataDir,
    log: () => log,
    url: (p) => `http://${address}${p}`,
    async api(method, p, body) {
      const response = await fetch(`http://${address}${p}`, {
        method,
        headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${p} -> ${response.status}: ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(executablePath) {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install the chromium package`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'octohub-chromium-'));
  // STACK.md: these flags keep Debian's Chromium headless, sandbox-free as root, and offline.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// axe-core in the page; answers the serious and critical violations.
// Evaluated through the DevTools protocol rather than added as a script tag: the UI's
// Content-Security-Policy rightly refuses inline scripts, and the test must not loosen it.
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export async function axeScan(page, context) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(async (ctx) => {
    const r = await window.axe.run(ctx || document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  }, context || null);
  return result;
}

export function expect(condition, what) {
  if (!condition) throw new Error(`expected ${what}`);
}

// Waits until fn() (run in the test) returns a truthy value.
export async function eventually(fn, what, timeoutMs = 30000) {
  const started = Date.now();
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Runs the scenarios in order on one page; a failing scenario is reported (with a
// screenshot) and the run goes on, so one report shows every failure. Exits non-zero on any.
export async function runScenarios({ args, setup, scenarios }) {
  fs.rmSync(args.artifacts, { recursive: true, force: true });
  fs.mkdirSync(args.artifacts, { recursive: true });
  const axeReport = [];
  const t = await setup();
  t.expect = expect;
  t.eventually = eventually;
  t.shot = async (name, options = {}) => {
    const file = path.join(args.artifacts, `${name}.png`);
    await t.page.screenshot({ path: file, fullPage: options.fullPage ?? false });
    return file;
  };
  t.axe = async (name, context) => {
    const violations = await axeScan(t.page, context);
    axeReport.push({ view: name, violations });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.length === 0, `no serious or critical accessibility violations in ${name}: ${JSON.stringify(bad, null, 1)}`);
  };
  const failures = [];
  let ran = 0;
  try {
    for (const [name, scenario] of scenarios) {
      if (args.only && !name.includes(args.only)) {
        console.log(`- ${name} (not selected)`);
        failures.push(`${name}: not run (--only)`);
        continue;
      }
      const started = Date.now();
      ran += 1;
      try {
        await scenario(t);
        console.log(`ok   ${name} (${Date.now() - started} ms)`);
      } catch (error) {
        failures.push(`${name}: ${error.stack || error}`);
        console.log(`FAIL ${name}\n${error.stack || error}`);
        if (t.hub) console.log(`octohub's log ends:\n${t.hub.log().split('\n').slice(-25).join('\n')}`);
        await t.page.screenshot({ path: path.join(args.artifacts, `failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
      }
    }
  } finally {
    fs.writeFileSync(path.join(args.artifacts, 'axe-report.json'), JSON.stringify(axeReport, null, 2));
    await t.teardown();
  }
  for (const entry of axeReport) {
    const counts = {};
    for (const v of entry.violations) counts[v.impact] = (counts[v.impact] || 0) + 1;
    console.log(`axe ${entry.view}: ${entry.violations.length ? JSON.stringify(counts) : 'no violations'}`);
  }
  console.log(`artifacts: ${args.artifacts}`);
  if (failures.length) {
    console.log(`\n${failures.length} scenario(s) failed`);
    process.exit(1);
  }
  console.log(`\nall ${ran} scenarios passed`);
}
