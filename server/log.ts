import { pino, type Logger as Pino } from 'pino';

/**
 * Structured logs: one JSON object per line on stderr (pino), so a log shipper
 * can index `level`, `time`, `msg`, `reqId` and the other fields without
 * parsing text. Code logs through this small interface only.
 */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type { LogFields, Logger } from '../catalog/ports.ts';
import type { LogFields, Logger } from '../catalog/ports.ts';

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
