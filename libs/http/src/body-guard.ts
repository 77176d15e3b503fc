import type { NextFunction, Request, Response } from 'express';
import { ProblemException } from './problem.exception';

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in a UTF-8 JSON text, stopping as soon as it passes
 * `limit` (one pass over the bytes, strings skipped). Multi-byte UTF-8 sequences never contain
 * bytes below 0x80, so brackets and quotes are found byte by byte.
 */
export function jsonDepthExceeds(buf: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** An error body-parser passes on as is (its `status` and `type` are kept). */
class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * body-parser's `verify` hook, run on the raw (decompressed) bytes before parsing: JSON must be
 * UTF-8 (RFC 8259 §8.1), and nested no deeper than `maxDepth`. A 10,000-deep array parses, but
 * every recursive walk after it (validation, serialisation, logging) may overflow the stack.
 */
export function jsonBodyVerifier(maxDepth: number) {
  return (_req: unknown, _res: unknown, buf: Buffer, encoding: string | null): void => {
    if (encoding && !/^utf-?8$/i.test(encoding)) {
      throw new BodyError(415, 'charset.unsupported', `unsupported charset "${encoding}"`);
    }
    if (jsonDepthExceeds(buf, maxDepth)) {
      throw new BodyError(400, 'entity.too.deep', `JSON nested deeper than ${maxDepth} levels`);
    }
  };
}

const SUPPORTED_ENCODINGS = 'gzip, deflate, br';

/**
 * The problem for an error raised while reading a request body (body-parser, raw-body, zlib), or
 * undefined for any other error. Every one of them is the client's doing: a 4xx, never a 500.
 */
export function bodyProblem(e: unknown): ProblemException | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const err = e as { status?: unknown; type?: unknown; code?: unknown; encoding?: unknown };
  const status = typeof err.status === 'number' ? err.status : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  const type = typeof err.type === 'string' ? err.type : undefined;
  switch (type) {
    case 'entity.too.large':
      return new ProblemException(413, 'BODY_TOO_LARGE', 'request body too large');
    case 'entity.parse.failed':
      return new ProblemException(400, 'INVALID_JSON', 'request body is not valid JSON');
    case 'entity.too.deep':
      return new ProblemException(400, 'JSON_TOO_DEEP', (e as Error).message);
    case 'encoding.unsupported':
      return new ProblemException(
        415,
        'UNSUPPORTED_CONTENT_ENCODING',
        `Content-Encoding ${JSON.stringify(typeof err.encoding === 'string' ? err.encoding.slice(0, 64) : '')} is not supported; send identity, ${SUPPORTED_ENCODINGS}`,
        undefined,
        { 'Accept-Encoding': SUPPORTED_ENCODINGS },
      );
    case 'charset.unsupported':
      return new ProblemException(415, 'UNSUPPORTED_CHARSET', 'JSON bodies must be UTF-8');
    case 'request.size.invalid':
      return new ProblemException(
        400,
        'BODY_LENGTH_MISMATCH',
        'request body length does not match Content-Length',
      );
    case 'request.aborted':
      return new ProblemException(400, 'REQUEST_ABORTED', 'the request was aborted');
    default:
      break;
  }
  // zlib errors (a body that is not valid gzip, deflate or br data) reach here wrapped by
  // body-parser as a plain 400 without a type.
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
    return new ProblemException(
      400,
      'INVALID_CONTENT_ENCODING',
      'the request body does not decode with its Content-Encoding',
    );
  }
  return new ProblemException(status, 'UNREADABLE_BODY', 'the request body could not be read');
}

/**
 * An Express error middleware placed right after the body parser: its errors continue as
 * problems (Nest would otherwise map some to a 400 quoting the parser's message, and leave others,
 * such as a 415 or a zlib error, to become a 500).
 */
export function bodyErrorsAsProblems(
  err: unknown,
  _req: Request,
  _res: Response,
  next: NextFunction,
): void {
  next(bodyProblem(err) ?? err);
}
