// E-mail on the account page (docs/email.md, docs/browser-apps.md#the-account-page): a
// forgotten password reset from a mailed link, an address confirmed from one, sign-up, and the
// signed-in user's address and its change. A module: account.js imports it and gives install()
// what it needs. With e-mail off on the server (main's data-mail) the page has none of this
// markup, and install() returns null; sign-up's form is there only with data-registration on.
//
// A mailed link opens the page at #reset=<token> or #confirm=<token> (or #forgot): the
// fragment leaves the address bar as soon as this module runs, so that no history entry or
// bookmark keeps the token, which lives in a variable here until it is spent or its step is
// left. Confirming an address takes a press of its button: a mail scanner that opens the link
// confirms nothing.

const FRESH_REQUIRED = "Fresh token required";
const NOT_FRESH = "To change your e-mail address, confirm it is you first: sign out, and sign "
  + "in again.";
const MAIL_OFF = "This link can't be used here: e-mail is off on this server.";
const DIFFERENT = "The two new passwords differ: type the same one twice.";
// Each step's field (or heading) that takes the focus when it opens.
const FOCUS = { forgot: "forgot-email", reset: "reset-password", confirm: "confirm-heading",
                "sign-up": "sign-up-username" };

// The step the address bar's fragment opens, if any, the fragment dropped from it at once.
function taken() {
  const found = /^#(?:(forgot|sign-up)|(reset|confirm)=([^&]+))$/.exec(location.hash);
  if (!found) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  return { step: found[1] || found[2], token: found[3] || null };
}

let opening = taken(); // now, as the module loads, not once every module has (install())

// A request of a signed-out step, with a JSON body and no token.
async function post(page, path, body) {
  return page.answer(await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) }));
}

// The server's words, as a sentence.
const sentence = (words) => `${words.charAt(0).toUpperCase()}${words.slice(1)}.`;

export function install(page) {
  const { byId, say, show, problem, call, guarded } = page;
  if (document.querySelector("main").dataset.mail !== "on") {
    if (opening) say(MAIL_OFF, true);
    return null;
  }
  let token = null; // the mailed link's, between opening its step and spending it

  function refuse(field, message) {
    say(message, true);
    field.focus();
    field.select();
  }

  // One of the steps of a signed-out user (a section of its own), with a link's token or none.
  function open(step, linkToken = null) {
    token = linkToken;
    show(step);
    byId(FOCUS[step]).focus();
  }

  // Whether the page was opened at a step (which is then shown): else, the account or the
  // sign-in form follows. Also when a link is opened in this tab while the page shows.
  function opened() {
    const link = opening;
    opening = null;
    if (!link || !byId(link.step)) return false;
    open(link.step, link.token);
    return true;
  }

  // Leaving a step: the account, should this browser be signed in, else the sign-in form.
  async function back() {
    token = null;
    say("");
    if (await page.resumed()) return byId("account-heading").focus();
    show("sign-in");
    byId("username").focus();
  }

  async function askForReset(form) {
    say("Asking for a link…");
    const result = await post(page, "/auth/password-reset", { email: form.elements.email.value });
    if (!result.ok) return refuse(form.elements.email, problem(result));
    say(sentence(result.body.status)); // the same whatever the address
  }

  async function resetPassword() {
    const [first, again] = [byId("reset-password"), byId("reset-password-again")];
    if (first.value !== again.value) return refuse(again, DIFFERENT);
    say("Setting your new password…");
    const result = await post(page, "/auth/password-reset/confirm",
                              { token, new_password: first.value });
    if (!result.ok) return refuse(first, problem(result));
    // Every session ended, this page's too; no token is handed out: the user signs in.
    page.signedOut("Your password was reset: sign in with it.");
  }

  async function confirmAddress() {
    say("Confirming your address…");
    const result = await post(page, "/auth/email/confirm", { token });
    if (!result.ok) return say(problem(result), true);
    token = null;
    const confirmed = `Address confirmed: ${result.body.email}.`;
    if (await page.resumed()) {
      say(confirmed);
      return byId("email-heading").focus();
    }
    show("sign-in");
    say(`${confirmed} You can sign in now.`);
    byId("username").focus();
  }

  async function signUp(form) {
    const { username, password, email } = form.elements;
    say("Creating your account…");
    const result = await post(page, "/auth/register", {
      username: username.value, password: password.value, email: email.value });
    if (result.status === 409) return refuse(username, problem(result)); // the name is taken
    if (!result.ok) return say(problem(result), true);
    byId("username").value = username.value; // for signing in, once the address is confirmed
    form.reset();
    show("sign-in");
    say("Check your inbox for a link to confirm your address.");
    byId("password").focus();
  }

  // The signed-in user's address (GET /me's email and email_verified).
  function showing(me) {
    byId("email-state").textContent = !me.email ? "You have no e-mail address yet."
      : `Your address is ${me.email}, ${me.email_verified ? "confirmed" : "not confirmed yet"}.`;
  }

  async function changeAddress(form) {
    const field = form.elements.email;
    const address = field.value.trim();
    say("Sending a link to confirm your new address…");
    const result = await call("PUT", "/auth/email", { email: address });
    if (!result) return;
    const fresh = result.status === 401 && result.body?.description === FRESH_REQUIRED;
    if (!result.ok) return refuse(field, fresh ? NOT_FRESH : problem(result));
    field.value = "";
    say(`A link to confirm it was sent to ${address}.`);
  }

  function reset() {
    token = null;
    for (const id of ["forgot-form", "reset-form", "sign-up-form", "email-form"]) {
      byId(id)?.reset();
    }
    byId("email-state").textContent = "";
  }

  const onSubmit = (id, handler) => byId(id)?.addEventListener("submit", guarded(handler));
  onSubmit("forgot-form", askForReset);
  onSubmit("reset-form", resetPassword);
  onSubmit("sign-up-form", signUp);
  onSubmit("email-form", changeAddress);
  byId("confirm-address").addEventListener("click", guarded(confirmAddress));
  for (const button of document.querySelectorAll("[data-back]")) {
    button.addEventListener("click", guarded(back));
  }
  // Links (and a button) to a step, opened here with no history entry; a link opened in a new
  // tab opens its step there, from the fragment.
  for (const opener of document.querySelectorAll("[data-opens]")) {
    opener.addEventListener("click", (event) => {
      event.preventDefault();
      say("");
      open(opener.dataset.opens);
    });
  }
  window.addEventListener("hashchange", () => {
    opening = taken();
    if (opened()) say("");
  });
  return Object.freeze({ opened, showing, reset });
}
