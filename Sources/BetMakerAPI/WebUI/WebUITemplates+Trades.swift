extension WebUITemplates {
    /// The trade screen: a live chart of the chosen symbol's recent ticks (`data-ticks` holds what the
    /// stream had when the page was made; `tick` events extend it), the player's open trades drawn on
    /// it at their start and stop-out prices, a countdown to the next expiry; the prices, the order
    /// form, and the player's trades: a pending one (`data-pending`) waiting for the next price to open
    /// at, an open one counting down (`data-expires`, ms) until its result; both follow `trades` events. `<template data-trade-row>` is the row the script fills for a new trade.
    static let trades = """
        {{<layout}}{{$content}}
        {{>balance}}
        <div class="trade-layout">
          <section class="card chart-card" aria-labelledby="chart-title">
            <div class="chart-head">
              <h2 id="chart-title"><span data-chart-symbol>{{firstSymbol}}</span> <span class="muted">USD</span>
                <span class="chart-price" data-chart-price></span></h2>
              <p class="countdown" data-chart-countdown></p>
            </div>
            <svg class="chart" data-chart role="img" aria-labelledby="chart-title chart-summary" focusable="false"></svg>
            <p id="chart-summary" class="muted small" data-chart-summary>Waiting for the first prices…</p>
            <p class="legend small"><span class="key key-price"></span> price <span class="key key-start"></span> your start price
              <span class="key key-stop"></span> your stop-out price</p>
            {{#quotes}}<div hidden data-ticks="{{symbol}}" data-points="{{points}}"></div>{{/quotes}}
          </section>
          <form data-form="trade" class="card order">
            <h2>New trade</h2>
            <label>Symbol <select name="symbol" data-chart-select>{{#quotes}}<option value="{{symbol}}">{{symbol}}</option>{{/quotes}}</select></label>
            <p class="error" data-error-for="symbol"></p>
            <fieldset class="direction"><legend>Direction</legend>
              <label class="inline"><input type="radio" name="direction" value="up" checked> up</label>
              <label class="inline"><input type="radio" name="direction" value="down"> down</label>
            </fieldset>
            <p class="error" data-error-for="direction"></p>
            <label>Stake <input name="amount" inputmode="decimal" autocomplete="off" placeholder="10.00" required></label>
            <p class="error" data-error-for="amount"></p>
            <label>Leverage (1 to {{maximumLeverage}}) <input name="leverage" inputmode="numeric" value="1" required></label>
            <p class="error" data-error-for="leverage"></p>
            <label>Duration in seconds ({{minimumDuration}} to {{maximumDuration}})
              <input name="duration" inputmode="numeric" value="{{minimumDuration}}" required></label>
            <p class="error" data-error-for="duration"></p>
            <p class="error" data-error-for="form"></p>
            <p class="notice" data-placed></p>
            <button type="submit">Place trade</button>
          </form>
        </div>
        <h2>Prices</h2>
        <ul class="quotes">{{#quotes}}<li class="card"><span class="symbol">{{symbol}}</span>
          <span class="num" data-quote="{{symbol}}" data-price="{{price}}">{{price}}</span></li>{{/quotes}}</ul>
        <h2>My trades</h2>
        <div class="table-wrap" role="region" aria-label="My trades" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">Trade</th><th scope="col">Stake</th><th scope="col">Start</th><th scope="col">Stop-out</th>
            <th scope="col">Expires</th><th scope="col">Status</th><th scope="col">End</th><th scope="col">Profit</th>
            <th scope="col">Payout</th></tr></thead>
          <tbody data-trades>
          {{#trades}}
            <tr data-trade-id="{{id}}" data-symbol="{{symbol}}" data-expires="{{expiresAt}}" data-start-price="{{startPrice}}"
              data-stop-price="{{liquidationPrice}}"{{#pending}} data-pending{{/pending}}>
              <td data-label="Trade"><span class="name">{{symbol}} {{direction}}</span> <small class="muted">{{id}}</small></td>
              <td data-label="Stake" class="num">{{stake}} × {{leverage}}</td>
              <td data-label="Start" class="num" data-start data-price="{{startPrice}}">{{startPrice}}{{#pending}}next price{{/pending}}</td>
              <td data-label="Stop-out" class="num" data-stop data-price="{{liquidationPrice}}">{{stopOut}}</td>
              <td data-label="Expires" data-countdown>{{#expires}}{{>time}}{{/expires}}{{#pending}}opens at the next price{{/pending}}</td>
              <td data-label="Status"><span class="status status-{{status}}" data-status>{{status}}</span></td>
              <td data-label="End" class="num" data-end data-price="{{endPrice}}">{{endPrice}}</td>
              <td data-label="Profit" class="num" data-profit>{{profit}}</td>
              <td data-label="Payout" class="num" data-trade-payout>{{payout}}</td>
            </tr>
          {{/trades}}
          </tbody>
        </table>
        </div>
        <template data-trade-row>
          <tr><td data-label="Trade"><span class="name" data-name></span> <small class="muted" data-id></small></td>
            <td data-label="Stake" class="num" data-stake></td><td data-label="Start" class="num" data-start></td>
            <td data-label="Stop-out" class="num" data-stop></td><td data-label="Expires" data-countdown></td>
            <td data-label="Status"><span class="status" data-status></span></td><td data-label="End" class="num" data-end></td>
            <td data-label="Profit" class="num" data-profit></td><td data-label="Payout" class="num" data-trade-payout></td></tr>
        </template>
        {{^trades}}<p class="empty" data-no-trades>No trades yet. Pick a symbol and a direction, enter a stake and place a trade:
          it shows here and on the chart.</p>{{/trades}}
        {{#next}}<p><a href="{{next}}">Older trades</a></p>{{/next}}
        {{/content}}{{/layout}}
        """
}
