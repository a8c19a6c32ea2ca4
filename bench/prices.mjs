// What single runtime calls cost in workerd, timed in a JavaScript loop (a diagnosis beside
// bench/cpuprofile.mjs, whose profiler inflates native calls; not part of the test command):
//   node bench/prices.mjs
// A JavaScript worker in Miniflare makes one kind of call n times in one request; the request's
// time from Node, less that of an empty request, over n, is the call's price (median of 15).
// workerd's own clock does not move during a request, hence the outside timing.
import { Miniflare } from 'miniflare';
import { COMPATIBILITY_DATE } from './lib.mjs';

const SCRIPT = `
const data = new TextEncoder().encode('x'.repeat(500));
let rsa, rsaPublic, rsaSignature, hmac, aes, sealed;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const op = url.searchParams.get('op');
    const n = Number(url.searchParams.get('n'));
    if (!rsa) {
      const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify']);
      rsa = pair.privateKey;
      rsaPublic = pair.publicKey;
      rsaSignature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', rsa, data);
      aes = await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
      sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, data);
      hmac = await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    }
    let sink = 0;
    for (let i = 0; i < n; i++) {
      switch (op) {
        case 'abort-timeout': sink += AbortSignal.timeout(10000).aborted ? 0 : 1; break;
        case 'headers': { const h = new Headers(); h.set('content-type', 'application/json'); sink += 1; break; }
        case 'response': sink += new Response('{"a":1}', { status: 200 }).status; break;
        case 'response-bytes-headers': { const h = new Headers(); h.set('content-type', 'application/json'); sink += new Response(new Uint8Array(100), { status: 200, headers: h }).status; break; }
        case 'rsa-sign': await crypto.subtle.sign('RSASSA-PKCS1-v1_5', rsa, data); break;
        case 'rsa-verify': sink += (await crypto.subtle.verify('RSASSA-PKCS1-v1_5', rsaPublic, rsaSignature, data)) ? 1 : 0; break;
        case 'aes-gcm-decrypt': sink += (await crypto.subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, sealed)).byteLength; break;
        case 'hmac-sign': await crypto.subtle.sign('HMAC', hmac, data); break;
        case 'random-16': crypto.getRandomValues(new Uint8Array(16)); break;
        case 'console-log': console.log('{"level":"info","event":"callback","status":200}'); break;
        case 'date-now': sink += Date.now(); break;
        default: break;
      }
    }
    return new Response(String(sink));
  },
};`;

const CALLS = { 'abort-timeout': 2000, headers: 2000, response: 2000, 'response-bytes-headers': 2000, 'rsa-sign': 100, 'rsa-verify': 500, 'aes-gcm-decrypt': 500, 'hmac-sign': 500, 'random-16': 2000, 'console-log': 2000, 'date-now': 2000 };
const mf = new Miniflare({ modules: true, script: SCRIPT, compatibilityDate: COMPATIBILITY_DATE, host: '127.0.0.1', port: 0, handleRuntimeStdio: (stdout, stderr) => (stdout.resume(), stderr.resume()) });
try {
  const url = await mf.ready;
  const median = async (op, n, times) => {
    const ms = [];
    for (let r = 0; r < times; r++) {
      const start = process.hrtime.bigint();
      await (await fetch(`${url}?op=${op}&n=${n}`)).text();
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return ms.sort((a, b) => a - b)[Math.floor(times / 2)];
  };
  await median('rsa-sign', 1, 3); // the keys
  console.log(`# bench/prices.mjs, ${new Date().toISOString()}: µs per call (request time less an empty request's, over n)`);
  console.log('| call | n per request | µs per call |\n|---|---:|---:|');
  for (const [op, n] of Object.entries(CALLS)) {
    await median(op, n, 3); // warm-up: V8 optimizes the loop
    const empty = await median('none', 0, 15);
    const full = await median(op, n, 15);
    console.log(`| ${op} | ${n} | ${(((full - empty) / n) * 1000).toFixed(2)} |`);
  }
} finally {
  await mf.dispose();
}
