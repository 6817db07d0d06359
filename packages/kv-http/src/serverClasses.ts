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
//
// The classes are subclasses of node's. A first version ran node's constructor on an object
// made by a plain function whose `prototype` was the app's: V8 sized such objects for that
// function, which sets no property, so the 40-odd properties node's constructors add made each
// one a dictionary (slow properties: measured with %HasFastProperties, and about 2.5 µs to
// construct a response instead of 0.2-0.6). A subclass's objects are sized by node's own
// constructors and keep fast properties. Its prototype cannot be the app's own object, so the
// app's `request` and `response` become the subclasses' prototypes, which inherit from the
// app's originals: express then finds every object already on the prototype it would set.
import http from 'node:http';

/** The http(s).createServer options that make `app`'s requests and responses born with its prototypes. */
export interface ExpressServerClasses {
  readonly IncomingMessage: typeof http.IncomingMessage;
  readonly ServerResponse: typeof http.ServerResponse;
}

/**
 * What this needs of an express 4 or 5 application: its request and response prototypes,
 * which it replaces with the classes' own (each inheriting from the one it replaces).
 */
export interface ExpressAppPrototypes {
  request: object;
  response: object;
}

type NodeClass = abstract new (...args: never[]) => object;

/** A subclass of node's `base` whose prototype inherits from `proto`. */
function bornWith<T extends NodeClass>(base: T, proto: object): T {
  const Born = class extends (base as unknown as new (...args: unknown[]) => object) {};
  Object.setPrototypeOf(Born.prototype, proto);
  return Born as unknown as T;
}

/**
 * Options for `http.createServer(options, app)` or `https.createServer({ ...tls, ...options }, app)`
 * whose requests and responses are created as the app's, so express need not re-prototype them
 * (see the top of this file for why that is faster). It sets `app.request` and `app.response`
 * to the classes' prototypes, which inherit from the app's originals: every express feature
 * (and whatever was added to `app.request` or `app.response`) works as before. Call it once per
 * app: a second call derives new classes from the first ones, and the first server's objects
 * are then re-prototyped again (correct, but slow).
 */
export function expressServerClasses(app: ExpressAppPrototypes): ExpressServerClasses {
  const request = checkedPrototype(app.request, http.IncomingMessage, 'request');
  const response = checkedPrototype(app.response, http.ServerResponse, 'response');
  const IncomingMessage = bornWith(http.IncomingMessage, request);
  const ServerResponse = bornWith(http.ServerResponse, response);
  app.request = IncomingMessage.prototype;
  app.response = ServerResponse.prototype;
  return { IncomingMessage, ServerResponse };
}

function checkedPrototype(proto: unknown, base: { prototype: object }, what: string): object {
  if (typeof proto !== 'object' || proto === null || !Object.prototype.isPrototypeOf.call(base.prototype, proto)) {
    throw new TypeError(`expressServerClasses: app.${what} must be an express app's ${what} prototype (one that inherits from node:http's), got ${proto === null ? 'null' : typeof proto}`);
  }
  return proto;
}
