// Two-step sign-in on the account page (docs/second-factor.md): signing in's code step, and
// the account's section. A module: account.js imports it and gives install() what it needs.
// A sign-in's challenge lives in a variable here only; a secret or recovery codes shown leave
// the page as soon as their step is over.

const SVG = "http://www.w3.org/2000/svg";
// What segno draws QR codes with; anything else (<script>, <foreignObject>, onload) is refused.
const SVG_ELEMENTS = new Set(["svg", "title", "desc", "g", "path", "rect"]);
const SVG_ATTRIBUTES = new Set(["width", "height", "viewBox", "class", "transform", "stroke",
                                "stroke-width", "fill", "d", "x", "y"]);
const PARTS = ["second-factor-off", "enrolment", "recovery-codes-shown", "second-factor-on",
               "second-factor-check"]; // of the account's section, one shown at a time
const FRESH_REQUIRED = "Fresh token required";
const NOT_FRESH = "To change two-step sign-in, confirm it is you first: sign out, and sign in "
  + "again with your password.";

function codesLeft(count) {
  if (count === 0) return "no recovery codes are left: make new ones now.";
  return count === 1 ? "1 recovery code is left." : `${count} recovery codes are left.`;
}

// The server's QR code, rebuilt element by element from the allow-lists above: the text is
// parsed as XML, which is inert (nothing in it runs or loads), and never given to innerHTML.
// Null when it holds anything else.
function qrCode(text) {
  const parsed = new DOMParser().parseFromString(String(text), "image/svg+xml");
  const root = parsed.documentElement;
  const broken = parsed.getElementsByTagName("parsererror").length > 0;
  return !broken && root.localName === "svg" ? rebuilt(root) : null;
}

function rebuilt(source) {
  const name = source.localName;
  if (!SVG_ELEMENTS.has(name) || ![SVG, null].includes(source.namespaceURI)) return null;
  const copy = document.createElementNS(SVG, name);
  for (const attribute of source.attributes) {
    if (attribute.name === "xmlns") continue;
    if (!SVG_ATTRIBUTES.has(attribute.name)) return null;
    copy.setAttribute(attribute.name, attribute.value);
  }
  for (const child of source.childNodes) { // comments and the like are left out
    if (child.nodeType === Node.TEXT_NODE && ["title", "desc"].includes(name)) {
      copy.append(child.data);
    } else if (child.nodeType === Node.ELEMENT_NODE) {
      const part = rebuilt(child);
      if (!part) return null;
      copy.append(part);
    }
  }
  return copy;
}

