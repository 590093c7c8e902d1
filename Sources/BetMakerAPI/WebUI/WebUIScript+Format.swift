extension WebUIScript {
    /// Times in the viewer's zone and language (`Intl`), relative where the page asks for it, the exact
    /// UTC time in the `title`; prices with the precision that fits the symbol, rounded exactly from
    /// their decimal text (BigInt), never through a float.
    static let format = #"""
          const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
          const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
          const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
          function utcText(ms) {
            const iso = new Date(ms).toISOString();
            return iso.slice(0, 10) + " " + iso.slice(11, 19) + " UTC";
          }
          // "in 2 hours", "5 minutes ago", "tomorrow", "in 3 years".
          function relativeText(ms) {
            const seconds = Math.round((ms - Date.now()) / 1000);
            const size = Math.abs(seconds);
            if (size < 45) return relativeFormat.format(seconds, "second");
            if (size < 45 * 60) return relativeFormat.format(Math.round(seconds / 60), "minute");
            if (size < 36 * 3600) return relativeFormat.format(Math.round(seconds / 3600), "hour");
            if (size < 45 * 86400) return relativeFormat.format(Math.round(seconds / 86400), "day");
            if (size < 540 * 86400) return relativeFormat.format(Math.round(seconds / (30.44 * 86400)), "month");
            return relativeFormat.format(Math.round(seconds / (365.25 * 86400)), "year");
          }
          function showTimes(root) {
            (root || document).querySelectorAll("time[data-time]").forEach((el) => {
              const ms = Date.parse(el.getAttribute("datetime"));
              if (Number.isNaN(ms)) return;
              el.title = utcText(ms);
              const when = dateTimeFormat.format(ms);
              el.textContent = el.dataset.time === "relative" ? relativeText(ms) + " · " + when : when;
            });
          }
          // A countdown: "0:42", "12:05", "1:02:09".
          function clock(ms) {
            const s = Math.max(0, Math.ceil(ms / 1000));
            const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), two = (n) => String(n).padStart(2, "0");
            return (h ? h + ":" + two(m) : String(m)) + ":" + two(s % 60);
          }

          // Decimals per symbol, from the first price seen: about six significant digits, at least two
          // (97,012.35; 3,456.78; 145.230; 0.5234).
          const priceDecimals = {};
          function decimalsFor(symbol, text) {
            if (priceDecimals[symbol] === undefined) {
              const m = /^(\d+)(?:\.(\d*))?$/.exec(text);
              if (!m) return 8;
              const integer = m[1].replace(/^0+/, "");
              const zeros = ((m[2] || "").match(/^0*/) || [""])[0].length;
              priceDecimals[symbol] = integer.length ? Math.max(2, 6 - integer.length) : Math.min(8, zeros + 4);
            }
            return priceDecimals[symbol];
          }
          const groupFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
          const decimalMark = (new Intl.NumberFormat().formatToParts(1.5).find((p) => p.type === "decimal") || { value: "." }).value;
          function formatPrice(symbol, text) {
            const m = /^(\d+)(?:\.(\d+))?$/.exec(text || "");
            if (!m) return text;
            const decimals = decimalsFor(symbol, text);
            let units = BigInt(m[1]) * 100000000n + BigInt(((m[2] || "") + "00000000").slice(0, 8));
            const step = 10n ** BigInt(8 - decimals);
            units = (units + step / 2n) / step;
            const scale = 10n ** BigInt(decimals);
            const fraction = (units % scale).toString().padStart(decimals, "0");
            return groupFormat.format(units / scale) + (decimals ? decimalMark + fraction : "");
          }
          // Every [data-price] in `root`: its symbol is its row's, or its own `data-quote`.
          function showPrices(root) {
            (root || document).querySelectorAll("[data-price]").forEach((el) => {
              const exact = el.dataset.price;
              const owner = el.closest("[data-symbol]");
              const symbol = el.dataset.quote || (owner && owner.dataset.symbol);
              if (!symbol || !/^\d/.test(exact || "")) return;
              el.textContent = formatPrice(symbol, exact);
              el.title = exact + " USD";
            });
          }
          showTimes();
          showPrices();
          setInterval(() => showTimes(), 30000);

        """#
}
