// The account's "Your sessions" table on the account page (docs/browser-apps.md#the-account-page):
// where the user is signed in, "this device" marked, with a button that ends each other
// session, and "Refresh the list". A module: account.js imports it and gives install() what
// it needs. What a session says of itself (its user agent) is shown as text, never as markup.

export function install(page) {
  const { byId, element, cell, when, say, problem, succeeded, call, guarded } = page;

  // The user's sessions into the table; whether they could be listed (if not, it is said).
  async function showing() {
    const result = await call("GET", "/auth/sessions");
    if (!succeeded(result)) return false;
    byId("sessions").replaceChildren(...result.body.sessions.map(sessionRow));
    return true;
  }

  function sessionRow(session) {
    const action = session.current
      ? element("strong", { className: "this-device", textContent: "This device" })
      : element("button", { type: "button", textContent: "End session" });
    if (!session.current) {
      action.setAttribute("aria-label", `End session ${session.id}`);
      action.addEventListener("click", guarded(() => endSession(session.id)));
    }
    const row = document.createElement("tr");
    row.append(cell(session.id, "long"), cell(when(session.created_at)),
               cell(when(session.last_used_at)), cell(session.user_agent || "unknown", "long"),
               cell(session.address || "unknown"), cell(action));
    return row;
  }

  // Its row's button leaves the page with the row: the focus goes to "Refresh the list".
  async function endSession(id) {
    const result = await call("DELETE", `/auth/sessions/${encodeURIComponent(id)}`);
    if (!result) return;
    if (await showing()) byId("list-sessions").focus();
    say(result.ok ? `Session ${id} ended.` : problem(result), !result.ok);
  }

  byId("list-sessions").addEventListener("click", guarded(async () => {
    if (await showing()) say("The list of sessions is up to date.");
  }));
  return Object.freeze({ showing });
}
