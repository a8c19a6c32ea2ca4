// Cross-check of the sandbox's Alipay gateway with npm `alipay-sdk` 4.14.0 as a merchant uses it:
// configured with the sandbox's gateway URL (`gateway`, and `endpoint` for OpenAPI v3), the app's
// private key and the sandbox's Alipay public key. Reads one JSON object on stdin
// ({sandbox, app_id, app_private_pem, alipay_public_pem, out_trade_no, page_no}), prints one on
// stdout with what happened at each step; sandbox/tests/xcheck_alipay.rs asserts it.
//
// Beijing time: the SDK formats `timestamp` in the machine's local zone, and Alipay reads it as
// Beijing time (UTC+8). This script therefore runs with TZ=Asia/Shanghai (set here, before any
// date is made: node_xcheck has no way to pass an environment), and once with TZ=UTC on purpose to
// show the sandbox refusing the eight-hours-off timestamp, as Alipay does.
process.env.TZ = 'Asia/Shanghai';

import http from 'node:http';
import { AlipaySdk } from 'alipay-sdk';
import { sign as sdkSign } from '../../node_modules/alipay-sdk/dist/esm/util.js';

const input = JSON.parse(await new Promise((resolve, reject) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
  process.stdin.on('error', reject);
}));

const { sandbox, app_id: appId, out_trade_no: outTradeNo, page_no: pageNo } = input;
const sdk = new AlipaySdk({
  appId,
  privateKey: input.app_private_pem.trim(),
  keyType: 'PKCS8',
  alipayPublicKey: input.alipay_public_pem.trim(),
  gateway: `${sandbox}/gateway.do`,
  endpoint: sandbox,
});

// A merchant's notify endpoint: records what arrives, answers `success`.
const received = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    received.push({ path: req.url, body });
    res.end('success');
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const listener = `http://127.0.0.1:${server.address().port}`;

async function waitFor(done, ms = 15000) {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Changes one character of a string at `at`.
function tamper(text, at) {
  const c = text.charCodeAt(at);
  return text.slice(0, at) + String.fromCharCode(c === 0x41 ? 0x42 : 0x41) + text.slice(at + 1);
}

// exec() with validateSign: resolves with the (camel-cased) answer only when checkResponseSign
// accepts the sandbox's signature; a bad signature throws.
async function exec(method, bizContent, extra = {}) {
  try {
    return { verified: true, answer: await sdk.exec(method, { ...extra, bizContent }, { validateSign: true }) };
  } catch (e) {
    return { verified: false, error: String(e.message).slice(0, 300) };
  }
}

const result = {};
const paidNotify = `${listener}/notify`;

result.precreate = await exec('alipay.trade.precreate', { outTradeNo, totalAmount: '0.01', subject: 'xcheck 龙井' }, { notifyUrl: paidNotify });
result.query_waiting = await exec('alipay.trade.query', { outTradeNo });

// The bug DESIGN.md warns about: the same call from a machine on UTC.
process.env.TZ = 'UTC';
result.query_utc = await exec('alipay.trade.query', { outTradeNo });
process.env.TZ = 'Asia/Shanghai';

// One byte changed in a request their sign() made: POSTed the way exec() sends it.
{
  const signed = sdkSign('alipay.trade.query', { bizContent: { outTradeNo } }, sdk.config);
  const { url, execParams } = sdk.formatUrl(sdk.config.gateway, signed);
  const bodyParams = { ...execParams, biz_content: tamper(execParams.biz_content, 5) };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(bodyParams).toString(),
  });
  const raw = await response.text();
  let signatureOfAnswerVerified = true;
  try {
    sdk.checkResponseSign(raw, 'alipay_trade_query_response', JSON.parse(raw).sign, 'xcheck');
  } catch {
    signatureOfAnswerVerified = false;
  }
  result.tampered_exec = {
    status: response.status,
    answer: JSON.parse(raw).alipay_trade_query_response,
    answer_verified: signatureOfAnswerVerified,
  };
  // Untouched, the same request is accepted.
  const untouched = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(execParams).toString(),
  });
  result.untampered_exec = JSON.parse(await untouched.text()).alipay_trade_query_response;
}

