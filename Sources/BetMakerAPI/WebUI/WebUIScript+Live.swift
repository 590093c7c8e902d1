extension WebUIScript {
    /// What changes without a reload: the trade rows (a new one, a countdown, a result), a player's
    /// bets as their events settle, the operator's settlement progress bars, the prices and the chart.
    /// The browser's `EventSource` reconnects by itself, sending `Last-Event-ID`.
    static let live = #"""
          // The trade screen: a new trade's row, from the page's <template>, filled with text only.
          function addTrade(trade) {
            const template = document.querySelector("template[data-trade-row]");
            const row = template.content.firstElementChild.cloneNode(true);
            Object.assign(row.dataset, { tradeId: trade.id, symbol: trade.symbol });
            const cells = {
              "[data-name]": trade.symbol + " " + trade.direction, "[data-id]": trade.id, "[data-stake]": trade.amount + " × " + trade.leverage,
            };
            Object.keys(cells).forEach((selector) => { row.querySelector(selector).textContent = cells[selector]; });
            showTrade(row, trade);
            document.querySelector("tbody[data-trades]").prepend(row);
            showPrices(row);
            const none = document.querySelector("[data-no-trades]");
            if (none) none.hidden = true;
            countDown();
            drawChart();
          }
          function showTrade(row, trade) {
            const status = row.querySelector("[data-status]");
            status.textContent = trade.status;
            status.className = "status status-" + trade.status;
            if (trade.status === "pending") {
              // Its start price is the next tick's, which nobody knows yet.
              row.dataset.pending = "";
              row.querySelector("[data-start]").textContent = "next price";
              row.querySelector("[data-countdown]").textContent = "opens at the next price";
              return;
            }
            if ("pending" in row.dataset && trade.start) {
              delete row.dataset.pending;
              Object.assign(row.dataset, {
                expires: String(Date.parse(trade.expires_at)), startPrice: trade.start.price, stopPrice: trade.liquidation_price || "",
              });
              row.querySelector("[data-start]").dataset.price = trade.start.price;
              const stop = row.querySelector("[data-stop]");
              stop.dataset.price = trade.liquidation_price || "";
              stop.textContent = trade.liquidation_price || "none";
              showPrices(row);
              if (trade.status === "open") {
                announce("Trade " + trade.id + " opened at " + formatPrice(trade.symbol, trade.start.price) + ".");
                countDown();
                drawChart();
              }
            }
            if (trade.status === "open") return;
            delete row.dataset.pending;
            const wasOpen = Boolean(row.dataset.expires);
            delete row.dataset.expires;
            const expired = document.createElement("time");
            if (trade.expires_at) {
              expired.setAttribute("datetime", trade.expires_at);
              expired.dataset.time = "absolute";
            }
            row.querySelector("[data-countdown]").replaceChildren(expired);
            const end = row.querySelector("[data-end]");
            end.dataset.price = trade.end ? trade.end.price : "";
            end.textContent = "";
            row.querySelector("[data-profit]").textContent = trade.profit || "";
            row.querySelector("[data-trade-payout]").textContent = trade.payout || "";
            showTimes(row);
            showPrices(row);
            if (wasOpen) {
              announce("Trade " + trade.id + " " + trade.status + (trade.payout ? ", payout " + trade.payout : "") + ".");
              drawChart();
            }
          }
          // Pending trades and open ones of `symbol` (all when null) read again: an opening or closing call
          // named this player.
          async function refreshTrades(symbol, dueOnly) {
            const rows = openRows()
              .filter((row) => (symbol === null || row.dataset.symbol === symbol) && (!dueOnly || Number(row.dataset.expires) <= Date.now()))
              .concat(pendingRows().filter((row) => symbol === null || row.dataset.symbol === symbol));
            for (const row of rows) {
              const r = await call("GET", "/trades/" + encodeURIComponent(row.dataset.tradeId));
              if (r.ok) showTrade(row, r.json);
            }
            if (rows.length) refreshBalance();
          }
          // Each open row counts down to its expiry; the chart's header to the next expiry of its symbol.
          function countDown() {
            openRows().forEach((row) => {
              const left = Number(row.dataset.expires) - Date.now();
              row.querySelector("[data-countdown]").textContent = left > 0 ? clock(left) : "settling…";
            });
            const header = document.querySelector("[data-chart-countdown]");
            if (!header) return;
            const next = openTrades(chartSymbol()).sort((a, b) => a.expires - b.expires)[0];
            if (!next) { header.textContent = ""; return; }
            const left = next.expires - Date.now();
            header.textContent = left > 0 ? "Trade " + next.id + " expires in " + clock(left) : "Trade " + next.id + " is settling…";
          }
          if (document.querySelector("tbody[data-trades]")) {
            countDown();
            setInterval(countDown, 1000);
          }

          // My bets: the rows of a settled event still pending are read again; the balance follows.
          async function settle(eventID) {
            const rows = Array.from(document.querySelectorAll("tr[data-bet-id]")).filter((row) => row.dataset.event === eventID);
            const changed = [];
            for (const row of rows) {
              const status = row.querySelector("[data-status]");
              if (status.textContent !== "pending") continue;
              const r = await call("GET", "/bets/" + encodeURIComponent(row.dataset.betId));
              if (!r.ok) continue;
              status.textContent = r.json.status;
              status.className = "status status-" + r.json.status;
              changed.push(r.json.status);
            }
            if (changed.length) announce("Your bet" + (changed.length > 1 ? "s" : "") + " on " + eventID + ": " + changed.join(", ") + ".");
            refreshBalance();
          }
          function eventRow(eventID) {
            return Array.from(document.querySelectorAll("tr[data-event-id]")).find((row) => row.dataset.eventId === eventID);
          }
          // The operator's events: the settlement bar fills batch by batch.
          function progress(update) {
            const row = eventRow(update.event_id);
            if (!row) return;
            showResulted(row, update.result);
            const bar = row.querySelector("progress");
            bar.hidden = false;
            bar.max = Math.max(1, update.total);
            bar.value = update.settled;
            row.querySelector("[data-progress-text]").textContent = update.settled + " of " + update.total + " settled, paid " + update.paid;
          }
          function tick(update) {
            const quote = Array.from(document.querySelectorAll("[data-quote]")).find((el) => el.dataset.quote === update.symbol);
            if (quote) {
              quote.dataset.price = update.price;
              showPrices(quote.parentElement);
            }
            addTick(update.symbol, update);
          }
          if (document.body.dataset.live) {
            const source = new EventSource("/ui/stream");
            const on = (name, handle) => source.addEventListener(name, (event) => handle(JSON.parse(event.data)));
            on("settlement", (update) => settle(update.event_id));
            on("progress", progress);
            on("tick", tick);
            on("trades", (update) => refreshTrades(update.symbol, false));
            // Updates were missed for good: what the page shows may be stale.
            source.addEventListener("reset", () => location.reload());
            document.body.dataset.liveState = "connecting";
            source.addEventListener("open", () => {
              document.body.dataset.liveState = "open";
              // A trade closed while the page was not listening yet (no Last-Event-ID to resume from).
              refreshTrades(null, true);
            });
            source.addEventListener("error", () => { document.body.dataset.liveState = "connecting"; });
          }

        """#
}
