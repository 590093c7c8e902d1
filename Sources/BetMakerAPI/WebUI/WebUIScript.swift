/// The web UI's one script (`/ui/assets/app.js`). It acts through the API's own endpoints with
/// `fetch` (same origin, the session cookie), always sending `X-Requested-With: bet-maker`, which the
/// CSRF rule asks of cookie-authenticated writes, and shows a refusal's problem+json next to the
/// field it names. It never builds HTML from data: text goes in through `textContent`.
enum WebUIScript {
    static let text = #"""
        "use strict";
        (function () {
          const headers = { "Content-Type": "application/json", "X-Requested-With": "bet-maker" };

          async function call(method, path, body, extra) {
            const response = await fetch(path, {
              method, headers: Object.assign({}, headers, extra || {}), credentials: "same-origin",
              body: body === undefined ? undefined : JSON.stringify(body),
            });
            let json = null;
            try { json = await response.json(); } catch (e) { json = null; }
            return { ok: response.ok, status: response.status, json };
          }

          function clearErrors(root) {
            root.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; });
          }

          // A problem's field errors go next to their fields; anything else next to the form.
          const fieldOfProblem = { "insufficient-funds": "amount", "no-such-account": "amount" };
          function showProblem(root, problem, status) {
            clearErrors(root);
            const place = (field, text) => {
              const el = root.querySelector('[data-error-for="' + field + '"]') || root.querySelector('[data-error-for="form"]');
              if (el) el.textContent = el.textContent ? el.textContent + " " + text : text;
            };
            if (!problem) { place("form", "The request failed (" + status + ")."); return; }
            if (Array.isArray(problem.errors) && problem.errors.length) {
              problem.errors.forEach((e) => place(e.field, e.field + " " + e.reason));
              return;
            }
            const slug = (problem.type || "").replace("/problems/", "");
            place(fieldOfProblem[slug] || "form", problem.detail || problem.title);
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
            },
            async bet(form) {
              const body = { event_id: form.dataset.eventId, amount: form.elements.amount.value.trim() };
              const r = await call("POST", "/bets", body, { "Idempotency-Key": crypto.randomUUID() });
              const placed = form.querySelector("[data-placed]");
              if (!r.ok) { placed.textContent = ""; showProblem(form, r.json, r.status); return; }
              clearErrors(form);
              placed.textContent = "Bet " + r.json.id + " placed: " + r.json.status + ", payout " + r.json.payout;
              refreshBalance();
            },
            "event-create": (form) => {
              const body = formBody(form);
              body.open = form.elements.open.checked;
              return catalogueCall(form, "POST", "/admin/events", body);
            },
            "event-edit": (form) => catalogueCall(form, "PATCH", "/admin/events/" + eventPath(form), formBody(form)),
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
              placed.textContent = "Trade " + r.json.id + " placed at " + r.json.start.price;
              addTrade(r.json);
              refreshBalance();
            },
          };

          // The trade screen: a new trade's row, from the page's <template>, filled with text only.
          function addTrade(trade) {
            const template = document.querySelector("template[data-trade-row]");
            const row = template.content.firstElementChild.cloneNode(true);
            row.dataset.tradeId = trade.id;
            row.dataset.symbol = trade.symbol;
            row.dataset.expires = String(Date.parse(trade.expires_at));
            const cells = {
              "[data-id]": trade.id, "[data-symbol-cell]": trade.symbol, "[data-direction]": trade.direction, "[data-stake]": trade.amount,
              "[data-leverage]": String(trade.leverage), "[data-start]": trade.start.price,
            };
            Object.keys(cells).forEach((selector) => { row.querySelector(selector).textContent = cells[selector]; });
            showTrade(row, trade);
            document.querySelector("tbody[data-trades]").prepend(row);
            const none = document.querySelector("[data-no-trades]");
            if (none) none.hidden = true;
            countDown();
          }
          function showTrade(row, trade) {
            const status = row.querySelector("[data-status]");
            status.textContent = trade.status;
            status.className = "status status-" + trade.status;
            if (trade.status === "open") return;
            delete row.dataset.expires;
            row.querySelector("[data-countdown]").textContent = trade.expires_at;
            row.querySelector("[data-end]").textContent = trade.end ? trade.end.price : "";
            row.querySelector("[data-profit]").textContent = trade.profit || "";
            row.querySelector("[data-trade-payout]").textContent = trade.payout || "";
          }
          // Open trades of `symbol` (all when null) read again: a closing call named this player.
          async function refreshTrades(symbol, dueOnly) {
            const rows = Array.from(document.querySelectorAll("tr[data-trade-id][data-expires]"))
              .filter((row) => (symbol === null || row.dataset.symbol === symbol) && (!dueOnly || Number(row.dataset.expires) <= Date.now()));
            for (const row of rows) {
              const r = await call("GET", "/trades/" + encodeURIComponent(row.dataset.tradeId));
              if (r.ok) showTrade(row, r.json);
            }
            if (rows.length) refreshBalance();
          }
          function countDown() {
            document.querySelectorAll("tr[data-trade-id][data-expires]").forEach((row) => {
              const left = Math.ceil((Number(row.dataset.expires) - Date.now()) / 1000);
              row.querySelector("[data-countdown]").textContent = left > 0 ? left + " s" : "settling…";
            });
          }
          if (document.querySelector("tbody[data-trades]")) {
            countDown();
            setInterval(countDown, 1000);
          }

          async function refreshBalance() {
            const el = document.querySelector("[data-balance]");
            if (!el) return;
            const r = await call("GET", "/users/me?limit=1");
            if (r.ok && r.json.accounts && r.json.accounts.length) el.textContent = r.json.accounts[0].balance;
          }

          document.addEventListener("submit", (event) => {
            const form = event.target.closest("form[data-form]");
            if (!form) return;
            event.preventDefault();
            handlers[form.dataset.form](form);
          });

          document.addEventListener("input", (event) => {
            const form = event.target.closest('form[data-form="bet"]');
            if (!form) return;
            const stake = cents(form.elements.amount.value);
            const odds = cents(form.dataset.odds);
            form.querySelector("[data-payout]").textContent = stake === null || odds === null ? "–" : money((stake * odds) / 100n);
          });

          document.addEventListener("click", async (event) => {
            const button = event.target.closest(
              "button[data-action], button[data-report], button[data-take], button[data-user-change], button[data-event-change], "
                + "button[data-retry], button[data-erase]");
            if (!button) return;
            if (button.dataset.retry !== undefined) {
              const letter = button.closest("[data-dead-letter-id]");
              const r = await call("POST", "/admin/dead-letters/" + encodeURIComponent(letter.dataset.deadLetterId) + "/retry");
              if (!r.ok) { showProblem(letter, r.json, r.status); return; }
              clearErrors(letter);
              button.remove();
              letter.querySelector("[data-retried]").textContent = "Re-driven as entry " + r.json.entry_id + " of event " + r.json.event_id;
              return;
            }
            if (button.dataset.erase !== undefined) {
              const contact = button.closest("[data-contact]");
              const r = await call("DELETE", "/admin/contacts/" + encodeURIComponent(contact.dataset.contact));
              if (r.ok) { contact.remove(); } else { showProblem(contact, r.json, r.status); }
              return;
            }
            if (button.dataset.eventChange) {
              const row = button.closest("[data-event-id]");
              const actions = button.closest("[data-event-actions]");
              const path = "/admin/events/" + encodeURIComponent(row.dataset.eventId);
              const change = button.dataset.eventChange;
              const r = change === "delete" ? await call("DELETE", path) : await call("PATCH", path, { open: change === "open" });
              if (!r.ok) { showProblem(actions, r.json, r.status); return; }
              if (change === "delete") { row.remove(); } else { location.reload(); }
              return;
            }
            if (button.dataset.userChange) {
              const user = button.closest("[data-user-id]");
              const change = button.dataset.userChange;
              const body = change === "enable" || change === "disable" ? { active: change === "enable" } : { role: change };
              const r = await call("PATCH", "/admin/users/" + user.dataset.userId, body);
              if (r.ok) { location.reload(); } else { showProblem(user, r.json, r.status); }
              return;
            }
            if (button.dataset.action === "logout") {
              await call("DELETE", "/auth");
              location.assign("/ui/login");
              return;
            }
            const row = button.closest("[data-event-id]");
            if (button.dataset.take !== undefined) {
              const taken = await call("POST", "/events/" + encodeURIComponent(row.dataset.eventId) + "/take");
              if (taken.ok) {
                clearErrors(row);
                row.querySelector("[data-state]").textContent = taken.json.state;
                row.querySelector("[data-reported]").textContent = "Taken";
              } else {
                showProblem(row, taken.json, taken.status);
              }
              return;
            }
            const r = await call("PUT", "/events/" + encodeURIComponent(row.dataset.eventId), { status: button.dataset.report });
            const reported = row.querySelector("[data-reported]");
            if (r.ok) {
              clearErrors(row);
              reported.textContent = "Reported " + button.dataset.report;
              row.querySelector("[data-result]").textContent = button.dataset.report;
            } else if (r.status === 409 && r.json && r.json.current_result) {
              reported.textContent = "";
              showProblem(row, { detail: "Conflict: somebody else reported it as " + r.json.current_result + " first." }, r.status);
            } else {
              reported.textContent = "";
              showProblem(row, r.json, r.status);
            }
          });

          // Live updates: a settled bet of the player's flips and the balance follows; an operator sees
          // settlement progress. The browser reconnects by itself, sending Last-Event-ID.
          async function settle(eventID) {
            const rows = Array.from(document.querySelectorAll("tr[data-bet-id]")).filter((row) => row.dataset.event === eventID);
            for (const row of rows) {
              const status = row.querySelector("[data-status]");
              if (status.textContent !== "pending") continue;
              const r = await call("GET", "/bets/" + encodeURIComponent(row.dataset.betId));
              if (r.ok) { status.textContent = r.json.status; status.className = "status status-" + r.json.status; }
            }
            refreshBalance();
          }
          function eventRow(eventID) {
            return Array.from(document.querySelectorAll("tr[data-event-id]")).find((row) => row.dataset.eventId === eventID);
          }
          if (document.body.dataset.live) {
            const source = new EventSource("/ui/stream");
            source.addEventListener("settlement", (event) => settle(JSON.parse(event.data).event_id));
            source.addEventListener("progress", (event) => {
              const progress = JSON.parse(event.data);
              const row = eventRow(progress.event_id);
              if (!row) return;
              row.querySelector("[data-result]").textContent = progress.result;
              row.querySelector("[data-progress]").textContent =
                progress.settled + " of " + progress.total + " settled, paid " + progress.paid;
            });
            source.addEventListener("tick", (event) => {
              const tick = JSON.parse(event.data);
              const quote = Array.from(document.querySelectorAll("[data-quote]")).find((el) => el.dataset.quote === tick.symbol);
              if (quote) quote.textContent = tick.price;
            });
            source.addEventListener("trades", (event) => refreshTrades(JSON.parse(event.data).symbol, false));
            // Updates were missed for good: what the page shows may be stale.
            source.addEventListener("reset", () => location.reload());
            document.body.dataset.liveState = "connecting";
            source.addEventListener("open", () => {
              document.body.dataset.liveState = "open";
              // A trade closed while the page was not listening yet (no Last-Event-ID to resume from).
              refreshTrades(null, true);
            });
          }

          const activation = document.querySelector("[data-activate]");
          if (activation) {
            call("GET", "/users/activate/" + encodeURIComponent(activation.dataset.activate)).then((r) => {
              activation.textContent = r.ok ? "Your account is active. Log in." : (r.json && r.json.detail) || "Activation failed.";
              activation.className = r.ok ? "notice" : "error";
            });
          }
        })();

        """#
}
