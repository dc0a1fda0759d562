import { pino, type Logger as Pino } from 'pino';

/**
 * Structured logs: one JSON object per line on stderr (pino), so a log shipper
 * can index `level`, `time`, `msg`, `reqId` and the other fields without
 * parsing text. Code logs through this small interface only.
 */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra fields of one line, e.g. `{ reqId, status, ms }`. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  error(m: string, fields?: LogFields): void;
  warn(m: string, fields?: LogFields): void;
  info(m: string, fields?: LogFields): void;
  debug(m: string, fields?: LogFields): void;
  /** True when lines at `level` are written (skip building costly fields otherwise). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  /** A logger adding `bindings` to every line (e.g. the request id). */
  child(bindings: LogFields): Logger;
}

function wrap(p: Pino): Logger {
  const at = (lvl: 'error' | 'warn' | 'info' | 'debug') => (m: string, fields?: LogFields) => {
    if (fields) p[lvl](fields, m);
    else p[lvl](m);
  };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    enabled: (lvl) => p.isLevelEnabled(lvl),
    child: (bindings) => wrap(p.child(bindings)),
  };
}

/**
 * A logger at `level`. Lines go to stderr, or to `write` (one JSON line per
 * call, without the newline) when given, which is how tests read them.
 */
export function createLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  const destination = write ? { write: (chunk: string) => write(chunk.replace(/\n$/, '')) } : pino.destination({ fd: 2, sync: true });
  return wrap(
    pino(
      {
        level,
        base: { pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        // Level names rather than numbers: readable without a pino-aware viewer.
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    ),
  );
}

export const silentLogger: Logger = createLogger('silent');
