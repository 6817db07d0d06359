import type { ServerResponse } from 'node:http';
import { type ErrorResponseBody, type ResponseErrorCode, statusOf } from '../errors.js';

/** A reason to refuse a request, before it is turned into a response. */
export interface Rejection {
  readonly code: ResponseErrorCode;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function rejection(code: ResponseErrorCode, message: string, headers?: Record<string, string>): Rejection {
  return { code, message, headers };
}

/** Answers with the coded JSON error body every refusal uses. */
export function sendError(res: ServerResponse, { code, message, headers }: Rejection): void {
  if (res.headersSent) return;
  const body: ErrorResponseBody = { error: { code, message } };
  const json = JSON.stringify(body);
  res.statusCode = statusOf[code];
  for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(json));
  res.end(json);
}
