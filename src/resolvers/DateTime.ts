import { GraphQLScalarType, Kind } from 'graphql';
import { InvalidInputError } from '../consent/errors.js';

// ISO-8601 with a date, a time and an explicit offset (Z or ±hh:mm); nothing looser is accepted.
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO-8601 date-time with offset, or throws InvalidInputError quoting the value. */
export function parseDateTime(value: unknown): Date {
  if (typeof value === 'string' && ISO_WITH_OFFSET.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new InvalidInputError(`DateTime must be an ISO-8601 string with an offset, such as "2026-01-31T12:00:00Z", but got: ${JSON.stringify(value)?.slice(0, 80)}`);
}

/** The `DateTime` scalar: `Date` inside, ISO-8601 (UTC, `Z`) outside. */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time with an explicit offset.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    throw new TypeError(`DateTime cannot serialize ${typeof value}`);
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new InvalidInputError(`DateTime must be a string literal, but got a ${ast.kind}`);
    return parseDateTime(ast.value);
  },
});
