import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.js';
import { PRODUCTION_ENV, TEST_SECRET } from '../helpers/environments.js';


describe('loadGatewayConfig', () => {
  it('points at the local subgraphs by default and takes the same keys as the subgraph', () => {
    const config = loadGatewayConfig({ AUTH_JWT_SECRET: TEST_SECRET });
    expect(config).toMatchObject({ port: 4000, consentUrl: 'http://127.0.0.1:4001/graphql', catalogUrl: 'http://127.0.0.1:4002/' });
    expect(config.auth).toMatchObject({ kind: 'secret', secret: TEST_SECRET, maxTokenAge: 86_400, clockSkew: 30 });
  });

  it('composes the SDL files in schema/ by default, or the ones CONSENT_SDL_FILE and CATALOG_SDL_FILE name', () => {
    expect(loadGatewayConfig({ AUTH_JWT_SECRET: TEST_SECRET })).toMatchObject({ consentSdlFile: 'schema/consent.graphql', catalogSdlFile: 'schema/catalog.graphql' });
    const config = loadGatewayConfig({ AUTH_JWT_SECRET: TEST_SECRET, CONSENT_SDL_FILE: '/etc/sdl/consent.graphql', CATALOG_SDL_FILE: '/etc/sdl/catalog.graphql' });
    expect(config).toMatchObject({ consentSdlFile: '/etc/sdl/consent.graphql', catalogSdlFile: '/etc/sdl/catalog.graphql' });
  });

  it('starts in production with issuer and audience configured', () => {
    expect(loadGatewayConfig(PRODUCTION_ENV).auth).toMatchObject({ issuer: 'https://id.example', audience: 'consent' });
  });
});