export function install(page) {
  const { byId, element, say, call, guarded } = page;
  let challenge = null; // between a right password and its code
  let usingRecovery = false; // the code step asks for a recovery code
  let openedBy = null; // the button that opened the check (a code asked for an act)

  function refuse(field, message) {
    say(message, true);
    field.focus();
    field.select();
  }

  // --- Signing in: the code step, after a right password -----------------------------------

  function challenged(result) {
    const given = result.headers.get("Second-Factor-Challenge");
    const asked = result.status === 401 && result.body?.error === "Second factor required";
    if (!asked || !given) return false;
    challenge = given;
    byId("password").value = "";
    byId("sign-in-form").hidden = true;
    byId("code-step").hidden = false;
    useRecovery(false);
    say("Your password is right. Now enter the code from your authenticator app.");
    return true;
  }

  const codeField = () => byId(usingRecovery ? "sign-in-recovery-code" : "sign-in-code");

  function useRecovery(recovery) {
    usingRecovery = recovery;
    byId("code-by-app").hidden = recovery;
    byId("code-by-recovery").hidden = !recovery;
    byId("switch-code").textContent = recovery ? "Use a code from the app instead"
      : "Use a recovery code instead";
    codeField().focus();
  }

  function leaveCodeStep() {
    challenge = null;
    byId("sign-in-code").value = "";
    byId("sign-in-recovery-code").value = "";
    byId("code-step").hidden = true;
    byId("sign-in-form").hidden = false;
  }

  function startOver(message, isError = false) {
    leaveCodeStep();
    say(message, isError);
    byId("password").focus();
  }

  async function signInWithCode() {
    const field = codeField();
    const entered = field.value.trim();
    if (!entered) return refuse(field, "Enter a code first.");
    say("Checking the code…");
    const body = usingRecovery ? { challenge, recovery_code: entered }
      : { challenge, code: entered.replace(/\s/g, "") };
    const result = await page.answer(await fetch("/auth/second-factor?transport=cookie", {
      method: "POST", headers: { "Content-Type": "application/json" }, keepalive: true,
      body: JSON.stringify(body) }));
    if (result.ok) {
      leaveCodeStep();
      const left = result.body.recovery_codes_left;
      return page.signedIn(result.body, left === undefined ? "Signed in."
        : `Signed in with a recovery code; ${codesLeft(left)}`);
    }
    if (result.body && result.body.error === "Invalid challenge") {
      return startOver("This sign-in has expired. Please enter your password again.", true);
    }
    refuse(field, page.problem(result));
  }

  // --- The account's section -------------------------------------------------------------

  // One part of the section at a time; what the others showed (a secret, recovery codes, a
  // code typed) leaves the page.
  function showPart(id) {
    for (const each of PARTS) byId(each).hidden = each !== id;
    if (id !== "enrolment") {
      byId("second-factor-qr").replaceChildren();
      byId("second-factor-secret").textContent = "";
      byId("enrolment-code").value = "";
    }
    if (id !== "recovery-codes-shown") byId("recovery-codes").replaceChildren();
    if (id !== "second-factor-check") byId("check-code").value = "";
  }

  function describe(state) {
    byId("second-factor-state").textContent = !state ? "Whether it is on is not known now."
      : state.enabled ? `Two-step sign-in is on; ${codesLeft(state.recovery_codes_left)}`
        : "Two-step sign-in is off.";
  }

  // Whether a call succeeded; if not, what went wrong is said. (Null: signed out already.)
  function accepted(result, field) {
    if (!result) return false;
    if (result.ok) return true;
    const fresh = result.status === 401 && result.body?.description === FRESH_REQUIRED;
    const message = fresh ? NOT_FRESH : page.problem(result);
    if (field) refuse(field, message);
    else say(message, true);
    return false;
  }

  async function showing() {
    const result = await call("GET", "/auth/second-factor");
    if (!result) return false;
    const state = result.ok ? result.body : null;
    describe(state);
    showPart(state && (state.enabled ? "second-factor-on" : "second-factor-off"));
    byId("second-factor").hidden = false;
    return true;
  }

  async function startEnrolment() {
    say("Starting two-step sign-in…");
    const result = await call("POST", "/auth/second-factor/enrolment");
    if (!accepted(result)) return;
    showPart("enrolment");
    byId("second-factor-qr").replaceChildren(qrCode(result.body.qr_svg) || element("p", {
      textContent: "The QR code could not be shown: type the secret into the app." }));
    byId("second-factor-secret").textContent = result.body.secret;
    byId("enrolment-heading").focus();
    say("Add your account to your authenticator app, then enter the code it shows.");
  }

  async function confirmEnrolment() {
    const field = byId("enrolment-code");
    const code = field.value.replace(/\s/g, "");
    if (!code) return refuse(field, "Enter a code first.");
    say("Checking the code…");
    const result = await call("POST", "/auth/second-factor/enrolment/confirm", { code });
    if (result && result.body?.error === "Invalid credentials") {
      return refuse(field, "That code is not right. Check that the app shows this account, "
        + "and enter the code it shows now.");
    }
    if (accepted(result, field)) {
      showCodes(result.body.recovery_codes, "Two-step sign-in is on. Keep your recovery codes.");
    }
  }

  function showCodes(codes, message) {
    describe({ enabled: true, recovery_codes_left: codes.length });
    showPart("recovery-codes-shown");
    byId("recovery-codes").replaceChildren(
      ...codes.map((code) => element("li", { textContent: code })));
    byId("recovery-codes-heading").focus();
    say(message);
  }

  async function copyCodes() {
    try {
      const codes = [...byId("recovery-codes").children].map((item) => item.textContent);
      await navigator.clipboard.writeText(codes.join("\n"));
      say("Copied.");
    } catch {
      say("The codes could not be copied: select them, and copy them yourself.", true);
    }
  }

  // The acts that need a current code (or a recovery code), by the id of their button, whose
  // data- attributes hold the check's texts.
  const ACTS = { "new-recovery-codes": makeNewCodes, "second-factor-stop": turnOff };

  function openCheck(button) {
    openedBy = button;
    byId("check-heading").textContent = button.textContent;
    byId("check-hint").textContent = button.dataset.hint;
    byId("check-submit").textContent = button.dataset.confirm;
    showPart("second-factor-check");
    byId("check-code").focus();
  }

  async function submitCheck() {
    const field = byId("check-code");
    const entered = field.value.trim();
    if (!entered) return refuse(field, "Enter a code first.");
    const digits = entered.replace(/\s/g, "");
    say("Checking the code…");
    await ACTS[openedBy.id](/^\d{6}$/.test(digits) ? { code: digits }
      : { recovery_code: entered }, field);
  }

  async function makeNewCodes(body, field) {
    const result = await call("POST", "/auth/second-factor/recovery-codes", body);
    if (accepted(result, field)) {
      showCodes(result.body.recovery_codes,
                "New recovery codes made: the old ones no longer work.");
    }
  }

  async function turnOff(body, field) {
    const result = await call("DELETE", "/auth/second-factor", body);
    if (accepted(result, field)) {
      page.signedOut("Two-step sign-in is off, and every session of yours has ended. Sign in "
        + "again with your password.");
    }
  }

  function backTo(part, focus, message = "") {
    showPart(part);
    focus.focus();
    say(message);
  }

  function reset() {
    leaveCodeStep();
    showPart(null);
    byId("second-factor").hidden = true;
  }

  // Every button through guarded() (one request at a time); Enter in a field presses the
  // button its data-enter-presses names.
  const onClick = (id, handler) => byId(id).addEventListener("click", guarded(handler));
  onClick("sign-in-with-code", signInWithCode);
  onClick("switch-code", () => useRecovery(!usingRecovery));
  onClick("start-over", () => startOver("Enter your password again."));
  onClick("second-factor-start", startEnrolment);
  onClick("enrolment-confirm", confirmEnrolment);
  onClick("enrolment-cancel", () => backTo("second-factor-off", byId("second-factor-start"),
                                            "Two-step sign-in stays off."));
  onClick("copy-recovery-codes", copyCodes);
  onClick("recovery-codes-kept", () => backTo("second-factor-on", byId("second-factor-heading")));
  for (const id of Object.keys(ACTS)) onClick(id, openCheck);
  onClick("check-submit", submitCheck);
  onClick("check-cancel", () => backTo("second-factor-on", openedBy));
  for (const field of document.querySelectorAll("[data-enter-presses]")) {
    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      byId(field.dataset.enterPresses).click();
    });
  }

  return Object.freeze({ challenged, showing, reset });
}
