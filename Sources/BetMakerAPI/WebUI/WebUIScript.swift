/// The web UI's one script (`/ui/assets/app.js`). It acts through the API's own endpoints with
/// `fetch` (same origin, the session cookie), always sending `X-Requested-With: bet-maker`, which the
/// CSRF rule asks of cookie-authenticated writes, and shows a refusal's problem+json next to the
/// field it names. It never builds HTML from data: text goes in through `textContent`.
///
/// One function scope, in four parts: this one (calls, errors, forms, buttons), `format` (times and
/// prices in the viewer's zone and language), `chart` (the trade screen's SVG chart) and `live` (the
/// Server-Sent Events and what they change).
enum WebUIScript {
    static let text = "\"use strict\";\n(function () {\n" + core + format + chart + live + "})();\n"

    static let core = #"""
          const headers = { "Content-Type": "application/json", "X-Requested-With": "bet-maker" };

          // status 0: the request never got an answer (offline, the server down).
          async function call(method, path, body, extra) {
            let response;
            try {
              response = await fetch(path, {
                method, headers: Object.assign({}, headers, extra || {}), credentials: "same-origin",
                body: body === undefined ? undefined : JSON.stringify(body),
              });
            } catch (e) {
              return { ok: false, status: 0, json: null };
            }
            let json = null;
            try { json = await response.json(); } catch (e) { json = null; }
            return { ok: response.ok, status: response.status, json };
          }

          // The page's polite live region: what changed without a reload, and refusals, for screen readers.
          const announcer = document.querySelector("[data-announce]");
          function announce(text) {
            if (!announcer || !text) return;
            announcer.textContent = "";
            setTimeout(() => { announcer.textContent = text; }, 60);
          }

