// Shortens the names that tie the wasm to its wasm-bindgen glue, in both files:
//   node checkout-wasm/tools/short-names.mjs <dir with checkout_wasm_bg.wasm and checkout_wasm.js>
// wasm-bindgen names every import after the binding and a 16-hex-digit hash
// (`__wbg_set_innerHTML_a9d3a267967b5117`) and its exports after Rust paths
// (`wasm_bindgen__convert__closures_____invoke__h28914b4e8411a817`): the names are written twice
// (the wasm's import and export sections, the glue's import object and `wasm.NAME` calls), the
// hashes do not compress, and a minifier cannot rename object keys or properties. Run by
// scripts/build-widget.sh after wasm-bindgen and before esbuild.
// Imports of the glue module get short names (and the module itself a short name); exports all but
// `memory` do. The wasm's other sections are copied unchanged (function indices do not move).
// Fails loudly when a name it renames is not found in the glue as expected.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: short-names.mjs <dir>');
const wasmPath = path.join(dir, 'checkout_wasm_bg.wasm');
const jsPath = path.join(dir, 'checkout_wasm.js');
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, 'utf8');

const GLUE_MODULE = './checkout_wasm_bg.js';
const SHORT_MODULE = 'a';

// Identifiers a, b, …, z, A, …, Z, a0, …: valid as object keys and after `wasm.`.
const FIRST = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const REST = FIRST + '0123456789';
function shortName(n) {
  let s = FIRST[n % FIRST.length];
  n = Math.floor(n / FIRST.length);
  while (n > 0) {
    n -= 1;
    s += REST[n % REST.length];
    n = Math.floor(n / REST.length);
  }
  return s;
}

// --- wasm reading and writing ---
let p = 0;
const uleb = () => {
  let r = 0, shift = 0, b;
  do { b = wasm[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return r;
};
const encodeUleb = (n) => {
  const out = [];
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b); } while (n > 0);
  return Buffer.from(out);
};
const readName = () => { const len = uleb(); const s = wasm.subarray(p, p + len).toString('utf8'); p += len; return s; };
const encodeName = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([encodeUleb(b.length), b]); };

if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath}: not a wasm module`);
const parts = [wasm.subarray(0, 8)];
const importNames = new Map(); // old → new, imports of the glue module
const exportNames = new Map(); // old → new
let next = 0;
p = 8;
while (p < wasm.length) {
  const id = wasm[p++];
  const size = uleb();
  const start = p;
  const end = start + size;
  if (id === 2) {
    const pieces = [];
    const count = uleb();
    pieces.push(encodeUleb(count));
    for (let i = 0; i < count; i++) {
      let module = readName();
      let name = readName();
      const descStart = p;
      const kind = wasm[p++];
      if (kind === 0) uleb(); // function: type index
      else if (kind === 1) { p++; const flags = uleb(); uleb(); if (flags & 1) uleb(); } // table
      else if (kind === 2) { const flags = uleb(); uleb(); if (flags & 1) uleb(); } // memory
      else if (kind === 3) { p += 2; } // global: valtype, mutability
      else if (kind === 4) { p++; uleb(); } // tag
      else throw new Error(`import kind ${kind} not understood`);
      if (module === GLUE_MODULE) {
        if (!importNames.has(name)) importNames.set(name, shortName(next++));
        name = importNames.get(name);
        module = SHORT_MODULE;
      }
      pieces.push(encodeName(module), encodeName(name), wasm.subarray(descStart, p));
    }
    if (p !== end) throw new Error('import section not read to its end');
    const body = Buffer.concat(pieces);
    parts.push(Buffer.from([id]), encodeUleb(body.length), body);
  } else if (id === 7) {
    const pieces = [];
    const count = uleb();
    pieces.push(encodeUleb(count));
    for (let i = 0; i < count; i++) {
      let name = readName();
      const descStart = p;
      p++; // kind
      uleb(); // index
      if (name !== 'memory') {
        if (!exportNames.has(name)) exportNames.set(name, shortName(next++));
        name = exportNames.get(name);
      }
      pieces.push(encodeName(name), wasm.subarray(descStart, p));
    }
    if (p !== end) throw new Error('export section not read to its end');
    const body = Buffer.concat(pieces);
    parts.push(Buffer.from([id]), encodeUleb(body.length), body);
  } else {
    parts.push(wasm.subarray(start - 1 - encodeUleb(size).length, end));
  }
  p = end;
}

// --- the glue ---
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const replaceAll = (pattern, replacement, what) => {
  let n = 0;
  js = js.replace(pattern, (...m) => { n++; return replacement(...m); });
  if (n === 0) throw new Error(`${jsPath}: ${what} not found`);
};
// Imports are keys of the glue module's import object: `NAME: function(`.
for (const [from, to] of importNames) {
  replaceAll(new RegExp(`(^|[\\s,{])${escape(from)}(?=\\s*:)`, 'gm'), (_, before) => `${before}${to}`, `import ${from}`);
}
replaceAll(new RegExp(`"${escape(GLUE_MODULE)}"(?=\\s*:)`, 'g'), () => `"${SHORT_MODULE}"`, `module ${GLUE_MODULE}`);
// Exports are read as `wasm.NAME`.
for (const [from, to] of exportNames) {
  const pattern = new RegExp(`\\bwasm\\.${escape(from)}\\b`, 'g');
  if (!pattern.test(js)) continue; // an export the glue never calls (e.g. a table it does not use)
  replaceAll(pattern, () => `wasm.${to}`, `export ${from}`);
}
// Nothing may use a renamed name in another way: import names anywhere, export names as
// properties or strings (local JS functions named like an export, wasm-bindgen's closure shims,
// are fine: they are minified).
for (const from of importNames.keys()) {
  if (js.includes(from)) throw new Error(`${jsPath}: import ${from} is still used under its old name`);
}
for (const from of exportNames.keys()) {
  if (new RegExp(`[.'"\`]${escape(from)}\\b`).test(js)) throw new Error(`${jsPath}: export ${from} is still used under its old name`);
}

writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, js);
console.log(`short-names: ${importNames.size} imports, ${exportNames.size} exports renamed`);
