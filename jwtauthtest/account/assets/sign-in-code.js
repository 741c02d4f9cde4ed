// Two-step sign-in's code step on the account page (docs/second-factor.md): after a right
// password, the code from the authenticator app or a recovery code. A module: second-factor.js
// imports it and gives installCodeStep() the page's interface. The sign-in's challenge lives
// in a variable here only.

export function codesLeft(count) {
  if (count === 0) return "no recovery codes are left: make new ones now.";
  return count === 1 ? "1 recovery code is left." : `${count} recovery codes are left.`;
}

// What was typed into a field that takes either kind of code, as a request's keys: six digits
// (spaces aside) are the app's code, anything else a recovery code.
export function codeBody(entered) {
  const digits = entered.replace(/\s/g, "");
  return /^\d{6}$/.test(digits) ? { code: digits } : { recovery_code: entered };
}

// The step's buttons are bound here; its hooks are returned: challenged(result), whether a
// sign-in's answer asks for a code (the step is then shown), and reset().
export function installCodeStep(page) {
  const { byId, say, guarded } = page;
  let challenge = null; // between a right password and its code
  let usingRecovery = false; // the step asks for a recovery code

  function refuse(field, message) {
    say(message, true);
    field.focus();
    field.select();
  }

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

  function reset() {
    challenge = null;
    byId("sign-in-code").value = "";
    byId("sign-in-recovery-code").value = "";
    byId("code-step").hidden = true;
    byId("sign-in-form").hidden = false;
  }

  function startOver(message, isError = false) {
    reset();
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
      reset();
      const left = result.body.recovery_codes_left;
      return page.signedIn(result.body, left === undefined ? "Signed in."
        : `Signed in with a recovery code; ${codesLeft(left)}`);
    }
    if (result.body && result.body.error === "Invalid challenge") {
      return startOver("This sign-in has expired. Please enter your password again.", true);
    }
    refuse(field, page.problem(result));
  }

  const onClick = (id, handler) => byId(id).addEventListener("click", guarded(handler));
  onClick("sign-in-with-code", signInWithCode);
  onClick("switch-code", () => useRecovery(!usingRecovery));
  onClick("start-over", () => startOver("Enter your password again."));

  return Object.freeze({ challenged, reset });
}
