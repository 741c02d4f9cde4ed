// Passkeys on the account page (docs/browser-apps.md#the-account-page): signing in with one,
// no username typed, and the account's "Passkeys" section, where they are listed (with where
// each was added from), added, renamed and deleted. A module: account.js imports it and gives
// install() what it needs. The page has no passkey markup while passkeys are off here
// (WEBAUTHN_RP_ID unset), and install() then returns null. Nothing is kept: options and the browser's answers go straight
// from the server to the browser's WebAuthn and back.

const FRESH_REQUIRED = "Fresh token required";
const NOT_FRESH = "To add, rename or delete a passkey, confirm it is you first: sign out, and "
  + "sign in again with your password or a passkey.";
const NOT_USED = "No passkey of this site was used.";
const NOT_MADE = "No passkey was made.";

// WebAuthn with its JSON helpers (parse…OptionsFromJSON and toJSON), which the server's
// options and answers are made for.
function supported() {
  const credential = window.PublicKeyCredential;
  return Boolean(window.isSecureContext && navigator.credentials && credential
    && typeof credential.parseRequestOptionsFromJSON === "function"
    && typeof credential.parseCreationOptionsFromJSON === "function"
    && typeof credential.prototype.toJSON === "function");
}

// What the browser's refusal of a ceremony means: NotAllowedError is a cancelled dialog, a
// timeout, or no passkey of this site on the device, which the browser tells apart for no one.
function declined(error, nothing) {
  if (error?.name === "NotAllowedError" || error?.name === "AbortError") return nothing;
  if (error?.name === "InvalidStateError") {
    return "This device holds one of your passkeys already: no second one is needed on it.";
  }
  if (error?.name === "SecurityError") return "This browser refused passkeys on this page.";
  return `The passkey could not be used (${error?.name || error}).`;
}

