import { HttpProblem } from './problem.ts';
import { answerProblem, type EdgeHook } from './edge.ts';

/** Largest JSON body (GeoJSON features, drawn areas, batches), in bytes. */
export const JSON_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

/**
 * Refuses, from the Content-Length header alone, a body larger than its route
 * takes (imports: IMPORT_MAX_MB; everything else: JSON_BODY_LIMIT_BYTES) with
 * 413 at once, before a byte of it is read; the connection is closed rather than
 * drained. Bodies without a length (chunked) are still cut off by the body
 * parsers at the same limits.
 */
export function bodyLimitHook(importMaxMb: number): EdgeHook {
  const importMax = Math.floor(importMaxMb * 1024 * 1024);
  return (req, res) => {
    const header = req.headers['content-length'];
    if (header === undefined) return false;
    const limit = req.url?.startsWith('/import/') ? importMax : JSON_BODY_LIMIT_BYTES;
    const length = Number(header);
    if (/^[0-9]{1,16}$/.test(header) && length <= limit) return false;
    const problem = /^[0-9]{1,16}$/.test(header)
      ? new HttpProblem(413, 'Request body too large', `Content-Length ${length} exceeds the limit of ${limit} bytes for this route`, [
          { name: 'Content-Length', reason: `at most ${limit} bytes` },
        ])
      : new HttpProblem(400, 'Invalid request', 'Content-Length: a decimal number of bytes', [{ name: 'Content-Length', reason: 'a decimal number of bytes' }]);
    return answerProblem(req, res, problem, ['Connection', 'close']);
  };
}
