// Verifies captured deliveries with the standardwebhooks npm package, as a receiver would.
// Usage: node verify_standard_webhooks.cjs REPO_ROOT CAPTURED.json
// CAPTURED.json: {"secret": "...", "raw": bool, "requests": [{"headers": {...}, "body": "..."}]}
// Prints one JSON line: for each request, whether it verifies as sent, with one byte of the
// body altered, and replayed ten minutes later (past the library's five-minute tolerance).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [root, capturedPath] = process.argv.slice(2);
const { Webhook } = require(path.join(root, "node_modules", "standardwebhooks"));
const captured = JSON.parse(fs.readFileSync(capturedPath, "utf8"));
const receiver = new Webhook(captured.secret, captured.raw ? { format: "raw" } : undefined);

function verifies(body, headers) {
  try {
    receiver.verify(body, headers);
    return true;
  } catch (error) {
    return false;
  }
}

function later(minutes, check) {
  const realNow = Date.now;
  Date.now = () => realNow() + minutes * 60 * 1000;
  try {
    return check();
  } finally {
    Date.now = realNow;
  }
}

const results = captured.requests.map(({ headers, body }) => {
  const altered = body.length > 0 ? (body[0] === "{" ? "[" : "{") + body.slice(1) : "x";
  return {
    id: headers["webhook-id"],
    as_sent: verifies(body, headers),
    altered: verifies(altered, headers),
    replayed_later: later(10, () => verifies(body, headers)),
  };
});
process.stdout.write(JSON.stringify(results) + "\n");
