// A small OAuth 2.0 authorization code + PKCE client for the sample SPA, written for IdentityHost.
// Tokens live in IndexedDB so every tab shares one token family; refreshes are serialised with the Web Locks API
// (across tabs) and a shared promise (within a tab), so one refresh token is never presented twice.
// Why IndexedDB and not localStorage: a tab that takes the lock right after another tab refreshed must read the new
// tokens. Chromium propagates localStorage writes to other tabs' processes asynchronously, so a localStorage read
// inside the lock can still return the spent refresh token; an IndexedDB transaction always sees committed writes.
// DPoP (RFC 9449): the tab that first needs it creates a non-extractable P-256 key with WebCrypto and keeps it in the
// same IndexedDB store (a CryptoKey is stored as is; its private half can sign but can never be read out). Every token
// request and API call carries a new proof signed with it, so the tokens in storage are useless without the key.

const DATABASE = 'identityhost';
const STORE = 'tokens';
const KEY = 'current';
const PENDING = 'identityhost.pending';
const LOCK = 'identityhost-refresh';
const DPOP_KEY = 'dpop-key';

let config;
let metadata;
let inflight = null;

export class SignInRequired extends Error {}

/** Reads /spa-config.json and the issuer's discovery document. */
export async function init() {
  config = await (await fetch('/spa-config.json')).json();
  metadata = await (await fetch(new URL('.well-known/openid-configuration', config.authority))).json();
  return config;
}

let database;

function open() {
  database ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return database;
}

async function read(key) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE).objectStore(STORE).get(key);
    request.onsuccess = () => resolve(request.result ?? null);
    request.onerror = () => reject(request.error);
  });
}

async function write(key, value) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, 'readwrite');
    if (value) transaction.objectStore(STORE).put(value, key);
    else transaction.objectStore(STORE).delete(key);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}

/** The stored tokens, or null: `{ access_token, token_type, refresh_token, id_token, … }`. */
export const tokens = () => read(KEY);

/** Stores (or, with null, forgets) the tokens; resolves once the write is committed. */
const store = (value) => write(KEY, value);

let dpopKey;

/** This browser's DPoP key pair (created once, under a lock so two tabs agree) and its public JWK. */
function dpop() {
  dpopKey ??= (async () => {
    const load = async () => {
      let pair = await read(DPOP_KEY);
      if (!pair) {
        pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
        await write(DPOP_KEY, pair);
      }
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
      return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
    };
    return navigator.locks ? navigator.locks.request('identityhost-dpop-key', load) : load();
  })();
  return dpopKey;
}

const encodeJson = (value) => base64Url(new TextEncoder().encode(JSON.stringify(value)));

/** A DPoP proof for one request (RFC 9449 §4.2); with an access token, bound to it by ath. */
async function proof(method, url, accessToken, nonce) {
  const { privateKey, jwk } = await dpop();
  const target = new URL(url, location.href);
  const claims = { jti: randomString(), htm: method, htu: target.origin + target.pathname, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = base64Url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)));
  if (nonce) claims.nonce = nonce;
  const input = `${encodeJson({ typ: 'dpop+jwt', alg: 'ES256', jwk })}.${encodeJson(claims)}`;
  // WebCrypto's ECDSA signature is r || s, exactly the JWS ES256 format.
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(input));
  return `${input}.${base64Url(signature)}`;
}

function base64Url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Sends the browser to IdentityHost's authorize endpoint (S256 PKCE, state). */
export async function signIn() {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64Url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    response_type: 'code',
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(url);
}

/** On callback.html: checks state, redeems the code with the PKCE verifier, stores the tokens. */
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  if (params.get('error')) throw new Error(`${params.get('error')}: ${params.get('error_description') ?? ''}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('The sign-in response does not match the request (state).');
  await store(await tokenRequest({
    grant_type: 'authorization_code',
    code: params.get('code'),
    redirect_uri: config.redirectUri,
    code_verifier: pending.verifier,
  }));
}

async function tokenRequest(form) {
  const send = async (nonce) => fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await proof('POST', metadata.token_endpoint, null, nonce) },
    body: new URLSearchParams({ ...form, client_id: config.clientId }),
  });
  let response = await send();
  // RFC 9449 §8: a server that wants nonces answers use_dpop_nonce with one; retry once with it.
  const nonce = response.headers.get('DPoP-Nonce');
  if (response.status === 400 && nonce) response = await send(nonce);
  const body = await response.json();
  if (!response.ok) throw new SignInRequired(`${body.error}: ${body.error_description ?? ''}`);
  return body;
}

/**
 * Refreshes once for every caller that saw `staleAccessToken` rejected. Inside the lock the stored tokens are read
 * again: if another tab (or call) already refreshed, its result is used instead of presenting a spent token.
 */
export function refresh(staleAccessToken) {
  inflight ??= (async () => {
    const run = async () => {
      const current = await tokens();
      if (!current?.refresh_token) throw new SignInRequired('Not signed in.');
      if (current.access_token !== staleAccessToken) return current;
      try {
        const next = { ...current, ...await tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refresh_token }) };
        await store(next);
        return next;
      } catch (error) {
        if (error instanceof SignInRequired) await store(null);
        throw error;
      }
    };
    try {
      return navigator.locks ? await navigator.locks.request(LOCK, run) : await run();
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/** fetch with the access token (and a DPoP proof when it is DPoP-bound); a 401 invalid_token refreshes once and retries once. */
export async function apiFetch(url, init = {}) {
  const current = await tokens();
  if (!current) throw new SignInRequired('Not signed in.');
  const send = async ({ access_token: accessToken, token_type: type }) => {
    const headers = { ...init.headers, Authorization: `${type === 'DPoP' ? 'DPoP' : 'Bearer'} ${accessToken}` };
    if (type === 'DPoP') headers.DPoP = await proof(init.method ?? 'GET', url, accessToken);
    return fetch(url, { ...init, headers });
  };
  const response = await send(current);
  if (response.status !== 401 || !/error="invalid_token"/.test(response.headers.get('WWW-Authenticate') ?? '')) return response;
  const renewed = await refresh(current.access_token);
  return send(renewed);
}

/** Claims of the stored id_token, for display only (the API validates the access token itself). */
export async function user() {
  const idToken = (await tokens())?.id_token;
  if (!idToken) return null;
  const payload = atob(idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(payload, (c) => c.charCodeAt(0))));
}

/** Forgets the tokens and ends the IdentityHost session, which revokes this session's refresh tokens. */
export async function signOut() {
  const idToken = (await tokens())?.id_token;
  await store(null);
  const url = new URL(metadata.end_session_endpoint);
  url.search = new URLSearchParams({ post_logout_redirect_uri: config.postLogoutRedirectUri, ...(idToken ? { id_token_hint: idToken } : {}) });
  location.assign(url);
}
