import { Kind, parse } from 'graphql';
import type { ExampleOperation } from '../../src/playground/playgroundOptions.js';
import { DEMO_ARTISTS, DEMO_FEATURED_TRACK_ID, DEMO_REMIX_TRACK_ID, DEMO_TRACKS } from './demoData.js';

const artist = DEMO_ARTISTS[0]!;
// The demo track with its own statement (AI training opted out), so its decisions show every basis.
const track = DEMO_TRACKS.find((t) => t.id === 'track-aurora-2') ?? DEMO_TRACKS[0]!;
const firstTrack = DEMO_TRACKS.find((t) => t.artistId === artist.id)!;
const featured = DEMO_TRACKS.find((t) => t.id === DEMO_FEATURED_TRACK_ID)!;
const remix = DEMO_TRACKS.find((t) => t.id === DEMO_REMIX_TRACK_ID)!;

// A featured vocalist and a remix's original artist, as a caller without the gateway passes them.
const DECISIONS_WITH_CREDITS: ExampleOperation = {
  title: 'Decisions with credits, in bulk',
  query: /* GraphQL */ `# Up to 1000 works in one read; pass each track's credits, or only its main artist decides.
query DecisionsWithCredits {
  consentDecisions(purpose: VOICE_REPLICATION, requests: [
    { artistId: "${featured.artistId}", trackId: "${featured.id}", featuredArtistIds: ${ids(featured.featuredArtistIds)} }
    { artistId: "${remix.artistId}", trackId: "${remix.id}", originalArtistIds: ${ids(remix.originalArtistIds)} }
  ]) {
    allowed basis scope
    parties { artistId role allowed basis scope }
  }
}`,
};

// The signed attestation an AI team stores with a training set (docs/federation.md, "For AI teams").
const TRAINING_SET_ATTESTATION: ExampleOperation = {
  title: 'Attest a training set',
  query: /* GraphQL */ `# Up to 10,000 works, signed (EdDSA); store the answer with the data set and check it later
# with npm run attestation:verify -- FILE (keys at /.well-known/jwks.json on the subgraph).
query AttestTrainingSet {
  trainingSetAttestation(purpose: GENERATIVE_AI_TRAINING, requests: [
    { artistId: "${featured.artistId}", trackId: "${featured.id}", featuredArtistIds: ${ids(featured.featuredArtistIds)} }
    { artistId: "${remix.artistId}", trackId: "${remix.id}", originalArtistIds: ${ids(remix.originalArtistIds)} }
    { artistId: "${track.artistId}", trackId: "${track.id}" }
  ]) {
    version purpose asOf issuedAt keyId policyVersion
    ledgerHead { position hash }
    counts { total allowed denied }
    merkleRoot decisions jws
  }
}`,
};

// Through the gateway the playground subscribes over SSE; the gateway subscribes to the subgraph over graphql-ws.
const WATCH_WITHDRAWALS: ExampleOperation = {
  title: 'Watch withdrawals (subscription)',
  query: /* GraphQL */ `# Pushes every change about voice replication (and the purposes above and below it) as it lands.
# Run "Set consent as the artist" in another tab to see one arrive. To resume after a disconnect,
# pass the last event's feedCursor as after: nothing is skipped or repeated.
subscription WatchWithdrawals {
  consentChanged(purposes: [VOICE_REPLICATION]) {
    artistId trackId purpose kind choice at feedCursor
  }
}`,
};

const SET_CONSENT: ExampleOperation = {
  title: 'Set consent as the artist',
  query: /* GraphQL */ `# Needs consent:write for the artist (the dev token has it) or consent:admin.
mutation SetConsentAsArtist {
  setConsent(input: {
    subject: { artistId: "${artist.id}", trackId: "${firstTrack.id}" }
    purpose: MUSIC_REPLICATION
    choice: DENY
    termsVersion: "tos-2026-11"
    source: "playground"
  }) {
    event { seq kind actor at hash prevHash }
    decision { purpose allowed basis scope }
    revision
  }
}`,
};

const CHANGE_CONSENTS: ExampleOperation = {
  title: 'Change consent in bulk',
  query: /* GraphQL */ `# Up to 1000 sets and clears in one call, answered in input order. All are checked first:
# one bad or forbidden change refuses the call (extensions.index says which) and nothing is written.
mutation ChangeConsentsInBulk {
  changeConsents(changes: [
    { set: { subject: { artistId: "${artist.id}" }, purpose: VOICE_REPLICATION, choice: DENY, termsVersion: "tos-2026-11", source: "playground" } }
    { set: { subject: { artistId: "${artist.id}", trackId: "${firstTrack.id}" }, purpose: RECOMMENDATION, choice: ALLOW, termsVersion: "tos-2026-11" } }
    { clear: { subject: { artistId: "${artist.id}", trackId: "${firstTrack.id}" }, purpose: MUSIC_REPLICATION } }
  ]) {
    event { seq kind artistId trackId purpose hash prevHash }
    decision { purpose allowed basis scope }
    revision
  }
}`,
};

