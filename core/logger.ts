import pino, { type Logger } from 'pino';

/** The process logger: JSON lines on stdout (pino), redacting anything that looks like a credential. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: ['token', '*.token', 'headers.cookie', 'headers.authorization', 'req.headers.cookie', 'req.headers.authorization'], censor: '[redacted]' },
  });
}
