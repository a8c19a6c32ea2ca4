// Cross-check of the sandbox's WeChat Pay v3 endpoints against npm `wechatpay-axios-plugin`: its
// `Wechatpay` client and its `Formatter` + `Rsa` by hand sign requests the sandbox must accept (a
// one-byte change refused), and its own verifier checks the sandbox's responses and callbacks;
// its `Aes.AesGcm` decrypts the callback resource. Reads one JSON object on stdin, prints one.
//
// step "requests": {url, mchid, appid, merchant_serial, merchant_private_key, merchant_public_key, platform_serial,
//   platform_public_key, notify_url, out_trade_no}
// step "callback": {platform_serial, platform_public_key, apiv3_key, headers, body}
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Wechatpay, Rsa, Formatter, Aes } = require('wechatpay-axios-plugin');

const input = JSON.parse(await new Promise((resolve, reject) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
  process.stdin.on('error', reject);
}));

// Changes one character of a string (at `at`, or the last one).
function tamper(text, at = text.length - 1) {
  const c = text.charCodeAt(at);
  return text.slice(0, at) + String.fromCharCode(c === 0x31 ? 0x32 : 0x31) + text.slice(at + 1);
}

// Their verifier, as their client runs it: Formatter.response over the raw body, Rsa.verify.
function verifies(headers, body, publicKey) {
  return Rsa.verify(
    Formatter.response(headers.get('wechatpay-timestamp'), headers.get('wechatpay-nonce'), body),
    headers.get('wechatpay-signature'),
    publicKey,
  );
}

// One request signed by hand with their Formatter and Rsa, sent with Node's fetch.
async function signedFetch(i, method, target, body, { sendBody = body, signTarget = target } = {}) {
  const timestamp = Formatter.timestamp();
  const nonce = Formatter.nonce();
  const signature = Rsa.sign(Formatter.request(method, signTarget, timestamp, nonce, body), i.merchant_private_key);
  const response = await fetch(`${i.url}${target}`, {
    method,
    headers: {
      Authorization: Formatter.authorization(i.mchid, nonce, signature, timestamp, i.merchant_serial),
      Accept: 'application/json',
      ...(sendBody ? { 'Content-Type': 'application/json' } : {}),
    },
    body: sendBody || undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text,
    serial: response.headers.get('wechatpay-serial'),
    verified: verifies(response.headers, text, i.platform_public_key),
    tampered_verified: text.length > 3 && verifies(response.headers, tamper(text, 3), i.platform_public_key),
  };
}

async function requests(i) {
  const result = {};
  const order = (no) => JSON.stringify({
    appid: i.appid,
    mchid: i.mchid,
    description: 'xcheck 测试',
    out_trade_no: no,
    notify_url: i.notify_url,
    amount: { total: 123, currency: 'CNY' },
  });

  // Their client: signs with its interceptor, verifies 2xx answers itself (it throws otherwise).
  const client = new Wechatpay({
    mchid: i.mchid,
    serial: i.merchant_serial,
    privateKey: i.merchant_private_key,
    certs: { [i.platform_serial]: i.platform_public_key },
    baseURL: i.url,
    proxy: false,
  });
  const created = await client.v3.pay.transactions.native.post(JSON.parse(order(i.out_trade_no)));
  result.client_create = { status: created.status, code_url: created.data.code_url };
  const queried = await client.v3.pay.transactions.outTradeNo._out_trade_no_.get({
    params: { mchid: i.mchid },
    out_trade_no: i.out_trade_no,
  });
  result.client_query = { status: queried.status, trade_state: queried.data.trade_state };
  // Their client, with a wrong platform key: must refuse our (otherwise valid) answer.
  const other = new Wechatpay({
    mchid: i.mchid,
    serial: i.merchant_serial,
    privateKey: i.merchant_private_key,
    certs: { [i.platform_serial]: i.merchant_public_key },
    baseURL: i.url,
    proxy: false,
  });
  try {
    await other.v3.pay.transactions.outTradeNo._out_trade_no_.get({ params: { mchid: i.mchid }, out_trade_no: i.out_trade_no });
    result.client_wrong_key = 'accepted';
  } catch (e) {
    result.client_wrong_key = e.code;
  }

  // By hand: a valid POST and GET, then one-byte changes to each signed part.
  const body = order(`${i.out_trade_no}b`);
  const native = '/v3/pay/transactions/native';
  result.hand_post = await signedFetch(i, 'POST', native, body);
  const query = `/v3/pay/transactions/out-trade-no/${i.out_trade_no}b?mchid=${i.mchid}`;
  result.hand_get = await signedFetch(i, 'GET', query, '');
  const tamperedBody = body.replace('"total":123', '"total":124');
  result.tampered = {
    body: await signedFetch(i, 'POST', native, body, { sendBody: tamperedBody }),
    target: await signedFetch(i, 'POST', native, body, { signTarget: tamper(native) }),
    query: await signedFetch(i, 'GET', query, '', { signTarget: tamper(query) }),
  };
  return result;
}

function callback(i) {
  const headers = new Map(Object.entries(i.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const envelope = JSON.parse(i.body);
  const { resource } = envelope;
  const refused = (f) => { try { f(); return false; } catch { return true; } };
  return {
    serial_known: headers.get('wechatpay-serial') === i.platform_serial,
    verified: verifies(headers, i.body, i.platform_public_key),
    tampered_verified: verifies(headers, tamper(i.body, 20), i.platform_public_key),
    event_type: envelope.event_type,
    plaintext: Aes.AesGcm.decrypt(resource.ciphertext, i.apiv3_key, resource.nonce, resource.associated_data),
    wrong_aad_refused: refused(() => Aes.AesGcm.decrypt(resource.ciphertext, i.apiv3_key, resource.nonce, 'refund')),
  };
}

const output = input.step === 'callback' ? callback(input) : await requests(input);
process.stdout.write(JSON.stringify(output));
