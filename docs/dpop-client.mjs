// A DPoP client in plain Node.js (18+), no packages: signs in, calls SampleApi, refreshes, and shows that the refresh
// token is useless without the key. Usage: node docs/dpop-client.mjs [identityHostUrl] [sampleApiUrl]
// For curl: node docs/dpop-client.mjs proof METHOD URL [ACCESS_TOKEN] prints one proof, signed with the key kept in
// the file $DPOP_KEY_FILE (default dpop-key.json, created on first use: a demo key, keep it out of git).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const issuer = (process.argv[2] ?? 'http://localhost:5001').replace(/\/$/, '');
const api = (process.argv[3] ?? 'http://localhost:5002').replace(/\/$/, '');
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

// 1. The client's key pair. Only the public half ever leaves the client, inside each proof's header.
const proofMode = process.argv[2] === 'proof';
function keyPair() {
  if (!proofMode) return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = process.env.DPOP_KEY_FILE ?? 'dpop-key.json';
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  }
  const privateKey = createPrivateKey({ key: JSON.parse(readFileSync(file, 'utf8')), format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const { privateKey, publicKey } = keyPair();
const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });

// 2. A proof: a JWT naming this request's method and URL (no query), fresh iat and jti; ath binds it to an access token.
function proof(htm, htu, { accessToken, nonce } = {}) {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } };
  const claims = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = b64url(createHash('sha256').update(accessToken).digest());
  if (nonce) claims.nonce = nonce;
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

if (proofMode) {
  const [, , , method, url, accessToken] = process.argv;
  console.log(proof(method, url, { accessToken }));
  process.exit(0);
}

const { token_endpoint: tokenEndpoint } = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();

// 3. Token requests carry a new proof each; if the server asks for a nonce (use_dpop_nonce), retry once with it.
async function tokenRequest(form, { withProof = true } = {}) {
  const send = (nonce) => fetch(tokenEndpoint, {
    method: 'POST',
    headers: withProof ? { DPoP: proof('POST', tokenEndpoint, { nonce }) } : {},
    body: new URLSearchParams(form),
  });
  let response = await send();
  const nonce = response.headers.get('DPoP-Nonce');
  if (response.status === 400 && nonce && withProof) response = await send(nonce);
  return { status: response.status, body: await response.json() };
}

// 4. API calls: Authorization: DPoP <token> and a proof for this request with ath.
async function callApi(path, accessToken) {
  const url = `${api}${path}`;
  const response = await fetch(url, { headers: { Authorization: `DPoP ${accessToken}`, DPoP: proof('GET', url, { accessToken }) } });
  return { status: response.status, body: response.status === 200 ? await response.json() : response.headers.get('WWW-Authenticate') };
}

const signIn = await tokenRequest({ grant_type: 'password', client_id: 'web', username: 'alice', password: 'Pass123$', scope: 'offline_access api' });
const me = await callApi('/api/me', signIn.body.access_token);
const refreshed = await tokenRequest({ grant_type: 'refresh_token', client_id: 'web', refresh_token: signIn.body.refresh_token });
const stolen = await tokenRequest({ grant_type: 'refresh_token', client_id: 'web', refresh_token: refreshed.body.refresh_token }, { withProof: false });
const asBearer = await fetch(`${api}/api/me`, { headers: { Authorization: `Bearer ${refreshed.body.access_token}` } });

const result = {
  signIn: { status: signIn.status, token_type: signIn.body.token_type },
  me: { status: me.status, sub: me.body.sub },
  refresh: { status: refreshed.status, token_type: refreshed.body.token_type },
  refreshWithoutKey: { status: stolen.status, error: stolen.body.error },
  boundTokenAsBearer: { status: asBearer.status },
};
console.log(JSON.stringify(result, null, 2));
const ok = signIn.body.token_type === 'DPoP' && me.status === 200 && refreshed.body.token_type === 'DPoP' &&
  stolen.body.error === 'invalid_grant' && asBearer.status === 401;
process.exit(ok ? 0 : 1);
