/** A small levelled logger writing one line per message to stderr. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  error(m: string): void;
  warn(m: string): void;
  info(m: string): void;
  debug(m: string): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (lvl: LogLevel) => (m: string) => {
    if (LOG_LEVELS.indexOf(lvl) <= rank) write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${m}`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export const silentLogger: Logger = createLogger('silent');
