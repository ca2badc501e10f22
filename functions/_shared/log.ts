// JSON-lines logger: one object per line with time, level, msg and the request's request_id /
// correlation_id, so a request can be followed from the gateway through the outbox to the consumers.
// Runtime-agnostic (Deno and Node): writes through console unless a sink is given (tests pass one).
import { redactSecrets } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogRecord = { time: string; level: LogLevel; msg: string } & LogFields;
export type LogSink = (line: string, level: LogLevel) => void;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` (e.g. request_id, correlation_id) to every line. */
  child(fields: LogFields): Logger;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Redaction hook: every record passes through here right before it is serialised, and nowhere else.
 * Secret redaction (values of SECRET_VARIABLES, tokens, passwords) is plugged in at this one place.
 */
function redactRecord(record: LogRecord): LogRecord {
  return redactSecrets(record);
}

const consoleSink: LogSink = (line, level) => {
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
};

/** Errors do not survive JSON.stringify; keep their name, message, code and stack. */
function serialiseValue(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack };
  }
  return value;
}

export interface LoggerOptions {
  level?: LogLevel;
  base?: LogFields;
  sink?: LogSink;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const sink = options.sink ?? consoleSink;
  const now = options.now ?? (() => new Date());

  const build = (base: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVEL_ORDER[level] < threshold) return;
      const record: LogRecord = { time: now().toISOString(), level, msg, ...base };
      for (const [key, value] of Object.entries(fields ?? {})) record[key] = serialiseValue(value);
      let line: string;
      try {
        line = JSON.stringify(redactRecord(record));
      } catch {
        line = JSON.stringify({ time: record.time, level, msg, log_error: 'fields could not be serialised' });
      }
      sink(line, level);
    };
    return {
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      child: (fields) => build({ ...base, ...fields }),
    };
  };
  return build(options.base ?? {});
}
