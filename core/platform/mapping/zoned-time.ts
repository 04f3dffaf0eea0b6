import { TZDate, tz, tzOffset } from '@date-fns/tz';
import { format, isValid, parse } from 'date-fns';

/**
 * Wall-clock times of a named zone, fast. `TZDate` asks Intl for the zone's offset on every field
 * it touches (a dozen times per parse); here a pattern is read as plain fields and the offset is
 * asked for once or twice. Whenever the shortcut could differ from TZDate (a pattern with zone
 * tokens, a wall time the process's own zone skips), TZDate does the work.
 */

const REFERENCE = new Date(0);

/** Patterns of plain fields only (quoted text aside): no zone, week or era tokens. */
function isPlainFieldPattern(pattern: string): boolean {
  return /^[yMdHmsS]*$/.test(pattern.replace(/'[^']*'/g, '').replace(/[^A-Za-z]/g, ''));
}

const plainPatterns = new Map<string, boolean>();

function plain(pattern: string): boolean {
  let answer = plainPatterns.get(pattern);
  if (answer === undefined) {
    answer = isPlainFieldPattern(pattern);
    plainPatterns.set(pattern, answer);
  }
  return answer;
}

/** The instant at which the clocks of `zone` show the wall time `wallAsUtc` (wall fields read as UTC). */
function instantOfWallTime(wallAsUtc: number, zone: string): number {
  const first = tzOffset(zone, new Date(wallAsUtc));
  const guess = wallAsUtc - first * 60_000;
  const second = tzOffset(zone, new Date(guess));
  return second === first ? guess : wallAsUtc - second * 60_000;
}

/** Reads `value` as wall-clock time of `zone` in `pattern`; an invalid Date when it is not one. */
export function parseInZone(value: string, pattern: string, zone: string): Date {
  if (plain(pattern)) {
    const local = parse(value, pattern, REFERENCE);
    if (!isValid(local)) return local;
    // The process's own zone may skip that wall time (a DST gap): then the fields moved.
    if (format(local, pattern) === value) {
      const wall = Date.UTC(
        local.getFullYear(),
        local.getMonth(),
        local.getDate(),
        local.getHours(),
        local.getMinutes(),
        local.getSeconds(),
        local.getMilliseconds(),
      );
      return new Date(instantOfWallTime(wall, zone));
    }
  }
  const zoned = parse(value, pattern, REFERENCE, { in: tz(zone) });
  return new Date(zoned.getTime());
}

/** Writes `date` as the wall-clock time of `zone` in `pattern`. */
export function formatInZone(date: Date, pattern: string, zone: string): string {
  if (plain(pattern)) {
    const wall = new Date(date.getTime() + tzOffset(zone, date) * 60_000);
    const local = new Date(REFERENCE);
    local.setFullYear(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate());
    local.setHours(wall.getUTCHours(), wall.getUTCMinutes(), wall.getUTCSeconds(), wall.getUTCMilliseconds());
    if (local.getDate() === wall.getUTCDate() && local.getHours() === wall.getUTCHours())
      return format(local, pattern);
  }
  return format(new TZDate(date.getTime(), zone), pattern);
}