          function clearErrors(root) {
            root.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; });
            root.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
          }

          function failure(status) {
            if (status === 0) return "The server cannot be reached. Check your connection, then try again.";
            if (status === 401) return "Your session has ended. Log in again, then repeat this.";
            if (status >= 500) return "The server could not do this (" + status + "). Try again in a moment.";
            return "The request was refused (" + status + "). Reload the page and try again.";
          }

          // A problem's field errors go next to their fields (marked invalid); anything else next to the form.
          const fieldOfProblem = { "insufficient-funds": "amount", "no-such-account": "amount" };
          function showProblem(root, problem, status) {
            clearErrors(root);
            const said = [];
            const place = (field, text) => {
              const el = root.querySelector('[data-error-for="' + CSS.escape(field) + '"]') || root.querySelector('[data-error-for="form"]');
              if (el) el.textContent = el.textContent ? el.textContent + " " + text : text;
              const input = root.querySelector('[name="' + CSS.escape(field) + '"]');
              if (input) input.setAttribute("aria-invalid", "true");
              said.push(text);
            };
            if (!problem) {
              place("form", failure(status));
            } else if (Array.isArray(problem.errors) && problem.errors.length) {
              problem.errors.forEach((e) => place(e.field, e.field + " " + e.reason));
            } else {
              const slug = (problem.type || "").replace("/problems/", "");
              place(fieldOfProblem[slug] || "form", problem.detail || problem.title || failure(status));
            }
            announce(said.join(" "));
          }

          // Exact money: amounts are decimal strings; cents are integers (BigInt), never floats.
          function cents(text) {
            const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text.trim());
            if (!m) return null;
            return BigInt(m[1]) * 100n + BigInt((m[2] || "").padEnd(2, "0"));
          }
          function money(c) {
            const s = c.toString().padStart(3, "0");
            return s.slice(0, -2) + "." + s.slice(-2);
          }

          // A whole number as a JSON number; anything else goes as typed, for the API to name.
          function whole(text) {
            return /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : text;
          }

          // A `datetime-local` value (the viewer's time) as the API's UTC; anything else as typed.
          function utcFromLocal(value) {
            const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? new Date(value).getTime() : NaN;
            return Number.isNaN(ms) ? value : new Date(ms).toISOString();
          }
          function localInputValue(ms) {
            const d = new Date(ms);
            const two = (n) => String(n).padStart(2, "0");
            return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" + two(d.getHours()) + ":" + two(d.getMinutes());
          }
          document.querySelectorAll("input[data-utc]").forEach((input) => {
            const ms = Date.parse(input.dataset.utc);
            if (!Number.isNaN(ms)) input.value = localInputValue(ms);
          });

          // The catalogue's forms: the API's answer applied by reloading the page (state, trader, title).
          async function catalogueCall(form, method, path, body) {
            const r = await call(method, path, body);
            if (r.ok) { location.reload(); } else { showProblem(form, r.json, r.status); }
          }
          const eventPath = (form) => encodeURIComponent(form.dataset.eventId);

          function formBody(form) {
            const body = {};
            new FormData(form).forEach((v, k) => { body[k] = v; });
            return body;
          }
          function eventBody(form) {
            const body = formBody(form);
            body.starts_at = utcFromLocal(body.starts_at || "");
            return body;
          }

          const handlers = {
            async login(form) {
              const r = await call("POST", "/auth?cookie=true", formBody(form));
              if (r.ok) { location.assign("/ui/"); } else { showProblem(form, r.json, r.status); }
            },
            async register(form) {
              const r = await call("POST", "/users", formBody(form));
              if (!r.ok) { showProblem(form, r.json, r.status); return; }
              clearErrors(form);
              // The API's activation link, opened as the UI's landing page.
              const token = r.json.activation_url.split("/").pop();
              const notice = document.querySelector("[data-registered]");
              notice.querySelector("[data-activation-link]").href = "/ui/activate/" + encodeURIComponent(token);
              notice.hidden = false;
              announce("Registered. Follow your activation link.");
            },
            async bet(form) {
              const body = { event_id: form.dataset.eventId, amount: form.elements.amount.value.trim() };
              const r = await call("POST", "/bets", body, { "Idempotency-Key": crypto.randomUUID() });
              const placed = form.querySelector("[data-placed]");
              if (!r.ok) { placed.textContent = ""; showProblem(form, r.json, r.status); return; }
              clearErrors(form);
              placed.textContent = "Bet " + r.json.id + " placed: " + r.json.status + ", payout " + r.json.payout;
              announce(placed.textContent);
              refreshBalance();
            },
            "event-create": (form) => {
              const body = eventBody(form);
              body.open = form.elements.open.checked;
              return catalogueCall(form, "POST", "/admin/events", body);
            },
            "event-edit": (form) => catalogueCall(form, "PATCH", "/admin/events/" + eventPath(form), eventBody(form)),
            "event-assign": (form) =>
              catalogueCall(form, "POST", "/events/" + eventPath(form) + "/assign", { trader_id: whole(form.elements.trader_id.value) }),
            "event-void": (form) => catalogueCall(form, "POST", "/events/" + eventPath(form) + "/void", formBody(form)),
            async trade(form) {
              const body = {
                symbol: form.elements.symbol.value, direction: form.elements.direction.value, amount: form.elements.amount.value.trim(),
                leverage: whole(form.elements.leverage.value), duration: whole(form.elements.duration.value),
              };
              const r = await call("POST", "/trades", body, { "Idempotency-Key": crypto.randomUUID() });
              const placed = form.querySelector("[data-placed]");
              if (!r.ok) { placed.textContent = ""; showProblem(form, r.json, r.status); return; }
              clearErrors(form);
              placed.textContent = "Trade " + r.json.id + " placed: it opens at the next price of " + r.json.symbol + ".";
              announce(placed.textContent);
              addTrade(r.json);
              refreshBalance();
            },
          };

          async function refreshBalance() {
            const el = document.querySelector("[data-balance]");
            if (!el) return;
            const r = await call("GET", "/users/me?limit=1");
            if (r.ok && r.json.accounts && r.json.accounts.length) el.textContent = r.json.accounts[0].balance;
          }

          // A form is busy while its request is out: its button cannot send it twice.
          document.addEventListener("submit", async (event) => {
            const form = event.target.closest("form[data-form]");
            if (!form) return;
            event.preventDefault();
            const button = form.querySelector("button[type=submit]");
            if (button) button.disabled = true;
            try { await handlers[form.dataset.form](form); } finally { if (button) button.disabled = false; }
          });

          document.addEventListener("input", (event) => {
            const form = event.target.closest('form[data-form="bet"]');
            if (!form) return;
            const stake = cents(form.elements.amount.value);
            const odds = cents(form.dataset.odds);
            form.querySelector("[data-payout]").textContent = stake === null || odds === null ? "–" : money((stake * odds) / 100n);
          });

          // The buttons, by the data attribute that names what they do.
          const buttons = {
            async menu(button) {
              const header = button.closest("[data-header]");
              const open = !header.hasAttribute("data-open");
              header.toggleAttribute("data-open", open);
              button.setAttribute("aria-expanded", String(open));
            },
            async action(button) {
              await call("DELETE", "/auth");
              location.assign("/ui/login");
            },
            async manage(button) {
              button.closest("td").querySelector("dialog[data-manage-dialog]").showModal();
            },
            async close(button) {
              button.closest("dialog").close();
            },
            async retry(button) {
              const letter = button.closest("[data-dead-letter-id]");
              const r = await call("POST", "/admin/dead-letters/" + encodeURIComponent(letter.dataset.deadLetterId) + "/retry");
              if (!r.ok) { showProblem(letter, r.json, r.status); return; }
              clearErrors(letter);
              const done = letter.querySelector("[data-retried]");
              done.textContent = "Re-driven as entry " + r.json.entry_id + " of event " + r.json.event_id;
              announce(done.textContent);
              button.remove();
            },
            async erase(button) {
              const contact = button.closest("[data-contact]");
              const r = await call("DELETE", "/admin/contacts/" + encodeURIComponent(contact.dataset.contact));
              if (!r.ok) { showProblem(contact, r.json, r.status); return; }
              announce("Erased " + contact.dataset.contact + ".");
              contact.remove();
            },
            async eventChange(button) {
              const row = button.closest("[data-event-id]");
              const actions = button.closest("[data-event-actions]");
              const path = "/admin/events/" + encodeURIComponent(row.dataset.eventId);
              const change = button.dataset.eventChange;
              const r = change === "delete" ? await call("DELETE", path) : await call("PATCH", path, { open: change === "open" });
              if (!r.ok) { showProblem(actions, r.json, r.status); return; }
              if (change === "delete") {
                button.closest("dialog").close();
                announce("Deleted " + row.dataset.eventId + ".");
                row.remove();
              } else {
                location.reload();
              }
            },
            async userChange(button) {
              const user = button.closest("[data-user-id]");
              const change = button.dataset.userChange;
              const body = change === "enable" || change === "disable" ? { active: change === "enable" } : { role: change };
              const r = await call("PATCH", "/admin/users/" + encodeURIComponent(user.dataset.userId), body);
              if (r.ok) { location.reload(); } else { showProblem(user, r.json, r.status); }
            },
            async take(button) {
              const row = button.closest("[data-event-id]");
              const taken = await call("POST", "/events/" + encodeURIComponent(row.dataset.eventId) + "/take");
              if (!taken.ok) { showProblem(row, taken.json, taken.status); return; }
              clearErrors(row);
              row.querySelector("[data-state]").textContent = taken.json.state;
              row.querySelector("[data-reported]").textContent = "Taken";
              announce("Taken: " + row.dataset.eventId + ".");
            },
            async report(button) {
              const row = button.closest("[data-event-id]");
              const r = await call("PUT", "/events/" + encodeURIComponent(row.dataset.eventId), { status: button.dataset.report });
              const reported = row.querySelector("[data-reported]");
              if (r.ok) {
                clearErrors(row);
                reported.textContent = "Reported " + button.dataset.report;
                showResulted(row, button.dataset.report);
                announce(reported.textContent + " for " + row.dataset.eventId + ".");
              } else if (r.status === 409 && r.json && r.json.current_result) {
                reported.textContent = "";
                showProblem(row, { detail: "Conflict: somebody else reported it as " + r.json.current_result + " first." }, r.status);
                showResulted(row, r.json.current_result);
              } else {
                reported.textContent = "";
                showProblem(row, r.json, r.status);
              }
            },
          };
          // An event with its result: the state says so, and nothing is left to take or report.
          function showResulted(row, result) {
            row.querySelector("[data-result]").textContent = result;
            const state = row.querySelector("[data-state]");
            const name = result === "VOID" ? "void" : "resulted";
            state.textContent = name;
            state.className = "state state-" + name;
            row.querySelectorAll("button[data-report], button[data-take]").forEach((el) => el.remove());
          }
          const buttonNames = Object.keys(buttons);
          document.addEventListener("click", (event) => {
            const button = event.target.closest("button");
            if (!button) return;
            const name = buttonNames.find((key) => button.dataset[key] !== undefined);
            if (name) buttons[name](button);
          });
          // A click on a dialog's backdrop (outside its box) closes it, as Escape does.
          document.querySelectorAll("dialog").forEach((dialog) => {
            dialog.addEventListener("click", (event) => {
              const box = dialog.getBoundingClientRect();
              const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
              if (event.target === dialog && !inside) dialog.close();
            });
          });

          const activation = document.querySelector("[data-activate]");
          if (activation) {
            call("GET", "/users/activate/" + encodeURIComponent(activation.dataset.activate)).then((r) => {
              activation.textContent = r.ok ? "Your account is active. Log in." : (r.json && r.json.detail) || failure(r.status);
              activation.className = r.ok ? "notice" : "error";
            });
          }

        """#
}
