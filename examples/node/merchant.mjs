// edgepay from a Node merchant backend: create a checkout session, verify a webhook.
// npm install standardwebhooks   (fetch is built into Node ≥ 18)
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';

const EDGEPAY_URL = process.env.EDGEPAY_URL; // your worker, e.g. https://pay.example.com
const API_KEY = process.env.EDGEPAY_MERCHANT_API_KEY; // server side only, never in a page
const WEBHOOK_SECRET = process.env.EDGEPAY_WEBHOOK_SECRET; // whsec_…

/** Creates a session for an order: give its `id` and `client_secret` to the page's widget. */
export async function createSession(orderId, amountFen, description) {
  const response = await fetch(`${EDGEPAY_URL}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': orderId },
    body: JSON.stringify({ order_id: orderId, amount: amountFen, currency: 'CNY', description }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`edgepay refused the session: ${response.status} ${body.error.code}`);
  return body; // {id, client_secret, status, amount, currency, expires_at}
}

/** Checks a webhook over its raw body and headers; returns the event or throws. */
export function verifyWebhook(rawBody, headers) {
  // Then apply it once: remember headers['webhook-id'] with the order's new status.
  return new Webhook(WEBHOOK_SECRET).verify(rawBody, headers);
}

// Try it: node merchant.mjs create ORDER_ID AMOUNT_FEN DESCRIPTION
//         node merchant.mjs verify WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE < raw-body
const [command, ...args] = process.argv.slice(2);
if (command === 'create') console.log(JSON.stringify(await createSession(args[0], Number(args[1]), args[2])));
if (command === 'verify') {
  const [id, timestamp, signature] = args;
  const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
  console.log(JSON.stringify(verifyWebhook(readFileSync(0, 'utf8'), headers)));
}
