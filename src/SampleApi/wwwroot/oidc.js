// A small OAuth 2.0 authorization code + PKCE client for the sample SPA, written for IdentityHost.
// Tokens live in IndexedDB so every tab shares one token family; refreshes are serialised with the Web Locks API
// (across tabs) and a shared promise (within a tab), so one refresh token is never presented twice.
// Why IndexedDB and not localStorage: a tab that takes the lock right after another tab refreshed must read the new
// tokens. Chromium propagates localStorage writes to other tabs' processes asynchronously, so a localStorage read
// inside the lock can still return the spent refresh token; an IndexedDB transaction always sees committed writes.

const DATABASE = 'identityhost';
const STORE = 'tokens';
const KEY = 'current';
const PENDING = 'identityhost.pending';
const LOCK = 'identityhost-refresh';

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

/** The stored tokens, or null: `{ access_token, refresh_token, id_token, … }`. */
export async function tokens() {
  const db = await open();
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE).objectStore(STORE).get(KEY);
    request.onsuccess = () => resolve(request.result ?? null);
    request.onerror = () => reject(request.error);
  });
}

/** Stores (or, with null, forgets) the tokens; resolves once the write is committed. */
async function store(value) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, 'readwrite');
    if (value) transaction.objectStore(STORE).put(value, KEY);
    else transaction.objectStore(STORE).delete(KEY);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
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
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form, client_id: config.clientId }),
  });
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

/** fetch with the access token; a 401 invalid_token refreshes once and retries once. */
export async function apiFetch(url, init = {}) {
  const current = await tokens();
  if (!current) throw new SignInRequired('Not signed in.');
  const send = (accessToken) => fetch(url, { ...init, headers: { ...init.headers, Authorization: `Bearer ${accessToken}` } });
  const response = await send(current.access_token);
  if (response.status !== 401 || !/error="invalid_token"/.test(response.headers.get('WWW-Authenticate') ?? '')) return response;
  const renewed = await refresh(current.access_token);
  return send(renewed.access_token);
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
