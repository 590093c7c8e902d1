import Mustache

/// The web UI's pages as mustache templates, compiled into the binary (string literals), so the
/// executable and the Docker image need no files next to them. Every value goes in through `{{ }}`,
/// which HTML-escapes it; `{{{ }}}` is never used. No inline script or style anywhere: the
/// Content-Security-Policy forbids both, and `app.js` finds its work through `data-` attributes.
enum WebUITemplates {
    /// Parsed once; a template that does not parse is a programming error caught by every UI test.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in templates {
            do { try library.register(text, named: name) } catch { fatalError("The web UI's template \(name) does not parse: \(error)") }
        }
        return library
    }()

    static let templates: [(String, String)] = [
        ("layout", layout), ("credentials", credentials), ("login", login), ("register", register), ("activate", activate),
        ("events", events),
        ("bets", bets), ("wallet", wallet), ("operator-events", operatorEvents), ("trader-events", traderEvents),
        ("operator-users", operatorUsers), ("trades", trades), ("operator-dead-letters", operatorDeadLetters),
        ("operator-contacts", operatorContacts),
        ("error", error),
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>{{title}} · bet-maker</title>
          <link rel="stylesheet" href="{{assets.css}}">
          <script src="{{assets.js}}" defer></script>
        </head>
        <body{{#live}} data-live="{{live}}"{{/live}}>
          <header>
            <a class="brand" href="/ui/">bet-maker</a>
            <nav>
              {{#nav}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/nav}}
            </nav>
            {{#user}}<span class="who">{{login}} ({{role}})</span>
            <button type="button" data-action="logout">Log out</button>{{/user}}
          </header>
          <main>
            <h1>{{title}}</h1>
            {{$content}}{{/content}}
          </main>
        </body>
        </html>

        """

    /// The login and password form that signing in and registering share; each page names its
    /// `form`, the password's `autocomplete` and the button.
    static let credentials = """
        <form data-form="{{$form}}{{/form}}" class="card">
          <label>Login <input name="login" autocomplete="username" required></label>
          <p class="error" data-error-for="login"></p>
          <label>Password <input name="password" type="password" autocomplete="{{$password}}{{/password}}" required></label>
          <p class="error" data-error-for="password"></p>
          <p class="error" data-error-for="form"></p>
          <button type="submit">{{$submit}}{{/submit}}</button>
        </form>
        """

    static let login = """
        {{<layout}}{{$content}}
        {{<credentials}}{{$form}}login{{/form}}{{$password}}current-password{{/password}}{{$submit}}Log in{{/submit}}{{/credentials}}
        <p>New here? <a href="/ui/register">Register</a>.</p>
        {{/content}}{{/layout}}
        """

    static let register = """
        {{<layout}}{{$content}}
        {{<credentials}}{{$form}}register{{/form}}{{$password}}new-password{{/password}}{{$submit}}Register{{/submit}}{{/credentials}}
        <p class="notice" data-registered hidden>Registered. Follow your activation link:
          <a data-activation-link href="/ui/login">activate</a></p>
        {{/content}}{{/layout}}
        """

    static let activate = """
        {{<layout}}{{$content}}
        <p data-activate="{{token}}" class="notice">Activating your account…</p>
        <p><a href="/ui/login">Log in</a></p>
        {{/content}}{{/layout}}
        """

    static let events = """
        {{<layout}}{{$content}}
        {{#balance}}<p>Balance: <strong data-balance>{{balance}}</strong></p>{{/balance}}
        {{^events}}<p>No event takes bets right now.</p>{{/events}}
        <div class="events">
        {{#events}}
          <form class="card slip" data-form="bet" data-event-id="{{id}}" data-odds="{{odds}}">
            <h2>{{title}}</h2>
            <p class="teams"><span>{{homeTeam}}</span> v <span>{{awayTeam}}</span></p>
            <p>Starts {{startsAt}} · odds <strong>{{odds}}</strong> on {{homeTeam}}</p>
            <label>Stake <input name="amount" inputmode="decimal" placeholder="10.00" required></label>
            <p class="error" data-error-for="amount"></p>
            <p>Potential payout: <strong data-payout>–</strong></p>
            <p class="error" data-error-for="form"></p>
            <p class="notice" data-placed></p>
            <button type="submit">Place bet</button>
          </form>
        {{/events}}
        </div>
        {{/content}}{{/layout}}
        """

    static let bets = """
        {{<layout}}{{$content}}
        {{#balance}}<p>Balance: <strong data-balance>{{balance}}</strong></p>{{/balance}}
        <form method="get" action="/ui/bets" class="filter">
          <label>Status <select name="status">
            {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}
          </select></label>
          <button type="submit">Show</button>
        </form>
        <table>
          <thead><tr><th>Bet</th><th>Event</th><th>Stake</th><th>Odds</th><th>Payout</th><th>Status</th><th>Placed</th></tr></thead>
          <tbody>
          {{#bets}}
            <tr data-bet-id="{{id}}" data-event="{{eventID}}"><td>{{id}}</td><td>{{eventID}}</td><td>{{amount}}</td><td>{{odds}}</td><td>{{payout}}</td>
              <td><span class="status status-{{status}}" data-status>{{status}}</span></td><td>{{createdAt}}</td></tr>
          {{/bets}}
          </tbody>
        </table>
        {{^bets}}<p>No bets.</p>{{/bets}}
        {{#next}}<p><a href="{{next}}">Older bets</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    /// The trade screen: a live price per symbol (`tick` events), the order form, and the player's
    /// trades, an open one counting down to its expiry (`data-expires`, ms) until its result arrives
    /// (`trades` events). `<template data-trade-row>` is the row the script fills in for a new trade.
    static let trades = """
        {{<layout}}{{$content}}
        {{#balance}}<p>Balance: <strong data-balance>{{balance}}</strong></p>{{/balance}}
        <table class="quotes">
          <thead><tr><th>Symbol</th><th>Price (USD)</th></tr></thead>
          <tbody>{{#quotes}}<tr><td>{{symbol}}</td><td data-quote="{{symbol}}">{{price}}</td></tr>{{/quotes}}</tbody>
        </table>
        <form data-form="trade" class="card">
          <label>Symbol <select name="symbol">{{#quotes}}<option value="{{symbol}}">{{symbol}}</option>{{/quotes}}</select></label>
          <p class="error" data-error-for="symbol"></p>
          <label>Direction <select name="direction"><option value="up">up</option><option value="down">down</option></select></label>
          <p class="error" data-error-for="direction"></p>
          <label>Stake <input name="amount" inputmode="decimal" placeholder="10.00" required></label>
          <p class="error" data-error-for="amount"></p>
          <label>Leverage (1 to {{maximumLeverage}}) <input name="leverage" inputmode="numeric" value="1" required></label>
          <p class="error" data-error-for="leverage"></p>
          <label>Duration, seconds ({{minimumDuration}} to {{maximumDuration}}) <input name="duration" inputmode="numeric" value="{{minimumDuration}}" required></label>
          <p class="error" data-error-for="duration"></p>
          <p class="error" data-error-for="form"></p>
          <p class="notice" data-placed></p>
          <button type="submit">Place trade</button>
        </form>
        <h2>My trades</h2>
        <table>
          <thead><tr><th>Trade</th><th>Symbol</th><th>Direction</th><th>Stake</th><th>Leverage</th><th>Start price</th><th>Expires</th><th>Status</th><th>End price</th><th>Profit</th><th>Payout</th></tr></thead>
          <tbody data-trades>
          {{#trades}}
            <tr data-trade-id="{{id}}" data-symbol="{{symbol}}" data-expires="{{expiresAt}}">
              <td>{{id}}</td><td>{{symbol}}</td><td>{{direction}}</td><td>{{stake}}</td><td>{{leverage}}</td><td data-start>{{startPrice}}</td>
              <td data-countdown>{{expires}}</td><td><span class="status status-{{status}}" data-status>{{status}}</span></td>
              <td data-end>{{endPrice}}</td><td data-profit>{{profit}}</td><td data-trade-payout>{{payout}}</td>
            </tr>
          {{/trades}}
          </tbody>
        </table>
        <template data-trade-row>
          <tr><td data-id></td><td data-symbol-cell></td><td data-direction></td><td data-stake></td><td data-leverage></td><td data-start></td>
            <td data-countdown></td><td><span class="status" data-status></span></td><td data-end></td><td data-profit></td><td data-trade-payout></td></tr>
        </template>
        {{^trades}}<p data-no-trades>No trades yet.</p>{{/trades}}
        {{#next}}<p><a href="{{next}}">Older trades</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let wallet = """
        {{<layout}}{{$content}}
        <table>
          <thead><tr><th>Account</th><th>Balance</th></tr></thead>
          <tbody>{{#accounts}}<tr><td>{{id}}</td><td data-account-balance="{{id}}">{{balance}}</td></tr>{{/accounts}}</tbody>
        </table>
        <h2>Transactions</h2>
        <table>
          <thead><tr><th>When</th><th>Type</th><th>Account</th><th>Amount</th><th>Balance after</th><th>Reference</th></tr></thead>
          <tbody>
          {{#transactions}}<tr><td>{{createdAt}}</td><td>{{kind}}</td><td>{{accountID}}</td><td>{{amount}}</td><td>{{balance}}</td><td>{{reference}}</td></tr>{{/transactions}}
          </tbody>
        </table>
        {{^transactions}}<p>No transactions yet.</p>{{/transactions}}
        {{#next}}<p><a href="{{next}}">Older transactions</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    /// The catalogue: a form to create an event, and per event the report buttons, the live settlement
    /// progress and, under "Manage", editing, opening or closing, deleting, assigning to a trader and
    /// voiding, each through the API's own endpoint (its refusal shown next to the action).
    static let operatorEvents = """
        {{<layout}}{{$content}}
        <details class="card create">
          <summary>New event</summary>
          <form data-form="event-create">
            <label>Id <input name="id" required></label><p class="error" data-error-for="id"></p>
            <label>Title <input name="title" required></label><p class="error" data-error-for="title"></p>
            <label>Home team <input name="home_team" required></label><p class="error" data-error-for="home_team"></p>
            <label>Away team <input name="away_team" required></label><p class="error" data-error-for="away_team"></p>
            <label>Starts at <input name="starts_at" placeholder="2030-01-01T18:00:00Z" required></label>
            <p class="error" data-error-for="starts_at"></p>
            <label>Odds <input name="odds" inputmode="decimal" placeholder="1.85" required></label><p class="error" data-error-for="odds"></p>
            <label><input type="checkbox" name="open" checked> Open for bets</label>
            <p class="error" data-error-for="form"></p>
            <button type="submit">Create</button>
          </form>
        </details>
        <table>
          <thead><tr><th>Event</th><th>Title</th><th>Teams</th><th>Starts</th><th>Odds</th><th>State</th><th>Trader</th><th>Result</th><th>Settlement</th><th>Report</th><th>Manage</th></tr></thead>
          <tbody>
          {{#events}}
            <tr data-event-id="{{id}}">
              <td>{{id}}</td><td data-title>{{title}}</td><td>{{homeTeam}} v {{awayTeam}}</td><td>{{startsAt}}</td><td>{{odds}}</td>
              <td data-state>{{state}}{{#open}} · taking bets{{/open}}</td><td data-trader>{{traderID}}</td><td data-result>{{result}}</td>
              <td data-progress></td>
              <td data-report-cell>
                {{#unresulted}}<button type="button" data-report="WIN">WIN</button>
                <button type="button" data-report="LOSE">LOSE</button>{{/unresulted}}
                <span class="notice" data-reported></span><span class="error" data-error-for="form"></span>
              </td>
              <td>
                <details class="manage">
                  <summary>Manage</summary>
                  <form data-form="event-edit" data-event-id="{{id}}">
                    <label>Title <input name="title" value="{{title}}" required></label><p class="error" data-error-for="title"></p>
                    <label>Home team <input name="home_team" value="{{homeTeam}}" required></label><p class="error" data-error-for="home_team"></p>
                    <label>Away team <input name="away_team" value="{{awayTeam}}" required></label><p class="error" data-error-for="away_team"></p>
                    <label>Starts at <input name="starts_at" value="{{startsAt}}" required></label><p class="error" data-error-for="starts_at"></p>
                    <label>Odds <input name="odds" value="{{odds}}" required></label><p class="error" data-error-for="odds"></p>
                    <p class="error" data-error-for="form"></p>
                    <button type="submit">Save</button>
                  </form>
                  <div data-event-actions>
                    {{#open}}<button type="button" data-event-change="close">Close for bets</button>{{/open}}
                    {{^open}}<button type="button" data-event-change="open">Open for bets</button>{{/open}}
                    <button type="button" data-event-change="delete">Delete</button>
                    <p class="error" data-error-for="form"></p>
                  </div>
                  <form data-form="event-assign" data-event-id="{{id}}">
                    <label>Trader (user id) <input name="trader_id" inputmode="numeric" required></label>
                    <p class="error" data-error-for="trader_id"></p><p class="error" data-error-for="form"></p>
                    <button type="submit">Assign</button>
                  </form>
                  <form data-form="event-void" data-event-id="{{id}}">
                    <label>Reason <input name="reason" required></label>
                    <p class="error" data-error-for="reason"></p><p class="error" data-error-for="form"></p>
                    <button type="submit">Void</button>
                  </form>
                </details>
              </td>
            </tr>
          {{/events}}
          </tbody>
        </table>
        {{^events}}<p>The catalogue is empty.</p>{{/events}}
        {{#next}}<p><a href="{{next}}">More events</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let traderEvents = """
        {{<layout}}{{$content}}
        <table>
          <thead><tr><th>Event</th><th>Title</th><th>Teams</th><th>Starts</th><th>State</th><th>Result</th><th>Act</th></tr></thead>
          <tbody>
          {{#events}}
            <tr data-event-id="{{id}}">
              <td>{{id}}</td><td>{{title}}</td><td>{{homeTeam}} v {{awayTeam}}</td><td>{{startsAt}}</td>
              <td data-state>{{state}}</td><td data-result>{{result}}</td>
              <td>
                {{#unresulted}}<button type="button" data-take>Take</button>
                <button type="button" data-report="WIN">WIN</button>
                <button type="button" data-report="LOSE">LOSE</button>{{/unresulted}}
                <span class="notice" data-reported></span><span class="error" data-error-for="form"></span>
              </td>
            </tr>
          {{/events}}
          </tbody>
        </table>
        {{^events}}<p>No event is assigned to you.</p>{{/events}}
        {{#next}}<p><a href="{{next}}">More events</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let operatorUsers = """
        {{<layout}}{{$content}}
        <table>
          <thead><tr><th>User</th><th>Login</th><th>Role</th><th>Status</th><th>Balance</th><th>Change</th></tr></thead>
          <tbody>
          {{#users}}
            <tr data-user-id="{{id}}">
              <td>{{id}}</td><td>{{login}}</td><td data-role>{{role}}</td><td data-user-status>{{status}}</td><td>{{balance}}</td>
              <td>
                {{#active}}<button type="button" data-user-change="disable">Disable</button>{{/active}}
                {{^active}}<button type="button" data-user-change="enable">Enable</button>{{/active}}
                {{#isPlayer}}<button type="button" data-user-change="trader">Make trader</button>{{/isPlayer}}
                {{#isTrader}}<button type="button" data-user-change="player">Make player</button>{{/isTrader}}
                <span class="error" data-error-for="form"></span>
              </td>
            </tr>
          {{/users}}
          </tbody>
        </table>
        {{#next}}<p><a href="{{next}}">More users</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let operatorDeadLetters = """
        {{<layout}}{{$content}}
        <table>
          <thead><tr><th>Dead letter</th><th>When</th><th>Entry</th><th>Reason</th><th>Deliveries</th><th>Fields</th><th>Re-drive</th></tr></thead>
          <tbody>
          {{#letters}}
            <tr data-dead-letter-id="{{id}}">
              <td>{{id}}</td><td>{{deadLetteredAt}}</td><td>{{entryID}}</td><td>{{reason}}</td><td>{{deliveries}}</td><td><code>{{fields}}</code></td>
              <td>
                <button type="button" data-retry>Re-drive</button>
                <span class="notice" data-retried></span><span class="error" data-error-for="form"></span>
              </td>
            </tr>
          {{/letters}}
          </tbody>
        </table>
        {{^letters}}<p>No dead letters.</p>{{/letters}}
        {{#next}}<p><a href="{{next}}">Older dead letters</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let operatorContacts = """
        {{<layout}}{{$content}}
        <table>
          <thead><tr><th>Email</th><th>Plays</th><th>User</th><th>In the ESP</th><th>Sync</th><th>Attempts</th><th>Last error</th><th>Last played</th><th>Synced</th><th>Erase</th></tr></thead>
          <tbody>
          {{#contacts}}
            <tr data-contact="{{email}}">
              <td>{{email}}</td><td>{{plays}}</td><td>{{userID}}</td><td>{{inESP}}</td><td data-sync>{{sync}}</td><td>{{attempts}}</td>
              <td>{{lastError}}</td><td>{{lastPlayedAt}}</td><td>{{syncedAt}}</td>
              <td><button type="button" data-erase>Erase</button><span class="error" data-error-for="form"></span></td>
            </tr>
          {{/contacts}}
          </tbody>
        </table>
        {{^contacts}}<p>No contacts.</p>{{/contacts}}
        {{#next}}<p><a href="{{next}}">More contacts</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let error = """
        {{<layout}}{{$content}}
        <p class="error" data-problem="{{slug}}">{{detail}}</p>
        <p><a href="/ui/">Back</a></p>
        {{/content}}{{/layout}}
        """
}
