// Two-step sign-in on the account page (docs/second-factor.md): the account's section, and
// signing in's code step (sign-in-code.js, imported here). A module: account.js imports it and
// gives install() what it needs. A secret or recovery codes shown leave the page as soon as
// their step is over.

import { codeBody, codesLeft, installCodeStep } from "./sign-in-code.js";

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

// The server's QR code, rebuilt element by element from the allow-lists above: the text is
// parsed as XML, which is inert (nothing in it runs or loads), and never inserted as markup.
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
  const codeStep = installCodeStep(page);
  let openedBy = null; // the button that opened the check (a code asked for an act)

  function refuse(field, message) {
    say(message, true);
    field.focus();
    field.select();
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
    if (!accepted(result, field)) return;
    const removed = result.body.passkeys_removed.map((passkey) => `“${passkey.name}”`);
    showCodes(result.body.recovery_codes, "Two-step sign-in is on. Keep your recovery codes."
      + (removed.length ? ` Passkeys added with your password alone were removed: `
        + `${removed.join(", ")}; add yours again.` : ""));
    await page.relistAll(); // every other session ended, and those passkeys
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
    say("Checking the code…");
    await ACTS[openedBy.id](codeBody(entered), field);
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
      page.signedOut("Two-step sign-in is off, and every session of yours has ended"
        + (result.body.passkeys_removed.length ? ", with your passkeys" : "")
        + ". Sign in again with your password.");
    }
  }

  function backTo(part, focus, message = "") {
    showPart(part);
    focus.focus();
    say(message);
  }

  function reset() {
    codeStep.reset();
    showPart(null);
    byId("second-factor").hidden = true;
  }

  // Every button through guarded() (one request at a time).
  const onClick = (id, handler) => byId(id).addEventListener("click", guarded(handler));
  onClick("second-factor-start", startEnrolment);
  onClick("enrolment-confirm", confirmEnrolment);
  onClick("enrolment-cancel", () => backTo("second-factor-off", byId("second-factor-start"),
                                            "Two-step sign-in stays off."));
  onClick("copy-recovery-codes", copyCodes);
  onClick("recovery-codes-kept", () => backTo("second-factor-on", byId("second-factor-heading")));
  for (const id of Object.keys(ACTS)) onClick(id, openCheck);
  onClick("check-submit", submitCheck);
  onClick("check-cancel", () => backTo("second-factor-on", openedBy));

  return Object.freeze({ challenged: codeStep.challenged, codeBody, showing, reset });
}
