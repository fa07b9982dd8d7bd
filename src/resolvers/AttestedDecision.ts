import { GraphQLScalarType } from 'graphql';
import { InvalidInputError } from '../consent/errors.js';

/** The `AttestedDecision` scalar: served as the JSON object it is; never accepted as input. */
export const AttestedDecision = new GraphQLScalarType({
  name: 'AttestedDecision',
  serialize: (value) => value,
  // No argument takes it; a literal or variable of this type could only come from a hand-made query.
  parseValue: () => {
    throw new InvalidInputError('AttestedDecision is an output type only.');
  },
  parseLiteral: () => {
    throw new InvalidInputError('AttestedDecision is an output type only.');
  },
});
