/** A token secret long enough for HS256 (32+ characters), for configuration tests. */
export const TEST_SECRET = 'a-secret-of-at-least-thirty-two-characters';

/** A gateway signing secret (32+ characters), for configuration tests. */
export const TEST_SIGNING_SECRET = 'a-signing-secret-of-at-least-32-characters';

/** An Ed25519 private JWK made for the tests only (it signs nothing outside them). */
export const TEST_ATTESTATION_JWK = '{"kty":"OKP","crv":"Ed25519","x":"Xvout20Vxlb-QEpVkE6YNeXUr1HL3vTuSibkvNqSBhA","d":"K64Zf_RfyIO2_QrBPKnsO_vto8v2achDXyNosNOu2x0","kid":"test-attestation-1"}';

/** The smallest environment production starts with: keys, issuer, audience, the gateway signature secret and the attestation key. */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = Object.freeze({
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: TEST_SECRET,
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'consent',
  GATEWAY_SIGNATURE_SECRET: TEST_SIGNING_SECRET,
  ATTESTATION_PRIVATE_JWK: TEST_ATTESTATION_JWK,
});
