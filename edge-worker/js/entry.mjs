// The worker's entry module (edge-worker/build/index.js after scripts/build-worker.sh): worker-build's
// output (glue.mjs) as it is, except that the session object's class extends `DurableObject`, which
// the runtime requires before it lets the worker call the object's methods over Workers RPC
// (`SessionObject::rpc`, edge-worker/src/session_object.rs). worker-build does that itself only
// for Emscripten builds.
import { DurableObject } from 'cloudflare:workers';
import worker, { SessionObject as RustSessionObject } from './glue.mjs';

export default worker;

export class SessionObject extends DurableObject {
  #object;

  constructor(ctx, env) {
    super(ctx, env);
    this.#object = new RustSessionObject(ctx, env);
  }

  fetch(request) {
    return this.#object.fetch(request);
  }

  alarm(info) {
    return this.#object.alarm(info);
  }

  /** `[status, body]`: the object's answer to `method` `path` with `body` (a string, or none). */
  rpc(method, path, body) {
    return this.#object.rpc(method, path, body);
  }
}
