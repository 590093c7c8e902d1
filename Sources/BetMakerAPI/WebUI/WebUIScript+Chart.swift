extension WebUIScript {
    /// The trade screen's chart: the chosen symbol's recent ticks as an SVG path (the page's
    /// `data-ticks`, then each `tick` event), the player's open trades of that symbol as lines at their
    /// start and stop-out prices, and a countdown to the next of their expiries. Drawn here, without a
    /// library; the path's `data-points` says how many ticks it holds.
    static let chart = #"""
          const chartView = document.querySelector("svg[data-chart]");
          const chartSelect = document.querySelector("[data-chart-select]");
          const history = {};
          const chartLength = 300;
          document.querySelectorAll("[data-ticks]").forEach((el) => {
            history[el.dataset.ticks] = (el.dataset.points || "").split(" ").filter(Boolean).map((pair) => {
              const at = pair.indexOf(":");
              return { t: Number(pair.slice(0, at)), text: pair.slice(at + 1) };
            });
          });
          const chartSymbol = () => (chartSelect ? chartSelect.value : "");

          function addTick(symbol, tick) {
            const list = history[symbol] || (history[symbol] = []);
            const t = Number(String(tick.tick).split("-")[0]);
            if (list.length && list[list.length - 1].t > t) return;
            list.push({ t, text: tick.price });
            if (list.length > chartLength) list.splice(0, list.length - chartLength);
            if (symbol === chartSymbol()) drawChart();
          }

          function svg(name, attributes, text) {
            const el = document.createElementNS("http://www.w3.org/2000/svg", name);
            Object.keys(attributes).forEach((key) => el.setAttribute(key, attributes[key]));
            if (text !== undefined) el.textContent = text;
            chartView.appendChild(el);
            return el;
          }

          // The rows of open trades: a closed one's `data-expires` is empty.
          function openRows() {
            return Array.from(document.querySelectorAll('tr[data-trade-id][data-expires]:not([data-expires=""])'));
          }
          function pendingRows() {
            return Array.from(document.querySelectorAll("tr[data-trade-id][data-pending]"));
          }
          // The open trades on the page of a symbol: start and stop-out prices, expiry (ms).
          function openTrades(symbol) {
            return openRows()
              .filter((row) => row.dataset.symbol === symbol)
              .map((row) => ({
                id: row.dataset.tradeId, start: row.dataset.startPrice, stop: row.dataset.stopPrice, expires: Number(row.dataset.expires),
              }));
          }

          function drawChart() {
            if (!chartView) return;
            const symbol = chartSymbol();
            const points = history[symbol] || [];
            const width = Math.max(240, Math.round(chartView.clientWidth || 600));
            const height = Math.max(140, Math.round(chartView.clientHeight || 240));
            chartView.setAttribute("viewBox", "0 0 " + width + " " + height);
            while (chartView.firstChild) chartView.removeChild(chartView.firstChild);
            document.querySelector("[data-chart-symbol]").textContent = symbol;
            const price = document.querySelector("[data-chart-price]");
            const summary = document.querySelector("[data-chart-summary]");
            if (!points.length) {
              price.textContent = "";
              summary.textContent = "No price of " + symbol + " yet: the chart starts with the first tick.";
              svg("path", { class: "price-line", d: "", "data-chart-line": "", "data-points": "0" });
              return;
            }
            const values = points.map((p) => Number(p.text));
            const trades = openTrades(symbol);
            let low = Math.min(...values), high = Math.max(...values);
            trades.forEach((trade) => { low = Math.min(low, Number(trade.start)); high = Math.max(high, Number(trade.start)); });
            const least = high * 0.0005 || 1;
            if (high - low < least) { const pad = (least - (high - low)) / 2; low -= pad; high += pad; }
            // A stop-out within one range of the prices is drawn; a farther one is named at the edge, so that
            // it does not flatten the line.
            const near = (v) => v > 0 && v >= low - (high - low) && v <= high + (high - low);
            trades.forEach((trade) => {
              const stop = Number(trade.stop);
              if (near(stop)) { low = Math.min(low, stop); high = Math.max(high, stop); }
            });
            const margin = (high - low) * 0.08;
            low = Math.max(0, low - margin);
            high += margin;
            const left = 6, right = 86, top = 10, bottom = 24;
            const plotWidth = width - left - right, plotHeight = height - top - bottom;
            const first = points[0].t, last = points[points.length - 1];
            const span = Math.max(last.t - first, 1);
            const x = (t) => (left + ((t - first) / span) * plotWidth).toFixed(1);
            const y = (v) => (top + (1 - (v - low) / (high - low)) * plotHeight).toFixed(1);
            for (let i = 0; i <= 3; i += 1) {
              const v = low + ((high - low) * i) / 3;
              svg("line", { class: "grid-line", x1: left, x2: left + plotWidth, y1: y(v), y2: y(v) });
              svg("text", { class: "axis", x: width - right + 6, y: Number(y(v)) + 4 }, formatPrice(symbol, v.toFixed(8)));
            }
            svg("text", { class: "axis", x: left, y: height - 6 }, clockFormat.format(first));
            svg("text", { class: "axis", x: left + plotWidth, y: height - 6, "text-anchor": "end" }, clockFormat.format(last.t));
            const d = points.map((p, i) => (i ? "L" : "M") + x(p.t) + " " + y(Number(p.text))).join(" ");
            const floor = (top + plotHeight).toFixed(1);
            svg("path", { class: "price-area", d: d + " L" + x(last.t) + " " + floor + " L" + x(first) + " " + floor + " Z" });
            svg("path", { class: "price-line", d, "data-chart-line": "", "data-points": String(points.length) });
            svg("circle", { class: "last-dot", cx: x(last.t), cy: y(Number(last.text)), r: 3.5 });
            trades.forEach((trade) => {
              const level = (value, kind, label) => {
                svg("line", { class: kind + "-line", x1: left, x2: left + plotWidth, y1: y(value), y2: y(value), "data-trade-line": kind });
                svg("text", { class: "line-label " + kind + "-label", x: left + 4, y: Number(y(value)) - 4 }, label);
              };
              level(Number(trade.start), "start", "start " + formatPrice(symbol, trade.start));
              const stop = Number(trade.stop);
              if (near(stop)) {
                level(stop, "stop", "stop-out " + formatPrice(symbol, trade.stop));
              } else if (stop > 0) {
                const above = stop > high;
                svg("text", { class: "line-label stop-label", x: left + 4, y: above ? top + 10 : top + plotHeight - 4, "data-trade-line": "stop" },
                  "stop-out " + formatPrice(symbol, trade.stop) + (above ? " ↑" : " ↓"));
              }
            });
            price.textContent = formatPrice(symbol, last.text);
            summary.textContent = symbol + ": " + points.length + " prices from " + clockFormat.format(first) + " to "
              + clockFormat.format(last.t) + ", low " + formatPrice(symbol, String(Math.min(...values).toFixed(8))) + ", high "
              + formatPrice(symbol, String(Math.max(...values).toFixed(8))) + ", last " + formatPrice(symbol, last.text) + "."
              + (trades.length ? " " + trades.length + " open trade" + (trades.length > 1 ? "s" : "") + " drawn at start and stop-out prices." : "");
          }
          if (chartView) {
            drawChart();
            chartSelect.addEventListener("change", () => { drawChart(); countDown(); });
            let pending = 0;
            window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(drawChart, 100); });
          }

        """#
}
