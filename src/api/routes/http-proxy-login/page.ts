// The pages of the HTTP proxy's sign-in hand-off: the sign-in form (it posts to the console's own login
// endpoint) and the one answer for a host that is unknown or not the user's.

/** Fixed bytes (no nonce, no name): unknown and unreachable hosts must not be told apart. */
export const NOT_AVAILABLE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not available</title></head><body><main><h1>This address is not available</h1><p>There is no web console here that you may open. If you think you should have access, ask your Gatehouse administrator.</p></main></body></html>`;
const esc = (v: string) => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The sign-in form; its script and style run only with this response's nonce. */
export function signInPage(nonce: string, instance: string, host: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign in - ${esc(instance)}</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:24rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px}label{display:block;margin-top:.8rem}input{width:100%;box-sizing:border-box;font:inherit;padding:.3rem}button{margin-top:1rem;font:inherit;padding:.4rem 1rem}.err{color:#a0141e}</style></head>
<body><main><h1>Sign in to ${esc(instance)}</h1><p>to open the web console of <strong>${esc(host)}</strong>.</p>
<form id="login"><label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p id="error" class="err" role="alert"></p><button type="submit">Sign in</button></form></main>
<script nonce="${nonce}">document.getElementById('login').addEventListener('submit',function(e){e.preventDefault();var f=e.target;
fetch('/api/v1/session',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({username:f.username.value,password:f.password.value})})
.then(function(r){if(r.status===202){var a=document.createElement('a');a.href='/';a.textContent='the console';var e=document.getElementById('error');e.textContent='Your account needs a second factor: sign in to ';e.appendChild(a);e.appendChild(document.createTextNode(' first, then reload this page.'));return;}if(r.ok){location.reload();return;}return r.json().then(function(b){document.getElementById('error').textContent=(b&&b.error&&b.error.message)||'Sign-in failed';});})
.catch(function(){document.getElementById('error').textContent='Sign-in failed: the server did not answer';});});</script></body></html>`;
}
