extension WebUITemplates {
    /// The catalogue: a form to create an event, and per event the report buttons, the live settlement
    /// progress (a bar the feed's batches fill) and "Manage", a dialog for editing, opening or closing,
    /// deleting, assigning to a trader (picked from the traders index) and voiding, each through the
    /// API's own endpoint (its refusal shown next to the action).
    static let operatorEvents = """
        {{<layout}}{{$content}}
        <details class="card create">
          <summary>New event</summary>
          <form data-form="event-create" class="fields">
            <label>Id <input name="id" autocomplete="off" required></label><p class="error" data-error-for="id"></p>
            <label>Title <input name="title" autocomplete="off" required></label><p class="error" data-error-for="title"></p>
            <label>Home team <input name="home_team" autocomplete="off" required></label><p class="error" data-error-for="home_team"></p>
            <label>Away team <input name="away_team" autocomplete="off" required></label><p class="error" data-error-for="away_team"></p>
            <label>Starts at (your time) <input type="datetime-local" name="starts_at" required></label>
            <p class="error" data-error-for="starts_at"></p>
            <label>Odds <input name="odds" inputmode="decimal" autocomplete="off" placeholder="1.85" required></label>
            <p class="error" data-error-for="odds"></p>
            <label class="inline"><input type="checkbox" name="open" checked> Open for bets</label>
            <p class="error" data-error-for="form"></p>
            <button type="submit">Create</button>
          </form>
        </details>
        {{#hasEvents}}
        <div class="table-wrap" role="region" aria-label="Catalogue" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">Event</th><th scope="col">Starts</th><th scope="col">Odds</th><th scope="col">State</th>
            <th scope="col">Trader</th><th scope="col">Result</th><th scope="col">Settlement</th><th scope="col">Actions</th></tr></thead>
          <tbody>
          {{#events}}
            <tr data-event-id="{{id}}">
              <td data-label="Event"><span class="name" data-title>{{title}}</span><br><small>{{homeTeam}} v {{awayTeam}}</small>
                <small class="muted">{{id}}</small></td>
              <td data-label="Starts">{{#startsAt}}{{>time}}{{/startsAt}}</td><td data-label="Odds" class="num">{{odds}}</td>
              <td data-label="State"><span class="state state-{{state}}" data-state>{{state}}{{#takesBets}} · taking bets{{/takesBets}}{{#closedShort}} · {{closedShort}}{{/closedShort}}</span></td>
              <td data-label="Trader" data-trader>{{traderLogin}}</td><td data-label="Result" data-result>{{result}}</td>
              <td data-label="Settlement" data-progress aria-live="polite"><progress max="1" value="0" hidden
                aria-label="Settlement of {{title}}"></progress> <span data-progress-text></span></td>
              <td data-label="Actions" data-report-cell>
                <div class="actions">
                {{#unresulted}}<button type="button" data-report="WIN" aria-label="Report {{title}}: WIN">WIN</button>
                <button type="button" data-report="LOSE" aria-label="Report {{title}}: LOSE">LOSE</button>{{/unresulted}}
                <button type="button" class="quiet" data-manage aria-haspopup="dialog" aria-label="Manage {{title}}">Manage</button>
                </div>
                <p class="report-status" data-report-status><span class="notice" data-reported></span><span class="error"
                  data-error-for="form"></span></p>
                {{>manage}}
              </td>
            </tr>
          {{/events}}
          </tbody>
        </table>
        </div>
        {{/hasEvents}}
        {{^hasEvents}}<p class="empty">The catalogue is empty. Open <strong>New event</strong> above to create the first one.</p>{{/hasEvents}}
        {{#next}}<p><a href="{{next}}">More events</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    /// One event's "Manage" dialog (a modal `<dialog>`, so the row keeps its height).
    static let manage = """
        <dialog class="manage" data-manage-dialog aria-labelledby="manage-{{id}}">
          <div class="dialog-head"><h2 id="manage-{{id}}">Manage “{{title}}”</h2>
            <button type="button" class="quiet" data-close aria-label="Close">Close</button></div>
          <form data-form="event-edit" data-event-id="{{id}}" class="fields">
            <label>Title <input name="title" value="{{title}}" required></label><p class="error" data-error-for="title"></p>
            <label>Home team <input name="home_team" value="{{homeTeam}}" required></label><p class="error" data-error-for="home_team"></p>
            <label>Away team <input name="away_team" value="{{awayTeam}}" required></label><p class="error" data-error-for="away_team"></p>
            <label>Starts at (your time) <input type="datetime-local" name="starts_at" data-utc="{{startsAt.iso}}" required></label>
            <p class="error" data-error-for="starts_at"></p>
            <label>Odds <input name="odds" value="{{odds}}" inputmode="decimal" required></label><p class="error" data-error-for="odds"></p>
            <p class="error" data-error-for="form"></p>
            <button type="submit">Save</button>
          </form>
          <div data-event-actions class="fields">
            {{#open}}<button type="button" data-event-change="close">Close for bets</button>{{/open}}
            {{^open}}<button type="button" data-event-change="open">Open for bets</button>{{/open}}
            <button type="button" class="danger" data-event-change="delete">Delete</button>
            <p class="error" data-error-for="form"></p>
          </div>
          <form data-form="event-assign" data-event-id="{{id}}" class="fields">
            {{#hasTraders}}<label>Trader <select name="trader_id" required>
              {{#traders}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{login}}</option>{{/traders}}
            </select></label>
            <p class="error" data-error-for="trader_id"></p><p class="error" data-error-for="form"></p>
            <button type="submit">Assign</button>{{/hasTraders}}
            {{^hasTraders}}<p class="empty">No active trader to assign. Give a user the trader role on
              <a href="/ui/operator/users">Users</a> first.</p>{{/hasTraders}}
          </form>
          <form data-form="event-void" data-event-id="{{id}}" class="fields">
            <label>Reason for voiding <input name="reason" required></label>
            <p class="error" data-error-for="reason"></p><p class="error" data-error-for="form"></p>
            <button type="submit" class="danger">Void</button>
          </form>
        </dialog>
        """

    static let traderEvents = """
        {{<layout}}{{$content}}
        {{#hasEvents}}
        <div class="table-wrap" role="region" aria-label="My events" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">Event</th><th scope="col">Starts</th><th scope="col">State</th><th scope="col">Result</th>
            <th scope="col">Act</th></tr></thead>
          <tbody>
          {{#events}}
            <tr data-event-id="{{id}}">
              <td data-label="Event"><span class="name">{{title}}</span><br><small>{{homeTeam}} v {{awayTeam}}</small></td>
              <td data-label="Starts">{{#startsAt}}{{>time}}{{/startsAt}}</td>
              <td data-label="State"><span class="state" data-state>{{state}}</span></td><td data-label="Result" data-result>{{result}}</td>
              <td data-label="Act">
                <div class="actions">
                {{#unresulted}}<button type="button" data-take aria-label="Take {{title}}">Take</button>
                <button type="button" data-report="WIN" aria-label="Report {{title}}: WIN">WIN</button>
                <button type="button" data-report="LOSE" aria-label="Report {{title}}: LOSE">LOSE</button>{{/unresulted}}
                </div>
                <span class="notice" data-reported></span><span class="error" data-error-for="form"></span>
              </td>
            </tr>
          {{/events}}
          </tbody>
        </table>
        </div>
        {{/hasEvents}}
        {{^hasEvents}}<p class="empty">No event is assigned to you. An operator assigns events to you; they show here to take and report.</p>{{/hasEvents}}
        {{#next}}<p><a href="{{next}}">More events</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let operatorUsers = """
        {{<layout}}{{$content}}
        <div class="table-wrap" role="region" aria-label="Users" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Balance</th>
            <th scope="col">Change</th></tr></thead>
          <tbody>
          {{#users}}
            <tr data-user-id="{{id}}">
              <td data-label="User"><span class="name">{{login}}</span> <small class="muted">user {{id}}</small></td>
              <td data-label="Role" data-role>{{role}}</td>
              <td data-label="Status"><span class="state state-{{status}}" data-user-status>{{status}}</span></td>
              <td data-label="Balance" class="num">{{balance}}</td>
              <td data-label="Change">
                <div class="actions">
                {{#active}}<button type="button" class="danger" data-user-change="disable" aria-label="Disable {{login}}">Disable</button>{{/active}}
                {{^active}}<button type="button" data-user-change="enable" aria-label="Enable {{login}}">Enable</button>{{/active}}
                {{#isPlayer}}<button type="button" class="quiet" data-user-change="trader" aria-label="Make {{login}} a trader">Make trader</button>{{/isPlayer}}
                {{#isTrader}}<button type="button" class="quiet" data-user-change="player" aria-label="Make {{login}} a player">Make player</button>{{/isTrader}}
                </div>
                <span class="error" data-error-for="form"></span>
              </td>
            </tr>
          {{/users}}
          </tbody>
        </table>
        </div>
        {{#next}}<p><a href="{{next}}">More users</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let operatorDeadLetters = """
        {{<layout}}{{$content}}
        {{#hasLetters}}
        <div class="table-wrap" role="region" aria-label="Dead letters" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">When</th><th scope="col">Reason</th><th scope="col">Deliveries</th><th scope="col">Entry</th>
            <th scope="col">Re-drive</th></tr></thead>
          <tbody>
          {{#letters}}
            <tr data-dead-letter-id="{{id}}">
              <td data-label="When">{{#deadLetteredAt}}{{>time}}{{/deadLetteredAt}}</td><td data-label="Reason">{{reason}}</td>
              <td data-label="Deliveries" class="num">{{deliveries}}</td>
              <td data-label="Entry"><small class="muted">{{entryID}}</small> <code>{{fields}}</code></td>
              <td data-label="Re-drive">
                <button type="button" data-retry aria-label="Re-drive dead letter {{id}}">Re-drive</button>
                <span class="notice" data-retried></span><span class="error" data-error-for="form"></span>
              </td>
            </tr>
          {{/letters}}
          </tbody>
        </table>
        </div>
        {{/hasLetters}}
        {{^hasLetters}}<p class="empty">No dead letters: the workers settled every reported result.
          An entry they give up on shows here, to re-drive once its cause is repaired.</p>{{/hasLetters}}
        {{#next}}<p><a href="{{next}}">Older dead letters</a></p>{{/next}}
        {{/content}}{{/layout}}
        """

    static let operatorContacts = """
        {{<layout}}{{$content}}
        {{#hasContacts}}
        <div class="table-wrap" role="region" aria-label="Contacts" tabindex="0">
        <table class="cards">
          <thead><tr><th scope="col">Email</th><th scope="col">Plays</th><th scope="col">User</th><th scope="col">In the ESP</th>
            <th scope="col">Sync</th><th scope="col">Last played</th><th scope="col">Erase</th></tr></thead>
          <tbody>
          {{#contacts}}
            <tr data-contact="{{email}}">
              <td data-label="Email" class="name">{{email}}</td><td data-label="Plays" class="num" data-plays>{{plays}}</td>
              <td data-label="User" data-contact-user>{{userLogin}}</td><td data-label="In the ESP">{{inESP}}</td>
              <td data-label="Sync"><span data-sync>{{sync}}</span> <small class="muted">attempts: {{attempts}}{{#syncedAt}}; synced {{>time}}{{/syncedAt}}</small>
                {{#lastError}}<br><small class="error-text">{{lastError}}</small>{{/lastError}}</td>
              <td data-label="Last played">{{#lastPlayedAt}}{{>time}}{{/lastPlayedAt}}</td>
              <td data-label="Erase"><button type="button" class="danger" data-erase aria-label="Erase {{email}}">Erase</button>
                <span class="error" data-error-for="form"></span></td>
            </tr>
          {{/contacts}}
          </tbody>
        </table>
        </div>
        {{/hasContacts}}
        {{^hasContacts}}<p class="empty">No contacts yet. An address shows here once a player leaves it after a game.</p>{{/hasContacts}}
        {{#next}}<p><a href="{{next}}">More contacts</a></p>{{/next}}
        {{/content}}{{/layout}}
        """
}