export function install(page) {
  const { byId, element, cell, when, say, call, guarded } = page;
  if (!byId("passkeys")) return null;
  const usable = supported();
  // The page opened at an address passkeys don't work on (127.0.0.1 for localhost): where to.
  const origins = JSON.parse(byId("passkey-sign-in").dataset.origins || "[]");
  const elsewhere = origins.includes(location.origin) ? null : origins[0];
  let passkeysOff = false; // the server said so, although the page has their markup
  let renaming = null; // {passkey, button}: the passkey whose new name is asked for
  let shown = []; // the passkeys listed last

  function refuse(field, message) {
    say(message, true);
    field.focus();
    field.select();
  }

  // Whether a call succeeded; if not, what went wrong is said. (Null: signed out already.)
  function accepted(result, field) {
    if (!result) return false;
    if (result.ok) return true;
    if (isOff(result)) off();
    const fresh = result.status === 401 && result.body?.description === FRESH_REQUIRED;
    const message = fresh ? NOT_FRESH : page.problem(result);
    if (field) refuse(field, message);
    else say(message, true);
    return false;
  }

  const isOff = (result) => result.status === 404
    && Boolean(result.body?.description?.startsWith("Passkeys are off"));

  // The server says passkeys are off after all: nothing of them shows again.
  function off() {
    passkeysOff = true;
    byId("passkey-sign-in").hidden = true;
    reset();
  }

  // --- Signing in, no username typed --------------------------------------------------

  // Whether the page is at an address passkeys work on; if not, where to open it is said.
  function rightAddress() {
    if (elsewhere) say(`Passkeys work at ${elsewhere} only: open ${elsewhere}/account.`, true);
    return !elsewhere;
  }

  async function signIn() {
    if (!rightAddress()) return;
    say("Signing in with a passkey…");
    const options = await page.answer(await fetch("/auth/passkey/options", { method: "POST" }));
    if (!accepted(options)) return;
    let credential;
    try {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.body) });
    } catch (error) {
      return say(declined(error, NOT_USED), true);
    }
    if (!credential) return say(NOT_USED, true);
    const result = await page.answer(await fetch("/auth/passkey?transport=cookie", {
      method: "POST", headers: { "Content-Type": "application/json" }, keepalive: true,
      body: JSON.stringify({ credential: credential.toJSON() }) }));
    if (!result.ok) return say(page.problem(result), true);
    byId("password").value = "";
    await page.signedIn(result.body, "Signed in.");
  }

  // --- The account's section --------------------------------------------------------------

  async function showing() {
    if (passkeysOff) return true;
    const result = await call("GET", "/auth/passkeys");
    if (!result) return false;
    if (isOff(result)) {
      off();
      return true;
    }
    if (result.ok) list(result.body.passkeys);
    else byId("passkeys-state").textContent = "Your passkeys cannot be listed now.";
    byId("passkeys").hidden = false;
    return true;
  }

  // The list again after the account was locked down (a password change): the names of the
  // passkeys it removed, those added with the password alone.
  async function relistRemoved() {
    const before = new Map(shown.map((passkey) => [passkey.id, passkey.name]));
    if (!(await showing())) return [];
    for (const passkey of shown) before.delete(passkey.id);
    return [...before.values()];
  }

  function list(passkeys) {
    shown = passkeys;
    const count = passkeys.length;
    byId("passkeys-state").textContent = count === 0 ? "You have no passkeys yet."
      : `You have ${count === 1 ? "1 passkey" : `${count} passkeys`}.`;
    byId("passkeys-table").hidden = count === 0;
    byId("passkeys-list").replaceChildren(...passkeys.map(row));
  }

  function row(passkey) {
    const rename = element("button", { type: "button", textContent: "Rename",
                                       className: "secondary" });
    const remove = element("button", { type: "button", textContent: "Delete" });
    rename.setAttribute("aria-label", `Rename passkey ${passkey.name}`);
    remove.setAttribute("aria-label", `Delete passkey ${passkey.name}`);
    rename.addEventListener("click", guarded(() => openRename(passkey, rename)));
    remove.addEventListener("click", guarded(() => removePasskey(passkey)));
    const actions = element("div", { className: "actions" });
    actions.append(rename, remove);
    const tr = document.createElement("tr");
    const from = [passkey.address, passkey.user_agent].filter(Boolean).join(", ");
    tr.append(cell(passkey.name, "long"), cell(when(passkey.created_at)),
              cell(from || "not known", "long"), cell(when(passkey.last_used_at, "never")),
              cell(actions));
    return tr;
  }

  async function relist(message) {
    if (await showing()) {
      byId("passkeys-heading").focus();
      say(message);
    }
  }

  async function addPasskey() {
    const field = byId("passkey-name");
    const name = field.value.trim();
    if (!name) return refuse(field, "Name the new passkey first.");
    if (!rightAddress()) return;
    say("Making a passkey…");
    const options = await call("POST", "/auth/passkeys/options");
    if (!accepted(options, field)) return;
    let credential;
    try {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body) });
    } catch (error) {
      return say(declined(error, NOT_MADE), true);
    }
    if (!credential) return say(NOT_MADE, true);
    const result = await call("POST", "/auth/passkeys", { credential: credential.toJSON(),
                                                          name });
    if (!accepted(result, field)) return;
    field.value = "";
    await relist(`Passkey “${result.body.name}” added: sign in with it next time.`);
  }

  function openRename(passkey, button) {
    renaming = { passkey, button };
    byId("passkey-rename-heading").textContent = `Rename “${passkey.name}”`;
    byId("passkey-rename").hidden = false;
    const field = byId("passkey-new-name");
    field.value = passkey.name;
    field.focus();
    field.select();
  }

  function closeRename() {
    renaming = null;
    byId("passkey-rename").hidden = true;
    byId("passkey-new-name").value = "";
  }

  async function saveRename() {
    const field = byId("passkey-new-name");
    const name = field.value.trim();
    if (!name) return refuse(field, "Enter a new name first.");
    const { passkey } = renaming;
    const result = await call("PATCH", `/auth/passkeys/${encodeURIComponent(passkey.id)}`,
                              { name });
    if (!accepted(result, field)) return;
    closeRename();
    await relist(`Passkey “${passkey.name}” is now “${result.body.name}”.`);
  }

  function cancelRename() {
    const { button } = renaming;
    closeRename();
    (button.isConnected ? button : byId("passkeys-heading")).focus();
    say("");
  }

  async function removePasskey(passkey) {
    closeRename();
    const result = await call("DELETE", `/auth/passkeys/${encodeURIComponent(passkey.id)}`);
    if (!accepted(result)) return;
    if (result.body.this_session_ended) {
      return page.signedOut(`Passkey “${passkey.name}” removed. You had signed in with it, so `
        + "this session has ended, with every other it started.");
    }
    const ended = result.body.ended;
    await relist(`Passkey “${passkey.name}” removed${ended ? `, and ${ended === 1
      ? "the session" : `the ${ended} sessions`} it signed in ended` : ""}.`);
  }

  function reset() {
    closeRename();
    shown = [];
    byId("passkeys").hidden = true;
    byId("passkeys-list").replaceChildren();
    byId("passkeys-state").textContent = "";
    byId("passkey-name").value = "";
  }

  const onClick = (id, handler) => byId(id).addEventListener("click", guarded(handler));
  onClick("sign-in-with-passkey", signIn);
  onClick("add-passkey", addPasskey);
  onClick("passkey-rename-save", saveRename);
  onClick("passkey-rename-cancel", cancelRename);
  byId("passkey-sign-in").hidden = !usable; // no use for it, or for adding a passkey
  byId("passkey-add").hidden = !usable;
  byId("passkeys-unsupported").hidden = usable;
  return Object.freeze({ showing, relistRemoved, reset });
}
