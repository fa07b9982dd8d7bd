import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CONSENT_SDL } from '../../src/schema.js';
import { CALLER_DEPENDENT_EVENT_FIELDS, operationKey } from '../../src/subscriptions/sharedExecution.js';

const WATCH = 'subscription Watch($after: String, $purposes: [ConsentPurpose!]) { consentChanged(after: $after, purposes: $purposes) { id actor feedCursor } }';
const key = (query: string, variableValues: Record<string, unknown> = {}, operationName?: string) => operationKey({ document: parse(query), variableValues, operationName });

describe('operationKey: which subscribers may share an event result', () => {
  it('is the same whatever the root field arguments (cursor, purposes), given as variables or inline', () => {
    expect(key(WATCH, { after: 'abc', purposes: ['AI_TRAINING'] })).toBe(key(WATCH, {}));
    expect(key('subscription { consentChanged(after: "x") { id } }')).toBe(key('subscription { consentChanged(purposes: [ADVERTISING]) { id } }'));
  });

  it('differs with the selection, its alias, the operation name, and the variables the selection reads', () => {
    expect(key(WATCH)).not.toBe(key(WATCH.replace('feedCursor', 'hash')));
    expect(key('subscription { consentChanged { id } }')).not.toBe(key('subscription { c: consentChanged { id } }'));
    const two = 'subscription A { consentChanged { id } } subscription B { consentChanged { id actor } }';
    expect(key(two, {}, 'A')).not.toBe(key(two, {}, 'B'));
    const include = 'subscription W($who: Boolean!) { consentChanged { id actor @include(if: $who) } }';
    expect(key(include, { who: true })).not.toBe(key(include, { who: false }));
    expect(key(include, { who: true })).toBe(key(include, { who: true }));
  });
});

describe('ConsentEvent, the shared result', () => {
  it('has no field whose value depends on the caller other than those the visibility class covers', () => {
    // A new ConsentEvent field must be checked: if its value depends on the caller (token, scopes,
    // subject), sharedExecution.ts's visibility class must cover it before it is listed here.
    const type = parse(CONSENT_SDL).definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'ConsentEvent');
    const fields = type!.fields!.map((f) => f.name.value).sort();
    const callerIndependent = ['artistId', 'at', 'choice', 'expiresAt', 'feedCursor', 'hash', 'id', 'kind', 'prevHash', 'purpose', 'seq', 'source', 'termsVersion', 'trackId'];
    expect(fields).toEqual([...callerIndependent, ...CALLER_DEPENDENT_EVENT_FIELDS].sort());
  });
});
