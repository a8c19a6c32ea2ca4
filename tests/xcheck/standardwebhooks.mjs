// Cross-check of payment-core's Standard Webhooks code against the reference JavaScript library,
// npm `standardwebhooks` (its `Webhook` class). Driven by tests/tests/xcheck_standardwebhooks.rs.
//
// stdin:  {"secret": "whsec_…", "now": <unix seconds>,
//          "sign":   [{"id", "timestamp", "body"}],
//          "verify": [{"id", "timestamp", "signature", "body"}]}
// stdout: {"signed":   ["v1,…", …],
//          "verified": [{"ok": true, "parsed": <the body as JSON>} | {"ok": false, "error": "Name: message"}, …]}
//
// The library reads the clock with Date.now(); it is pinned to `now` so the Rust side can use fixed
// timestamps and test the tolerance boundaries exactly.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const input = JSON.parse(readFileSync(0, "utf8"));
Date.now = () => input.now * 1000;

const wh = new Webhook(input.secret);

const signed = input.sign.map(({ id, timestamp, body }) => wh.sign(id, new Date(timestamp * 1000), body));

const verified = input.verify.map(({ id, timestamp, signature, body }) => {
  const headers = {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  };
  try {
    return { ok: true, parsed: wh.verify(body, headers) };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
});

process.stdout.write(JSON.stringify({ signed, verified }));
