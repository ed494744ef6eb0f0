// Structured logs (one JSON object per line on stdout), so that operators' tooling and our own
// tests can read what the process says, such as the addresses it actually bound.

import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