/** Examples for the gateway: catalog data and consent in one query, and a change. */
export const GATEWAY_EXAMPLES: readonly ExampleOperation[] = [
  {
    title: 'Decisions for a track',
    query: /* GraphQL */ `# Every purpose for one track: the catalog gives title and artist, the consent subgraph the decisions.
query DecisionsForTrack {
  track(id: "${track.id}") {
    id
    title
    artist { name }
    consent {
      decisions { purpose allowed basis scope policyVersion }
    }
  }
}`,
  },
  {
    title: "An artist's settings",
    query: /* GraphQL */ `# What the artist has said, and what the platform decides for each purpose.
query ArtistSettings {
  artist(id: "${artist.id}") {
    name
    consent {
      decisions {
        purpose allowed basis scope
        statement { choice termsVersion source actor createdAt expiresAt }
      }
    }
  }
}`,
  },
  {
    title: 'Everyone credited on a track',
    query: /* GraphQL */ `# A featured vocalist and a remix's original artist decide for their own voice and music:
# AI uses need every credited artist to allow; the top-level answer is the first party that denies.
query CreditedParties {
  tracks(ids: ["${featured.id}", "${remix.id}"]) {
    id
    title
    artist { name }
    featuredArtists { name }
    originalArtists { name }
    consent {
      decision(purpose: VOICE_REPLICATION) {
        allowed basis scope
        parties { artistId role allowed basis }
      }
    }
  }
}`,
  },
  DECISIONS_WITH_CREDITS,
  TRAINING_SET_ATTESTATION,
  SET_CONSENT,
  CHANGE_CONSENTS,
  WATCH_WITHDRAWALS,
];

/** Examples for the subgraph on its own: the `_entities` calls the gateway makes, and a change. */
export const SUBGRAPH_EXAMPLES: readonly ExampleOperation[] = [
  {
    title: 'Decisions for a track',
    query: /* GraphQL */ `# What the gateway sends for a track: the catalog supplies artist { id } (@requires).
query DecisionsForTrack {
  _entities(representations: [{ __typename: "Track", id: "${track.id}", artist: { id: "${track.artistId}" } }]) {
    ... on Track {
      id
      consent { decisions { purpose allowed basis scope policyVersion } }
    }
  }
}`,
  },
  {
    title: "An artist's settings",
    query: /* GraphQL */ `query ArtistSettings {
  _entities(representations: [{ __typename: "Artist", id: "${artist.id}" }]) {
    ... on Artist {
      id
      consent {
        decisions {
          purpose allowed basis scope
          statement { choice termsVersion source actor createdAt expiresAt }
        }
      }
    }
  }
}`,
  },
  {
    title: 'Everyone credited on a track',
    query: /* GraphQL */ `# What the gateway sends for a track with a featured vocalist: the catalog supplies every credit (@requires).
query CreditedParties {
  _entities(representations: [{ __typename: "Track", id: "${featured.id}", artist: { id: "${featured.artistId}" }, featuredArtists: ${idObjects(featured.featuredArtistIds)}, originalArtists: ${idObjects(featured.originalArtistIds)} }]) {
    ... on Track {
      id
      consent {
        decision(purpose: VOICE_REPLICATION) {
          allowed basis scope
          parties { artistId role allowed basis }
        }
      }
    }
  }
}`,
  },
  DECISIONS_WITH_CREDITS,
  TRAINING_SET_ATTESTATION,
  SET_CONSENT,
  CHANGE_CONSENTS,
];

/** The names of the playground's example operations; the harness registers them so they always get their own metric label. */
export const EXAMPLE_OPERATION_NAMES: readonly string[] = Object.freeze([
  ...new Set(
    [...GATEWAY_EXAMPLES, ...SUBGRAPH_EXAMPLES].flatMap(({ query }) =>
      parse(query).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name !== undefined ? [d.name.value] : [])),
    ),
  ),
]);

function ids(list: readonly string[] | undefined): string {
  return `[${(list ?? []).map((id) => `"${id}"`).join(', ')}]`;
}

function idObjects(list: readonly string[] | undefined): string {
  return `[${(list ?? []).map((id) => `{ id: "${id}" }`).join(', ')}]`;
}
