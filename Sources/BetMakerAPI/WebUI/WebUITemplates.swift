import Mustache

/// The web UI's pages as mustache templates, compiled into the binary (string literals), so the
/// executable and the Docker image need no files next to them. Every value goes in through `{{ }}`,
/// which HTML-escapes it; `{{{ }}}` is never used. No inline script or style anywhere: the
/// Content-Security-Policy forbids both, and `app.js` finds its work through `data-` attributes.
///
/// Tables carry `data-label` on each cell: on a narrow screen the style sheet shows each row as a card
/// with the labels beside the values, and wide tables scroll inside their own box (`.table-wrap`),
/// never the page. Times are `<time datetime>` (UTC) that the script writes in the viewer's zone.
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
        ("layout", layout), ("time", time), ("credentials", credentials), ("login", login), ("register", register),
        ("activate", activate), ("balance", balance), ("events", events), ("bets", bets), ("wallet", wallet),
        ("operator-events", operatorEvents), ("manage", manage), ("trader-events", traderEvents), ("operator-users", operatorUsers),
        ("trades", trades),
        ("operator-dead-letters", operatorDeadLetters), ("operator-contacts", operatorContacts), ("error", error),
    ]

    /// The page: a header that spans the page (its navigation collapses behind "Menu" on a narrow
    /// screen), the content, and one polite live region the script announces changes in.
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
          <a class="skip" href="#main">Skip to content</a>
          <header class="site" data-header>
            <div class="bar">
              <a class="brand" href="/ui/">bet-maker</a>
              <button type="button" class="menu quiet" data-menu aria-expanded="false" aria-controls="site-nav">Menu</button>
              <nav id="site-nav" aria-label="Main">
                <ul>{{#nav}}<li{{#section}} class="section-start"{{/section}}><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}</ul>
              </nav>
              {{#user}}<div class="who"><span class="login">{{login}}</span> <span class="role">{{role}}</span>
              <button type="button" class="quiet" data-action="logout">Log out</button></div>{{/user}}
            </div>
          </header>
          <main id="main">
            <h1>{{title}}</h1>
            {{$content}}{{/content}}
            <p class="visually-hidden" aria-live="polite" data-announce></p>
          </main>
        </body>
        </html>

        """

    /// A time: exact UTC in `datetime` (and, once the script ran, in `title`); the text is UTC until
    /// the script writes it in the viewer's zone and language, relative where `style` says so.
    static let time = """
        <time datetime="{{iso}}" data-time="{{style}}">{{text}}</time>
        """

    /// The login and password form that signing in and registering share; each page names its
    /// `form`, the password's `autocomplete` and the button.
    static let credentials = """
        <form data-form="{{$form}}{{/form}}" class="card narrow">
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
        <p data-activate="{{token}}" class="notice" aria-live="polite">Activating your account…</p>
        <p><a href="/ui/login">Log in</a></p>
        {{/content}}{{/layout}}
        """

    /// The player's balance, announced when it changes without a reload.
    static let balance = """
        {{#balance}}<p class="balance">Balance <strong data-balance aria-live="polite">{{balance}}</strong></p>{{/balance}}
        """

    static let events = """
        {{<layout}}{{$content}}
        {{>balance}}
        {{^events}}<p class="empty">No event takes bets right now. New events appear here as soon as an operator opens them;
          meanwhile you can <a href="/ui/trades">trade on a price</a>.</p>{{/events}}
        <div class="grid">
        {{#events}}
          {{#takesBets}}
          <form class="card slip" data-form="bet" data-event-id="{{id}}" data-odds="{{odds}}">
            <h2 id="event-{{id}}">{{title}}</h2>
            <p class="teams"><span>{{homeTeam}}</span> v <span>{{awayTeam}}</span></p>
            <p class="meta">Starts {{#startsAt}}{{>time}}{{/startsAt}}</p>
            <p class="meta">Odds <strong>{{odds}}</strong> on {{homeTeam}}</p>
            <label>Stake <input name="amount" inputmode="decimal" autocomplete="off" placeholder="10.00" required></label>
            <p class="error" data-error-for="amount"></p>
            <p>Potential payout <strong data-payout>–</strong></p>
            <p class="error" data-error-for="form"></p>
            <p class="notice" data-placed></p>
            <button type="submit">Place bet</button>
          </form>
          {{/takesBets}}
          {{^takesBets}}
          <section class="card slip closed" data-event-id="{{id}}" aria-labelledby="event-{{id}}">
            <h2 id="event-{{id}}">{{title}}</h2>
            <p class="teams"><span>{{homeTeam}}</span> v <span>{{awayTeam}}</span></p>
            <p class="meta">Starts {{#startsAt}}{{>time}}{{/startsAt}}</p>
            <p class="meta">Odds <strong>{{odds}}</strong> on {{homeTeam}}</p>
            <p class="closed-note" data-closed>{{closedNote}}</p>
          </section>
          {{/takesBets}}
        {{/events}}
        </div>
        {{/content}}{{/layout}}
        """

    static let bets = """
        {{<layout}}{{$content}}
        {{>balance}}
        <form method="get" action="/ui/bets" class="filter">
          <label>Status <select name="status">
            {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}
          </select></label>
          <button type="submit">Show</button>
        </form>
        {{#hasBets}}
        <div class="table-wrap" role="region" aria-label="My bets" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">Event</th><th scope="col">Stake</th><th scope="col">Odds</th><th scope="col">Payout</th>
            <th scope="col">Status</th><th scope="col">Placed</th></tr></thead>
          <tbody>
          {{#bets}}
            <tr data-bet-id="{{id}}" data-event="{{eventID}}">
              <td data-label="Event"><span class="name">{{eventTitle}}</span> <small class="muted">bet {{id}}</small></td>
              <td data-label="Stake" class="num">{{amount}}</td><td data-label="Odds" class="num">{{odds}}</td>
              <td data-label="Payout" class="num">{{payout}}</td>
              <td data-label="Status"><span class="status status-{{status}}" data-status>{{status}}</span></td>
              <td data-label="Placed">{{#createdAt}}{{>time}}{{/createdAt}}</td>
            </tr>
          {{/bets}}
          </tbody>
        </table>
        </div>
        {{/hasBets}}
        {{^hasBets}}<p class="empty">{{#filtered}}No {{filtered}} bets. <a href="/ui/bets">Show all bets</a>.{{/filtered}}{{^filtered}}No bets yet.
          Pick an event on <a href="/ui/events">Events</a>, enter a stake and place your first bet.{{/filtered}}</p>{{/hasBets}}
        {{#next}}<p><a href="{{next}}">Older bets</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let wallet = """
        {{<layout}}{{$content}}
        <ul class="accounts">{{#accounts}}<li class="card"><span class="muted">Account {{id}}</span>
          <strong data-account-balance="{{id}}">{{balance}}</strong></li>{{/accounts}}</ul>
        <h2>Transactions</h2>
        {{#hasTransactions}}
        <div class="table-wrap" role="region" aria-label="Transactions" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">When</th><th scope="col">Type</th><th scope="col">Account</th><th scope="col">Amount</th>
            <th scope="col">Balance after</th><th scope="col">Reference</th></tr></thead>
          <tbody>
          {{#transactions}}<tr><td data-label="When">{{#createdAt}}{{>time}}{{/createdAt}}</td><td data-label="Type">{{kind}}</td>
            <td data-label="Account">{{accountID}}</td><td data-label="Amount" class="num">{{amount}}</td>
            <td data-label="Balance after" class="num">{{balance}}</td><td data-label="Reference"><small>{{reference}}</small></td></tr>{{/transactions}}
          </tbody>
        </table>
        </div>
        {{/hasTransactions}}
        {{^hasTransactions}}<p class="empty">No transactions yet. A deposit from the payment provider shows here first;
          then every stake, win and refund.</p>{{/hasTransactions}}
        {{#next}}<p><a href="{{next}}">Older transactions</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let error = """
        {{<layout}}{{$content}}
        <p class="error" data-problem="{{slug}}">{{detail}}</p>
        <p><a href="/ui/">Back to your first page</a>, or <a href="/ui/login">log in</a> as somebody else.</p>
        {{/content}}{{/layout}}
        """
}
