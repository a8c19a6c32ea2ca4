// Cross-check of payment-core's Alipay code against npm `alipay-sdk` 4.14.0 (its `sign` util,
// `pageExecute`, `checkNotifySignV2`, `getSignStr` / `checkResponseSign`) and the `utility` date
// formatter it uses for `timestamp`. Reads one JSON object on stdin, prints one on stdout:
// - `ours`: what payment-core produced, checked here with their code (and one-byte tampering);
// - `theirs`: what their code produces for the inputs in `todo`, for payment-core to verify.
//
// Their `timestamp` is the machine's local time. Alipay wants Beijing time, so this script sets
// TZ=Asia/Shanghai deliberately, and also reports what their code says under TZ=UTC (the bug that
// payment-core must not copy).
import { createSign } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { sign as sdkSign } from '../../node_modules/alipay-sdk/dist/esm/util.js';
import { YYYYMMDDHHmmss } from 'utility';

const input = JSON.parse(await new Promise((resolve, reject) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
  process.stdin.on('error', reject);
}));

// A clock the SDK cannot tell from the real one: `new Date()` and `Date.now()` give `fixedMs`.
const RealDate = Date;
let fixedMs = null;
class FixedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0 && fixedMs !== null) { super(fixedMs); } else { super(...args); }
  }
  static now() { return fixedMs ?? RealDate.now(); }
}
globalThis.Date = FixedDate;

function withClock(unixSeconds, fn) {
  fixedMs = unixSeconds * 1000;
  try { return fn(); } finally { fixedMs = null; }
}

function withTz(tz, fn) {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try { return fn(); } finally { process.env.TZ = before; }
}

// Changes one character of a string (at `at`, default the middle).
function tamper(text, at = Math.floor(text.length / 2)) {
  const i = Math.max(0, Math.min(at, text.length - 1));
  const c = text.charCodeAt(i);
  return text.slice(0, i) + String.fromCharCode(c === 0x41 ? 0x42 : 0x41) + text.slice(i + 1);
}

const { app, alipay, ours, todo } = input;
// The merchant's side of the SDK: signs with the app key, verifies with Alipay's key.
const merchantSdk = new AlipaySdk({
  appId: todo.app_id,
  privateKey: app.private_pem,
  keyType: 'PKCS8',
  alipayPublicKey: alipay.public_b64,
});
// For checking what a merchant sent (our requests): Alipay's gateway verifies with the app key.
const gatewaySdk = new AlipaySdk({
  appId: todo.app_id,
  privateKey: alipay.private_pem,
  keyType: 'PKCS8',
  alipayPublicKey: app.public_b64,
});

const result = { ours: {}, theirs: {} };

// Beijing time: their formatter under TZ=Asia/Shanghai and under TZ=UTC, at the same instants.
result.theirs.timestamps = todo.timestamps.map((unix) => ({
  unix,
  shanghai: withTz('Asia/Shanghai', () => YYYYMMDDHHmmss(new RealDate(unix * 1000))),
  utc: withTz('UTC', () => YYYYMMDDHHmmss(new RealDate(unix * 1000))),
}));

// Our signed requests: every parameter but `sign`, verified by their notify checker in raw mode
// (it tries with `sign_type` first, which is the request convention), tampered once.
result.ours.requests = ours.requests.map((r) => {
  const params = Object.fromEntries(r.params);
  const tampered = { ...params, biz_content: tamper(params.biz_content) };
  return {
    verified: gatewaySdk.checkNotifySignV2(params),
    tampered_verified: gatewaySdk.checkNotifySignV2(tampered),
  };
});

// Their `sign()` for the same method, parameters and clock as ours: the whole parameter set,
// signature included (PKCS#1 v1.5 is deterministic), must come out equal.
result.theirs.signed = todo.sign.map((t) => withTz('Asia/Shanghai', () => withClock(t.timestamp, () => {
  const params = { format: 'JSON', bizContent: JSON.parse(t.biz_content) };
  if (t.notify_url) params.notifyUrl = t.notify_url;
  if (t.return_url) params.returnUrl = t.return_url;
  const signed = sdkSign(t.method, params, merchantSdk.config);
  return Object.entries(signed).map(([k, v]) => [k, String(v)]);
})));

// Their page payments (GET URL and POST form), for us to verify.
function formFields(html) {
  const action = html.match(/<form action="([^"]*)"/)[1];
  const fields = [...new URL(action).searchParams.entries()];
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)" \/>/g)) {
    fields.push([m[1], m[2].replace(/&quot;/g, '"')]);
  }
  return { action: action.split('?')[0], fields };
}
result.theirs.pages = todo.pages.map((p) => withTz('Asia/Shanghai', () => withClock(p.timestamp, () => {
  const out = merchantSdk.pageExecute(p.method, p.http_method, {
    bizContent: JSON.parse(p.biz_content),
    notifyUrl: p.notify_url,
    returnUrl: p.return_url,
  });
  if (p.http_method === 'GET') {
    const url = new URL(out);
    return { action: `${url.origin}${url.pathname}`, fields: [...url.searchParams.entries()] };
  }
  return formFields(out);
})));

// Our notifications: the form body as POSTed, decoded once by URLSearchParams, checked by their
// checkNotifySignV2 (raw: no second decoding), tampered once.
result.ours.notifies = ours.notifies.map((body) => {
  const params = Object.fromEntries(new URLSearchParams(body));
  return {
    verified: merchantSdk.checkNotifySignV2(params),
    tampered_verified: merchantSdk.checkNotifySignV2({ ...params, total_amount: tamper(params.total_amount, 0) }),
  };
});

// Their notifications: signed the way their checker reads them (sorted `k=v`, no sign/sign_type),
// confirmed by their checker, posted as URLSearchParams encodes a form.
result.theirs.notifies = todo.notifies.map((fields) => {
  const content = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join('&');
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(alipay.private_pem, 'base64');
  const posted = { ...fields, sign_type: 'RSA2', sign };
  return {
    self_check: merchantSdk.checkNotifySignV2(posted),
    body: new URLSearchParams(posted).toString(),
  };
});

// Our answers: their getSignStr cuts the same content, their checkResponseSign accepts it and
// refuses it tampered.
function checkResponse(raw, key) {
  try {
    merchantSdk.checkResponseSign(raw, key, JSON.parse(raw).sign, 'xcheck');
    return true;
  } catch {
    return false;
  }
}
result.ours.responses = ours.responses.map((r) => ({
  sign_str: merchantSdk.getSignStr(r.raw, r.response_key),
  verified: checkResponse(r.raw, r.response_key),
  tampered_verified: checkResponse(r.raw.replace('10000', '10001'), r.response_key),
}));

// Their answers: the body with `\/` escapes and spacing, signed over what their getSignStr cuts.
// (getSignStr cuts at an offset computed on the uncut string, so the placeholder must be as long
// as a real RSA-2048 signature for the cut to land inside it, as it does on real answers.)
result.theirs.responses = todo.responses.map((r) => {
  const placeholder = 'A'.repeat(344);
  const template = `{"${r.response_key}" : ${r.data_text},\n "sign":"${placeholder}"}`;
  const content = merchantSdk.getSignStr(template, r.response_key);
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(alipay.private_pem, 'base64');
  return { raw: template.replace(placeholder, sign), sign_str: content };
});

process.stdout.write(JSON.stringify(result));
