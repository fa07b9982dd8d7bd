import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/consent/errors.js';
import { parseDateTime } from '../../src/resolvers/DateTime.js';

describe('parseDateTime given impossible or inexact instants', () => {
  it.each([
    ['February 31st', '2030-02-31T00:00:00Z', /day must be 01 to 28/],
    ['February 30th of a leap year', '2020-02-30T00:00:00Z', /day must be 01 to 29/],
    ['February 29th of a year that is not leap', '2100-02-29T00:00:00Z', /day must be 01 to 28/],
    ['April 31st', '2030-04-31T00:00:00Z', /day must be 01 to 30/],
    ['day 00', '2030-01-00T00:00:00Z', /day must be 01 to 31/],
    ['month 13', '2030-13-01T00:00:00Z', /month must be 01 to 12/],
    ['month 00', '2030-00-01T00:00:00Z', /month must be 01 to 12/],
    ['hour 24', '2030-01-01T24:00:00Z', /hour must be 00 to 23/],
    ['minute 60', '2030-01-01T12:60:00Z', /minute must be 00 to 59/],
    ['second 60 (a leap second)', '2016-12-31T23:59:60Z', /second must be 00 to 59/],
    ['an offset hour of 24', '2030-01-01T00:00:00+24:00', /offset must be from -23:59 to \+23:59/],
    ['an offset minute of 60', '2030-01-01T00:00:00-05:60', /offset must be from -23:59 to \+23:59/],
    ['microseconds that are not zero', '2030-01-01T00:00:00.123456Z', /only milliseconds are stored/],
    ['a non-zero tenth digit of a nanosecond fraction', '2030-01-01T00:00:00.000000001Z', /only milliseconds are stored/],
  ])('refuses %s with a message quoting the value', (_name, value, reason) => {
    expect(() => parseDateTime(value)).toThrow(InvalidInputError);
    expect(() => parseDateTime(value)).toThrow(reason);
    expect(() => parseDateTime(value)).toThrow(`but got: ${JSON.stringify(value)}`);
  });

  it.each([
    ['no offset', '2030-01-01T00:00:00'],
    ['a date only', '2030-01-01'],
    ['a compact offset', '2030-01-01T00:00:00+0100'],
    ['a number', 1893456000000],
    ['null', null],
  ])('refuses %s as not an ISO-8601 date-time with offset', (_name, value) => {
    expect(() => parseDateTime(value)).toThrow(/DateTime must be an ISO-8601 string with an offset/);
  });

  it.each([
    ['an offset, normalised to UTC', '2031-01-01T01:00:00+01:00', '2031-01-01T00:00:00.000Z'],
    ['a negative offset crossing midnight', '2030-12-31T19:30:00-04:30', '2031-01-01T00:00:00.000Z'],
    ['February 29th of a leap year', '2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['the last second of a day', '2030-01-01T23:59:59.999Z', '2030-01-01T23:59:59.999Z'],
    ['minutes without seconds', '2030-06-15T08:30Z', '2030-06-15T08:30:00.000Z'],
    ['trailing zeros beyond milliseconds', '2030-01-01T00:00:00.120000000Z', '2030-01-01T00:00:00.120Z'],
    ['a one-digit fraction', '2030-01-01T00:00:00.5Z', '2030-01-01T00:00:00.500Z'],
    ['a year below 100', '0099-01-01T00:00:00Z', '0099-01-01T00:00:00.000Z'],
    ['offset +23:59', '2030-01-02T23:59:00+23:59', '2030-01-02T00:00:00.000Z'],
  ])('accepts %s as the same instant', (_name, value, iso) => {
    expect(parseDateTime(value).toISOString()).toBe(iso);
  });
});
