// A merchant's side of the sandbox for Node tests and benchmarks: requests signed with node:crypto
// (OpenSSL, not our Rust code) using the sandbox's own test keys from its keys.json.
import crypto from 'node:crypto';

/** WeChat Pay v3 `Authorization` for `method target body`, signed with the merchant key. */
export function wechatAuthorization(keys, method, target, body = '') {
  const w = keys.wechatpay;
  const ts = Math.floor(Date.now() / 1000);
  const nonce = crypto.randomBytes(16).toString('hex');
  const message = `${method}\n${target}\n${ts}\n${nonce}\n${body}\n`;
  const signature = crypto.sign('sha256', Buffer.from(message), w.merchant_private_key).toString('base64');
  return `WECHATPAY2-SHA256-RSA2048 mchid="${w.mchid}",nonce_str="${nonce}",timestamp="${ts}",serial_no="${w.merchant_serial}",signature="${signature}"`;
}

/** The JSAPI parameters for `prepayId`, `paySign` over `appId\ntimeStamp\nnonceStr\npackage\n`. */
export function jsapiParams(keys, prepayId) {
  const appId = keys.wechatpay.appid;
  const timeStamp = String(Math.floor(Date.now() / 1000));
  const nonceStr = crypto.randomBytes(16).toString('hex');
  const pkg = `prepay_id=${prepayId}`;
  const paySign = crypto
    .sign('sha256', Buffer.from(`${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`), keys.wechatpay.merchant_private_key)
    .toString('base64');
  return { appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
}

/** Alipay's Beijing-time `timestamp`, whatever this machine's zone. */
export function beijingTime(unix = Math.floor(Date.now() / 1000)) {
  return new Date((unix + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

/** A signed Alipay OpenAPI form body for `method` with `biz` as biz_content. */
export function alipayForm(keys, method, biz) {
  const a = keys.alipay;
  const params = { app_id: a.app_id, method, format: 'JSON', charset: 'utf-8', sign_type: 'RSA2', timestamp: beijingTime(), version: '1.0', biz_content: JSON.stringify(biz) };
  const content = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  params.sign = crypto.sign('sha256', Buffer.from(content), a.app_private_key).toString('base64');
  return new URLSearchParams(params).toString();
}
