// The floor worker's entry module (bench/floor-worker/build/index.js after scripts/bench.sh), as
// edge-worker/js/entry.mjs is edge-worker's: worker-build's output (glue.mjs) as it is, except that
// the object's class extends `DurableObject`, which Workers RPC requires.
import { DurableObject } from 'cloudflare:workers';
import worker, { Floor as RustFloor } from './glue.mjs';

export default worker;

export class Floor extends DurableObject {
  #object;

  constructor(ctx, env) {
    super(ctx, env);
    this.#object = new RustFloor(ctx, env);
  }

  fetch(request) {
    return this.#object.fetch(request);
  }

  op(text) {
    return this.#object.op(text);
  }
}
