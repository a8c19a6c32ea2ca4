// Cross-check of payment-core's WeChat Pay API v3 code against npm `wechatpay-axios-plugin`
// (its Rsa, Formatter and Aes.AesGcm). Reads one JSON object on stdin, prints one on stdout:
// - `ours`: what payment-core produced, checked here with their code (and one-byte tampering);
// - `theirs`: what their code produces for the inputs in `todo`, for payment-core to verify.
import { createRequire } from 'node:module';
import { X509Certificate } from 'node:crypto';

const require = createRequire(import.meta.url);
const { Rsa, Formatter, Aes } = require('wechatpay-axios-plugin');

const input = JSON.parse(await new Promise((resolve, reject) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
  process.stdin.on('error', reject);
}));

const { merchant, platform, apiv3_key: apiv3Key, ours, todo } = input;
const platformCert = new X509Certificate(platform.certificate_pem);
const platformPublic = platformCert.publicKey;

// Changes one character of a string (the last one, or the one at `at`).
function tamper(text, at = text.length - 1) {
  const i = Math.max(0, Math.min(at, text.length - 1));
  const c = text.charCodeAt(i);
  return text.slice(0, i) + String.fromCharCode(c === 0x41 ? 0x42 : 0x41) + text.slice(i + 1);
}

// Flips one bit of one byte of base64 data.
function tamperBase64(b64, at) {
  const buf = Buffer.from(b64, 'base64');
  buf[at % buf.length] ^= 0x01;
  return buf.toString('base64');
}

// Parses our Authorization header the way a reader of the documentation would.
function parseAuthorization(header) {
  const [scheme, rest] = [header.slice(0, header.indexOf(' ')), header.slice(header.indexOf(' ') + 1)];
  const params = {};
  for (const m of rest.matchAll(/(\w+)="([^"]*)"/g)) { params[m[1]] = m[2]; }
  return { scheme, params };
}

const result = { ours: {}, theirs: {} };

result.platform_serial = platformCert.serialNumber.replace(/^0+/, '').toUpperCase();

result.ours.requests = ours.requests.map((r) => {
  const { scheme, params } = parseAuthorization(r.authorization);
  const message = Formatter.request(r.method, r.target, params.timestamp, params.nonce_str, r.body);
  return {
    scheme,
    params_match: params.mchid === merchant.mchid && params.serial_no === merchant.serial
      && params.timestamp === String(r.timestamp) && params.nonce_str === r.nonce,
    valid: Rsa.verify(message, params.signature, merchant.public_key_pem),
    tampered_body_valid: Rsa.verify(
      Formatter.request(r.method, r.target, params.timestamp, params.nonce_str, r.body === '' ? 'x' : tamper(r.body)),
      params.signature,
      merchant.public_key_pem,
    ),
    tampered_target_valid: Rsa.verify(
      Formatter.request(r.method, tamper(r.target), params.timestamp, params.nonce_str, r.body),
      params.signature,
      merchant.public_key_pem,
    ),
    tampered_signature_valid: Rsa.verify(message, tamperBase64(params.signature, 17), merchant.public_key_pem),
  };
});

{
  const j = ours.jsapi;
  const message = Formatter.joinedByLineFeed(j.appId, j.timeStamp, j.nonceStr, j.package);
  result.ours.jsapi = {
    keys: Object.keys(j).sort(),
    sign_type: j.signType,
    valid: Rsa.verify(message, j.paySign, merchant.public_key_pem),
    tampered_valid: Rsa.verify(
      Formatter.joinedByLineFeed(j.appId, j.timeStamp, j.nonceStr, tamper(j.package)),
      j.paySign,
      merchant.public_key_pem,
    ),
  };
}

result.ours.responses = ours.responses.map((r) => ({
  valid: Rsa.verify(Formatter.response(r.timestamp, r.nonce, r.body), r.signature, platformPublic),
  tampered_valid: Rsa.verify(Formatter.response(r.timestamp, r.nonce, r.body === '' ? 'x' : tamper(r.body, 3)), r.signature, platformPublic),
}));

result.ours.resources = ours.resources.map((r) => {
  const plaintext = Aes.AesGcm.decrypt(r.ciphertext, apiv3Key, r.nonce, r.associated_data);
  const refused = (f) => { try { f(); return false; } catch { return true; } };
  return {
    plaintext,
    tampered_ciphertext_refused: refused(() => Aes.AesGcm.decrypt(tamperBase64(r.ciphertext, 5), apiv3Key, r.nonce, r.associated_data)),
    tampered_tag_refused: refused(() => Aes.AesGcm.decrypt(tamperBase64(r.ciphertext, Buffer.from(r.ciphertext, 'base64').length - 1), apiv3Key, r.nonce, r.associated_data)),
    tampered_aad_refused: refused(() => Aes.AesGcm.decrypt(r.ciphertext, apiv3Key, r.nonce, tamper(r.associated_data))),
  };
});

result.theirs.requests = todo.requests.map((r) => {
  const signature = Rsa.sign(Formatter.request(r.method, r.target, r.timestamp, r.nonce, r.body), merchant.private_key_pem);
  return { authorization: Formatter.authorization(merchant.mchid, r.nonce, signature, r.timestamp, merchant.serial) };
});

{
  const j = todo.jsapi;
  result.theirs.jsapi = {
    appId: j.appId,
    timeStamp: j.timeStamp,
    nonceStr: j.nonceStr,
    package: j.package,
    signType: 'RSA',
    paySign: Rsa.sign(Formatter.joinedByLineFeed(j.appId, j.timeStamp, j.nonceStr, j.package), merchant.private_key_pem),
  };
}

result.theirs.responses = todo.responses.map((r) => ({
  signature: Rsa.sign(Formatter.response(r.timestamp, r.nonce, r.body), platform.private_key_pem),
}));

// A whole callback built with their code: resource encrypted with their AesGcm, envelope signed with
// their Rsa over their Formatter.response message.
result.theirs.callbacks = todo.callbacks.map((c) => {
  const ciphertext = Aes.AesGcm.encrypt(c.plaintext, apiv3Key, c.resource_nonce, c.associated_data);
  const body = JSON.stringify({
    id: c.id,
    create_time: c.create_time,
    resource_type: 'encrypt-resource',
    event_type: c.event_type,
    summary: c.summary,
    resource: {
      original_type: c.original_type,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext,
      associated_data: c.associated_data,
      nonce: c.resource_nonce,
    },
  });
  return {
    body,
    ciphertext,
    headers: {
      'Wechatpay-Timestamp': String(c.timestamp),
      'Wechatpay-Nonce': c.nonce,
      'Wechatpay-Signature': Rsa.sign(Formatter.response(c.timestamp, c.nonce, body), platform.private_key_pem),
      'Wechatpay-Serial': result.platform_serial,
    },
  };
});

process.stdout.write(JSON.stringify(result));
