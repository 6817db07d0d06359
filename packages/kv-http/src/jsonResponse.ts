import type { ServerResponse } from 'node:http';

/**
 * Answers with a JSON body, written once with its length: what express's `res.json` sends (the
 * same content type, status and body) without its per-response extras, which the hot routes
 * paid on every request (issue 11): a weak ETag hashed over the body, a freshness check against
 * the request's conditional headers, a charset and MIME lookup, and the conversion of the body
 * to a Buffer that makes Node write headers and body as two chunks. A HEAD request gets the
 * headers only (Node drops the body itself).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
