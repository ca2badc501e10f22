// What the workers' operator commands share: the usage error (exit 2) and the time options' format.

/** A command line that cannot work: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** ISO 8601 (2026-11-27T10:00:00Z) or an age before now: 90s, 15m, 2h, 3d. */
export function parseTime(value: string, option: string, now = Date.now()): Date {
  const relative = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  if (relative) {
    const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(relative[1]) * unitMs);
  }
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${option} '${value}' is not a time: use ISO 8601 (2026-11-27T10:00:00Z) or an age such as 15m, 2h or 3d`);
  }
  return date;
}
