import { init, signIn, signOut, apiFetch, user, SignInRequired } from './oidc.js';

const $ = (id) => document.getElementById(id);

async function render() {
  const claims = await user();
  $('signed-in').hidden = !claims;
  $('signed-out').hidden = !!claims;
  if (claims) {
    $('user-name').textContent = claims.preferred_username ?? claims.name ?? claims.sub;
    $('user-sub').textContent = claims.sub;
  }
}

// GET /api/me needs scope api; POST /api/echo needs api.write and sends its JSON body back.
const echo = () => apiFetch('/api/echo', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ message: 'Hello from the SPA', sentAt: new Date().toISOString() }),
});

async function callApi(times, request = () => apiFetch('/api/me')) {
  $('status').textContent = 'Calling the API…';
  try {
    const responses = await Promise.all(Array.from({ length: times }, request));
    const bodies = await Promise.all(responses.map(async (response) => ({ status: response.status, body: response.ok ? await response.json() : null })));
    $('result').textContent = JSON.stringify(bodies.length === 1 ? bodies[0] : bodies, null, 2);
    $('status').textContent = bodies.every((entry) => entry.status === 200) ? 'API call succeeded' : 'API call failed';
  } catch (error) {
    $('status').textContent = error instanceof SignInRequired ? 'Your session ended; please sign in again.' : `Error: ${error.message}`;
    await render();
  }
}

await init();
await render();
$('sign-in').addEventListener('click', signIn);
$('sign-out').addEventListener('click', signOut);
$('call-api').addEventListener('click', () => callApi(1));
$('call-api-twice').addEventListener('click', () => callApi(2));
$('call-echo').addEventListener('click', () => callApi(1, echo));
if (await user()) await callApi(1);