// Page payment: pageExecute's GET URL and POST form open the cashier; the same URL with one byte
// changed is refused with the error page.
const pageBiz = { outTradeNo: pageNo, totalAmount: '0.02', subject: 'xcheck page', productCode: 'FAST_INSTANT_TRADE_PAY' };
const pageUrl = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
  bizContent: pageBiz,
  returnUrl: 'https://shop.example/alipay/return',
  notifyUrl: paidNotify,
});
{
  const response = await fetch(pageUrl, { redirect: 'manual' });
  result.page_get = { status: response.status, location: response.headers.get('location') };
  const url = new URL(pageUrl);
  const biz = url.searchParams.get('biz_content');
  url.searchParams.set('biz_content', biz.replace('0.02', '0.03'));
  const tampered = await fetch(url, { redirect: 'manual' });
  const text = await tampered.text();
  result.page_tampered = { status: tampered.status, invalid_signature: text.includes('data-sub-code="isv.invalid-signature"') };
}
{
  const html = sdk.pageExecute('alipay.trade.wap.pay', 'POST', {
    bizContent: { outTradeNo: `${pageNo}W`, totalAmount: '0.02', subject: 'xcheck wap', productCode: 'QUICK_WAP_WAY' },
    returnUrl: 'https://shop.example/alipay/return',
  });
  const action = html.match(/<form action="([^"]*)"/)[1];
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)" \/>/g)]
    .map((m) => [m[1], m[2].replace(/&quot;/g, '"')]);
  const response = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  result.page_post = { status: response.status, location: response.headers.get('location') };
}

// The shopper pays the page payment on the cashier: the return carries Alipay's signed
// synchronous parameters, which their checkNotifySignV2 accepts.
if (result.page_get.location) {
  const paid = await fetch(`${result.page_get.location}/pay`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'action=pay',
  });
  const location = paid.headers.get('location') ?? '';
  const params = Object.fromEntries(new URL(location).searchParams);
  result.page_return = {
    status: paid.status,
    method: params.method,
    verified: sdk.checkNotifySignV2(params),
    tampered_verified: sdk.checkNotifySignV2({ ...params, total_amount: '0.03' }),
  };
}

// The QR trade is paid (the control API, as a phone would); the notification arrives and passes
// their checkNotifySignV2; one byte changed does not.
const pay = await fetch(`${sandbox}/sandbox/control/orders/alipay/${outTradeNo}/pay`, { method: 'POST' });
result.paid_status = pay.status;
await waitFor(() => received.some((r) => r.path === '/notify' && r.body.includes(outTradeNo)));
{
  const body = received.find((r) => r.path === '/notify' && r.body.includes(outTradeNo)).body;
  const params = Object.fromEntries(new URLSearchParams(body));
  result.notify = {
    trade_status: params.trade_status,
    total_amount: params.total_amount,
    verified: sdk.checkNotifySignV2(params),
    tampered_verified: sdk.checkNotifySignV2({ ...params, total_amount: tamper(params.total_amount, 0) }),
  };
}
result.query_paid = await exec('alipay.trade.query', { outTradeNo });
result.refund = await exec('alipay.trade.refund', { outTradeNo, refundAmount: '0.01', outRequestNo: 'XR1' });

// A probe is refused by their checker.
await fetch(`${sandbox}/sandbox/control/probe`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ provider: 'alipay', url: `${listener}/probe` }),
});
await waitFor(() => received.some((r) => r.path === '/probe'));
result.probe_verified = sdk.checkNotifySignV2(Object.fromEntries(new URLSearchParams(received.find((r) => r.path === '/probe').body)));

server.close();
process.stdout.write(JSON.stringify(result));
