import { GraphQLScalarType, Kind } from 'graphql';
import { InvalidInputError } from '../consent/errors.js';

// ISO-8601 with a date, a time and an explicit offset (Z or ±hh:mm); nothing looser is accepted.
// The fields are checked one by one below: `Date` itself rolls 2030-02-31 over into March.
const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an ISO-8601 date-time with offset into the instant it names, or throws InvalidInputError
 * quoting the value: impossible dates and times (February 31st, 24:00, second 60, offset +24:00)
 * and fractions finer than a millisecond are refused rather than rounded or rolled over.
 */
export function parseDateTime(value: unknown): Date {
  const fields = typeof value === 'string' ? ISO_WITH_OFFSET.exec(value) : null;
  if (fields === null) {
    throw new InvalidInputError(`DateTime must be an ISO-8601 string with an offset, such as "2026-01-31T12:00:00Z", but got: ${quoted(value)}`);
  }
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = [1, 2, 3, 4, 5, 6, 9, 10].map((i) => Number(fields[i] ?? 0)) as [
    number, number, number, number, number, number, number, number,
  ];
  const fraction = fields[7] ?? '';
  const impossible =
    month < 1 || month > 12 ? 'month must be 01 to 12'
    : day < 1 || day > daysIn(year, month) ? `day must be 01 to ${daysIn(year, month)} in that month`
    : hour > 23 ? 'hour must be 00 to 23'
    : minute > 59 ? 'minute must be 00 to 59'
    : second > 59 ? 'second must be 00 to 59'
    : offsetHour > 23 || offsetMinute > 59 ? 'offset must be from -23:59 to +23:59'
    : /[1-9]/.test(fraction.slice(3)) ? 'only milliseconds are stored: finer fractions would be changed'
    : null;
  if (impossible !== null) throw new InvalidInputError(`DateTime must name a real instant (${impossible}), but got: ${quoted(value)}`);

  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0 to 99 as written.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  const offsetMs = (fields[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute) * 60_000;
  return new Date(date.getTime() - offsetMs);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function quoted(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 80) ?? String(value);
}

// Statements' dates are shared by every request that reads them from the projection cache, so
// their ISO strings are kept rather than formatted again for each of the thousands of fields a
// batch serialises (BENCHMARKS.md, where the time goes).
const isoStrings = new WeakMap<Date, { readonly time: number; readonly iso: string }>();

/** The `DateTime` scalar: `Date` inside, ISO-8601 (UTC, `Z`) outside. */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time with an explicit offset; impossible instants are refused, and values are returned in UTC.',
  serialize(value) {
    if (value instanceof Date) {
      // A Date can be changed in place (setTime): the kept string is used only while the time matches.
      const time = value.getTime();
      const kept = isoStrings.get(value);
      if (kept !== undefined && kept.time === time) return kept.iso;
      const iso = value.toISOString();
      isoStrings.set(value, { time, iso });
      return iso;
    }
    throw new TypeError(`DateTime cannot serialize ${typeof value}`);
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new InvalidInputError(`DateTime must be a string literal, but got a ${ast.kind}`);
    return parseDateTime(ast.value);
  },
});
