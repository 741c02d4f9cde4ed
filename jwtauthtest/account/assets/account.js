// The account page (jwtauthtest/account/page.py). The access token lives in this closure
// only; the refresh token stays in its HttpOnly cookie, which /auth/refresh spends when this
// script repeats the CSRF cookie's value in a header. Nothing is written to any storage or
// cookie here: the server sets both cookies. The sessions table, two-step sign-in, passkeys
// and e-mail: the modules sessions.js, second-factor.js, passkeys.js and email.js, below.
"use strict";

(function () {
  const CSRF_COOKIE = "__Host-csrf_token";
  const REFRESH_MARGIN = 30000; // ms before its expiry when a token is replaced before use
  const SERVER_UNREACHABLE = "The server could not be reached. Try again.";
  let sessions = null; // sessions.js's hooks, once it is loaded
  let secondFactor = null; // second-factor.js's
  let passkeys = null; // passkeys.js's (null too when passkeys are off here)
  let email = null; // email.js's (null too when e-mail is off here)
  let access = null; // {token, expiresAt}; expiresAt in this clock's milliseconds
  let refreshing = null; // the refresh in flight, shared by every caller
  let busy = false; // a form's or a button's request in flight

  const byId = (id) => document.getElementById(id);
  const element = (tag, properties) => Object.assign(document.createElement(tag), properties);

  function say(message, isError = false) {
    byId("status").textContent = message;
    byId("status").classList.toggle("error", isError);
  }

  // One of the page's sections: "sign-in", "account", or one of email.js's steps.
  function show(view) {
    byId("checking").hidden = true;
    for (const section of document.querySelectorAll("main > section")) {
      section.hidden = section.id !== view;
    }
  }

  function cookie(name) {
    const pair = document.cookie.split("; ").find((each) => each.startsWith(`${name}=`));
    return pair ? pair.slice(name.length + 1) : null;
  }

  // One refresh or sign-out at a time, across this origin's tabs too: a refresh token
  // presented twice counts as stolen, and ends the session.
  function exclusive(task) {
    return navigator.locks ? navigator.locks.request("jwtauthtest-session", task) : task();
  }

  // Keep an access token for its lifetime (exp - iat, both the server's clock) from now.
  function keep(tokens) {
    const payload = tokens.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload));
    const lifetime = (claims.exp - claims.iat) * 1000;
    access = { token: tokens.access_token,
               expiresAt: Date.now() + (lifetime > 0 ? lifetime : 60000) };
    return access.token;
  }

  async function answer(response) {
    const type = response.headers.get("Content-Type") || "";
    const body = type.startsWith("application/json") ? await response.json() : null;
    return { status: response.status, ok: response.ok, body, headers: response.headers };
  }

  function problem(result) {
    return (result.body && result.body.description) || `The server answered ${result.status}.`;
  }

  // Whether a call's answer is a success; the server's description of a refusal is shown.
  function succeeded(result) {
    if (result && !result.ok) say(problem(result), true);
    return Boolean(result && result.ok);
  }

  // A new access token for the refresh cookie, or null when there is no session. Like every
  // request that sets cookies, it is sent with keepalive: should the page go away meanwhile
  // (a reload), the browser still keeps the answer's cookie, rather than the spent one.
  function refresh() {
    refreshing = refreshing || exclusive(async () => {
      const csrf = cookie(CSRF_COOKIE);
      if (!csrf) return null;
      const result = await answer(await fetch("/auth/refresh", {
        method: "POST", headers: { "X-CSRF-Token": csrf }, keepalive: true }));
      return result.ok ? keep(result.body) : null;
    }).finally(() => { refreshing = null; });
    return refreshing;
  }

  async function accessToken() {
    if (access && Date.now() < access.expiresAt - REFRESH_MARGIN) return access.token;
    access = null;
    return refresh();
  }

  // An API call with the access token, once more with a new one if it is refused; null
  // (and the sign-in form) when the session has ended. A 401 about the request rather than
  // the token (a wrong password or code, a token not fresh enough) is the caller's to show.
  async function call(method, path, body) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const token = await accessToken();
      if (!token) break;
      const headers = { Authorization: `JWT ${token}` };
      if (body) headers["Content-Type"] = "application/json";
      const result = await answer(await fetch(path, {
        method, headers, body: body && JSON.stringify(body), keepalive: method === "POST" }));
      const { error, description } = result.body || {};
      if (result.status !== 401 || error === "Invalid credentials"
          || description === "Fresh token required") return result;
      access = null;
    }
    signedOut("Your session has ended. Please sign in again.", true);
    return null;
  }

  function signedOut(message, isError = false) {
    access = null;
    for (const module of [secondFactor, passkeys, email]) module?.reset();
    byId("password-code").value = "";
    byId("password-code-step").hidden = true;
    show("sign-in");
    say(message, isError);
    byId("username").focus();
  }

  // A handler that runs alone, with the server's silence reported.
  function guarded(handler) {
    return async (event) => {
      event.preventDefault();
      const target = event.currentTarget;
      if (busy) return;
      busy = true;
      try {
        await handler(target);
      } catch {
        say(SERVER_UNREACHABLE, true);
      } finally {
        busy = false;
      }
    };
  }

  async function signIn(form) {
    say("Signing in…");
    const result = await answer(await fetch("/auth?transport=cookie", {
      method: "POST", headers: { "Content-Type": "application/json" }, keepalive: true,
      body: JSON.stringify({ username: form.elements.username.value,
                             password: form.elements.password.value }) }));
    if (secondFactor && secondFactor.challenged(result)) return; // it asks for a code now
    if (!result.ok) return say(problem(result), true);
    form.elements.password.value = "";
    await signedIn(result.body, "Signed in.");
  }

  // A login's tokens (of a password, or of a password and a code): the account.
  async function signedIn(tokens, message) {
    keep(tokens);
    if (await showAccount()) {
      say(message);
      byId("account-heading").focus();
    }
  }

  async function showAccount() {
    const me = await call("GET", "/me");
    if (!succeeded(me)) return false;
    byId("whoami").textContent = me.body.username;
    byId("password-username").value = me.body.username;
    email?.showing(me.body);
    show("account");
    return (!sessions || (await sessions.showing())) && (!secondFactor || secondFactor.showing())
      && (!passkeys || passkeys.showing());
  }

  function cell(content, className = "") {
    const td = element("td", { className });
    td.append(content); // text, never markup: a user agent or a name is anyone's to choose
    return td;
  }

  function when(iso, never = "not since sign-in") {
    if (!iso) return never;
    return element("time", { dateTime: iso, textContent: new Date(iso).toLocaleString() });
  }

  // With two-step sign-in on and a sign-in that is not fresh, the server asks for a code too.
  async function changePassword(form) {
    const { current_password: current, new_password: next } = form.elements;
    const body = { current_password: current.value, new_password: next.value };
    const code = byId("password-code");
    const ask = (message) => { say(message, true); code.focus(); };
    if (!byId("password-code-step").hidden) {
      if (!code.value.trim()) return ask("Enter a code first.");
      Object.assign(body, secondFactor.codeBody(code.value.trim()));
    }
    say("Changing your password…");
    const result = await call("POST", "/auth/password?transport=cookie", body);
    if (result?.body?.description === "Fresh token required" && secondFactor) {
      byId("password-code-step").hidden = false;
      return ask("Two-step sign-in is on: enter a code from your authenticator app, or a "
        + "recovery code, to change your password.");
    }
    if (!succeeded(result)) return;
    keep(result.body);
    for (const field of [current, next, code]) field.value = "";
    byId("password-code-step").hidden = true;
    await sessions?.showing();
    const removed = ((await passkeys?.relistRemoved()) || []).map((name) => `“${name}”`);
    say("Password changed. Every other session has ended" + (removed.length ? ", and "
      + `passkeys added with your password alone were removed: ${removed.join(", ")}.` : "."));
  }

  async function signOut() {
    const result = await exclusive(async () => {
      const csrf = cookie(CSRF_COOKIE);
      return answer(await fetch("/auth/logout", {
        method: "POST", headers: csrf ? { "X-CSRF-Token": csrf } : {}, keepalive: true }));
    });
    if (result.ok || result.status === 401) signedOut("Signed out."); // 401: ended already
    else say(problem(result), true);
  }

  // The account, if this browser has a session; false (nothing shown) if it has none.
  const resumed = async () => Boolean(await accessToken()) && showAccount();

  // The modules beside this script, each given what it needs of this one (relistAll: after a
  // change that ended sessions or removed passkeys); install() returns the hooks used above:
  // showing(), reset() (sessions.js has none), second-factor.js's challenged(result) and
  // codeBody(entered), passkeys.js's relistRemoved(), email.js's opened(). Should one fail,
  // the page works on.
  const relistAll = () => Promise.all([sessions?.showing(), passkeys?.showing()]);
  const PAGE = Object.freeze({ byId, element, cell, when, say, show, answer, problem, succeeded,
                               call, guarded, signedIn, signedOut, resumed, relistAll });
  const load = (module, what) => module.then((loaded) => loaded.install(PAGE))
    .catch((error) => console.error(`${what} is unavailable:`, error));

  // Enter in a field outside a form presses the button its data-enter-presses names.
  const enterPresses = (field) => field.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    byId(field.dataset.enterPresses).click();
  });

  async function start() {
    [sessions, secondFactor, passkeys, email] = await Promise.all([
      load(import("./sessions.js"), "The list of sessions"),
      load(import("./second-factor.js"), "Two-step sign-in"),
      load(import("./passkeys.js"), "Passkeys"),
      load(import("./email.js"), "E-mail")]);
    document.querySelectorAll("[data-enter-presses]").forEach(enterPresses);
    byId("sign-in-form").addEventListener("submit", guarded(signIn));
    byId("password-form").addEventListener("submit", guarded(changePassword));
    byId("sign-out").addEventListener("click", guarded(signOut));
    document.querySelector("#sign-in fieldset").disabled = false;
    if (email?.opened()) return; // a mailed link's step (a reset, a confirmation) comes first
    try {
      if (await resumed()) return;
    } catch {
      say(SERVER_UNREACHABLE, true);
    }
    show("sign-in");
  }

  start();
})();
