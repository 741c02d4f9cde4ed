// The account page (jwtauthtest/account/page.py). The access token lives in this closure
// only; the refresh token stays in its HttpOnly cookie, which /auth/refresh spends when this
// script repeats the CSRF cookie's value in a header. Nothing is written to any storage or
// cookie here: the server sets both cookies.
"use strict";

(function () {
  const CSRF_COOKIE = "__Host-csrf_token";
  const REFRESH_MARGIN = 30000; // ms before its expiry when a token is replaced before use
  const SERVER_UNREACHABLE = "The server could not be reached. Try again.";
  let access = null; // {token, expiresAt}; expiresAt in this clock's milliseconds
  let refreshing = null; // the refresh in flight, shared by every caller
  let busy = false; // a form's or a button's request in flight

  const byId = (id) => document.getElementById(id);

  function say(message, isError = false) {
    byId("status").textContent = message;
    byId("status").classList.toggle("error", isError);
  }

  function show(view) {
    byId("checking").hidden = true;
    byId("sign-in").hidden = view !== "sign-in";
    byId("account").hidden = view !== "account";
  }

  function cookie(name) {
    for (const pair of document.cookie.split("; ")) {
      const at = pair.indexOf("=");
      if (at > 0 && pair.slice(0, at) === name) return pair.slice(at + 1);
    }
    return null;
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
    return { status: response.status, ok: response.ok, body };
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
  // (and the sign-in form) when the session has ended.
  async function call(method, path, body) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const token = await accessToken();
      if (!token) break;
      const headers = { Authorization: `JWT ${token}` };
      if (body) headers["Content-Type"] = "application/json";
      const result = await answer(await fetch(path, {
        method, headers, body: body && JSON.stringify(body), keepalive: method === "POST" }));
      if (result.status !== 401 || (result.body && result.body.error === "Invalid credentials")) {
        return result;
      }
      access = null;
    }
    signedOut("Your session has ended. Please sign in again.", true);
    return null;
  }

  function signedOut(message, isError = false) {
    access = null;
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
    if (!result.ok) return say(problem(result), true);
    keep(result.body);
    form.elements.password.value = "";
    if (await showAccount()) {
      say("Signed in.");
      byId("account-heading").focus();
    }
  }

  async function showAccount() {
    const me = await call("GET", "/me");
    if (!succeeded(me)) return false;
    byId("whoami").textContent = me.body.username;
    byId("password-username").value = me.body.username;
    show("account");
    return listSessions();
  }

  async function listSessions() {
    const result = await call("GET", "/auth/sessions");
    if (!succeeded(result)) return false;
    byId("sessions").replaceChildren(...result.body.sessions.map(sessionRow));
    return true;
  }

  function cell(content, className = "") {
    const td = document.createElement("td");
    td.className = className;
    td.append(content); // text, never markup: a user agent is anyone's to choose
    return td;
  }

  function when(iso) {
    if (!iso) return "not since sign-in";
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = new Date(iso).toLocaleString();
    return time;
  }

  function sessionRow(session) {
    let action;
    if (session.current) {
      action = document.createElement("strong");
      action.className = "this-device";
      action.textContent = "This device";
    } else {
      action = document.createElement("button");
      action.type = "button";
      action.textContent = "End session";
      action.setAttribute("aria-label", `End session ${session.id}`);
      action.addEventListener("click", guarded(() => endSession(session.id)));
    }
    const row = document.createElement("tr");
    row.append(cell(session.id, "long"), cell(when(session.created_at)),
               cell(when(session.last_used_at)), cell(session.user_agent || "unknown", "long"),
               cell(session.address || "unknown"), cell(action));
    return row;
  }

  async function endSession(id) {
    const result = await call("DELETE", `/auth/sessions/${encodeURIComponent(id)}`);
    if (!result) return;
    if (await listSessions()) byId("list-sessions").focus();
    if (result.ok) say(`Session ${id} ended.`);
    else say(problem(result), true);
  }

  async function changePassword(form) {
    say("Changing your password…");
    const result = await call("POST", "/auth/password?transport=cookie", {
      current_password: form.elements.current_password.value,
      new_password: form.elements.new_password.value });
    if (!succeeded(result)) return;
    keep(result.body);
    form.elements.current_password.value = "";
    form.elements.new_password.value = "";
    await listSessions();
    say("Password changed. Every other session has ended.");
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

  async function start() {
    byId("sign-in-form").addEventListener("submit", guarded(signIn));
    byId("password-form").addEventListener("submit", guarded(changePassword));
    byId("sign-out").addEventListener("click", guarded(signOut));
    byId("list-sessions").addEventListener("click", guarded(async () => {
      if (await listSessions()) say("The list of sessions is up to date.");
    }));
    document.querySelector("#sign-in fieldset").disabled = false;
    try {
      if ((await refresh()) && (await showAccount())) return;
    } catch {
      say(SERVER_UNREACHABLE, true);
    }
    show("sign-in");
  }

  start();
})();
