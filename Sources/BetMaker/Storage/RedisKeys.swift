import RedisClient

/// Every Redis key bet-maker uses, in one place. docs/ARCHITECTURE.md explains each.
///
/// An event's keys share its shard's hash tag `{sh:<n>}` with the shard's results stream, dead
/// letters, indexes and credits outbox; per-user keys share `{u:<id>}`, per-symbol keys `{sym:<symbol>}`
/// and small global data `{g}`, so on Redis Cluster each script touches one slot.
public struct RedisKeys: Sendable {
    public let prefix: String

    /// How many shards the streams and indexes that are not an owner's own are split into (tag
    /// `{sh:<n>}`, n in `0..<shards`), so that no single key carries all settlement on Redis Cluster.
    public let shards: Int

    public init(prefix: String, shards: Int = 1) {
        precondition(shards >= 1, "a store has at least one shard")
        self.prefix = prefix
        self.shards = shards
    }

    /// The shard of a name (an event id, a subscriber hash): its hash slot modulo the shard count, so
    /// it is stable for as long as the count is.
    public func shard(of name: String) -> Int { HashSlot.of(name) % shards }

    /// The storage schema version of the data under this prefix (`StorageSchema`). Global keys share
    /// the tag `{g}`: each script that touches them touches no other owner's keys.
    public var schema: String { prefix + "{g}:schema" }

    /// The shard count the data under this prefix was written with (`StorageSchema`): a key's shard
    /// depends on it, so a process configured with another count refuses to start.
    public var schemaShards: String { prefix + "{g}:schema:shards" }

    // MARK: Bets and events

    /// The hash tag of shard `n` with the prefix: `bm:{sh:3}`. An event's keys and the shard's streams
    /// and indexes share it, so every settlement-queue and catalogue script touches one slot.
    public func shardTag(_ shard: Int) -> String { prefix + "{sh:" + String(shard) + "}" }

    /// Every shard, for the loops and listings that span them.
    public var allShards: Range<Int> { 0..<shards }

    /// Hash of one bet, under its event's shard tag: `status` (`pending`, `won`, `lost`, `void`, as the
    /// API spells it), `amount` (cents), `created_at` (ms), for a bet with money `user_id`, `account_id`,
    /// `odds` (hundredths) and `payout` (cents, locked in when placed), then `event_id`, and once settled
    /// `settled_at` (ms). The placing scripts write the fields in that order, the ones a listing reads
    /// first (`BetStore.listedFields`). `settle_batch` names a bet by its event's key and `:bet:<serial>`.
    public func bet(_ id: BetID) -> String { event(id.eventID) + ":bet:" + id.serial }

    /// Hash of one event: result, reported_at, counts, total staked, settlement progress, and the
    /// catalogue fields when it is in the catalogue. `bm:{sh:<shard>}:{ev:<id>}`: the second braces are
    /// no hash tag (Redis takes the first), they delimit the id, which may hold `:` but no brace.
    public func event(_ eventID: String) -> String { shardTag(shard(of: eventID)) + ":{ev:" + eventID + "}" }

    /// List of the event's bets in the order they were accepted (`EventListEntry`); append-only.
    public func eventBets(_ eventID: String) -> String { event(eventID) + ":bets" }

    /// List of the anonymous bets' ids (`BetID`) of one shard in the order accepted; append-only. Bets
    /// with money are listed under their user instead (`userBets`). Settlement does not touch it: a
    /// bet's status lives only in its hash. `GET /bets` merges the shards' lists (`ShardedPages`).
    public func allBets(shard: Int) -> String { shardTag(shard) + ":bets" }

    /// Set of the ids of the users who hold a bet with money on the event; `place_wallet_bet` adds to it,
    /// nothing removes from it. Under the event's shard tag, so `take_event` and `assign_event` refuse
    /// such a user (a trader now) in the event's own slot.
    public func eventBettors(_ eventID: String) -> String { event(eventID) + ":bettors" }

    /// Hash of an anonymous bet's request made with an Idempotency-Key (the key's SHA-256 in hex): its
    /// `fingerprint` and the `id` of the bet; expires. In the shard of the bet's event, so `place_bet`
    /// touches one slot (docs/decisions/0301).
    public func betIdempotency(shard: Int, _ digest: String) -> String { shardTag(shard) + ":idem:" + digest }

    /// Set of the serials of the event's bets with money that the reconciler gave up on (`abandon_bet`):
    /// their hold was voided, so `place_wallet_bet` refuses them if they come late. In the event's slot.
    public func abandonedBets(_ eventID: String) -> String { event(eventID) + ":abandoned" }

    /// Sorted set of a shard's bets with money whose stake on the user's slot is not confirmed yet (bet
    /// ids, scored by placement, ms): `place_wallet_bet` adds each, the worker's `StakeConfirmer` removes
    /// it once the user's slot shows the stake (a failover of the user's master may have lost it).
    public func unconfirmedStakes(shard: Int) -> String { shardTag(shard) + ":unconfirmed" }

    /// The set above for an event's bets.
    public func unconfirmedStakes(of eventID: String) -> String { unconfirmedStakes(shard: shard(of: eventID)) }

    /// Stream of the credits a shard's settlement owes players (`type` payout or refund, `credit_id`,
    /// `user_id`, `account_id`, `amount`, `bet_id`), appended by `settle_batch` in the shard's slot and
    /// applied by the worker's `CreditRelay` (consumer group `credits`) with `apply_credits`.
    public func creditOutbox(shard: Int) -> String { shardTag(shard) + ":credits" }

    /// Every shard's credits outbox.
    public var creditOutboxes: [String] { (0..<shards).map { creditOutbox(shard: $0) } }

    /// The shard's stream of reported results, read by the workers' consumer group.
    public func eventsStream(shard: Int) -> String { shardTag(shard) + ":events" }

    /// The shard's stream of entries the workers gave up on.
    public func deadLetters(shard: Int) -> String { shardTag(shard) + ":events:dead" }

    /// Sorted set of the shard's events that have a result and are not settled yet, scored by
    /// `reported_at` (ms): what the worker re-queues when it waits too long. An event whose entry was
    /// dead-lettered after too many deliveries is taken out ("parked") until an administrator re-drives it.
    public func unsettledEvents(shard: Int) -> String { shardTag(shard) + ":events:unsettled" }

    /// Stream of what browsers are told live (settlement progress, one entry per batch), capped at
    /// about `RedisKeys.feedLength` entries: each API process reads it once and fans it out.
    public var feed: String { prefix + "feed" }

    /// How many feed entries are kept: how far back a reconnecting browser can resume.
    public static let feedLength = 10_000

    /// Hash of a request made with an Idempotency-Key (the key's SHA-256 in hex): its `fingerprint` and
    /// the `id` of the bet or trade it placed; expires.
    public func idempotency(_ digest: String) -> String { prefix + "idem:" + digest }

    /// Sorted set of the shard's catalogue events, by start time (members `CatalogueEntry.member`); a
    /// listing merges the shards' sets.
    public func catalogue(shard: Int) -> String { shardTag(shard) + ":catalogue" }

    /// The same for the shard's catalogue events that take bets now: open and without a result.
    public func openCatalogue(shard: Int) -> String { shardTag(shard) + ":catalogue:open" }

    // MARK: Users and wallets

    /// Hash of one user: login, password (bcrypt), role, status, created_at, activated_at.
    public func user(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}" }

    /// Hash of the user's accounts: account id → balance in cents.
    public func accounts(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:accounts" }

    /// Stream of the user's transactions, all accounts together; immutable, never trimmed.
    public func ledger(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:ledger" }

    /// List of the user's bets (with money, their `BetID`s) in the order accepted; append-only.
    public func userBets(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:bets" }

    /// Hash of the user's pending holds (`Wallet`): a reference (`MoneyReference.field`, a bet or trade
    /// id) → `kind:account:amount:created_ms`, written by `hold_stake` with the stake's debit and removed
    /// by `release_hold`. The reconciler scans every master for `*:holds` to finish old ones.
    public func holds(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:holds" }

    /// The `SCAN ... MATCH` pattern of every user's holds.
    public var holdsPattern: String { prefix + "{u:*}:holds" }

    /// Hash of the user's released holds: reference → `post` or `void`, so a hold is released once and
    /// a repeated `hold_stake` answers its first outcome; kept forever, like the credited ids.
    public func releasedHolds(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:holds:released" }

    /// Hash of the credits applied to the user (`apply_credits`): credit id (`bet:<id>`, `trade:<id>`) →
    /// its ledger entry id, so a credit an outbox delivers again changes nothing; kept forever.
    public func credited(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:credited" }

    /// Hash of a request with money made with an Idempotency-Key (the key's SHA-256 in hex), under its
    /// user's tag so `hold_stake` keeps it in the step that takes the stake: `fingerprint` and the `id`
    /// of the bet or trade; expires.
    public func userIdempotency(_ userID: Int, _ digest: String) -> String {
        prefix + "{u:" + String(userID) + "}:idem:" + digest
    }

    /// Hash of every login, in lower case → user id: logins are unique regardless of case. Only a
    /// registered user is named here (`claim_login`); a user hash no login names is an orphan left by
    /// a registration cut short, unreachable.
    public var logins: String { prefix + "{g}:users:logins" }

    /// Sorted set of every registered user id (score = id), for the administrators' listing.
    public var users: String { prefix + "{g}:users" }

    /// Sorted set of the ids of the users with the trader role (score = id), active or not: whom an
    /// administrator can assign an event to. It may hold a user who is no trader (any more): it is
    /// written before the role is given and after it is taken (`AccountStore.update`), and its readers
    /// check the role; it never lacks a trader.
    public var traders: String { prefix + "{g}:users:traders" }

    /// Counter of user ids.
    public var userIDs: String { prefix + "{g}:users:next_id" }

    /// Hash of every account id → its user's id: account ids are unique across users.
    public var accountOwners: String { prefix + "{g}:accounts:owners" }

    /// Counter of account ids; raised past any id a payment provider created an account with.
    public var accountIDs: String { prefix + "{g}:accounts:next_id" }

    /// An activation token's user id (the token's SHA-256 in hex); expires.
    public func activation(_ digest: String) -> String { prefix + "{g}:activation:" + digest }

    /// The claim of a payment's transaction id (`claim_payment`): the user, account and amount it is
    /// for, whether it created the account; kept forever, so a transaction id names one credit
    /// however often it is delivered. The credit itself is `payment(userID:transactionID:)`.
    public func paymentClaim(_ transactionID: String) -> String { prefix + "{g}:payment:" + transactionID }

    /// A credited payment, on its user's slot: its user, account, amount, ledger entry and time; kept
    /// forever, so a claimed transaction is credited once however often it is delivered.
    public func payment(userID: Int, transactionID: String) -> String {
        prefix + "{u:" + String(userID) + "}:payment:" + transactionID
    }

    /// Login attempts at one login (lower case) from one client address since the client's last
    /// success, within the lockout window; expires. Under the login's hash tag, beside `loginFailures`.
    public func loginAttempts(_ login: String, client: String) -> String { prefix + "{login:" + login + "}:attempts:" + client }

    /// The bucket of one login's failed attempts from all clients together (GCRA: the time, ms, at which
    /// it is full again); expires then.
    public func loginFailures(_ login: String) -> String { prefix + "{login:" + login + "}:failures" }

    /// A client address's token bucket for one kind of costly request (`passwords`, `plays`), as GCRA's
    /// one number: the time (ms) at which it is full again; expires then.
    public func rateBucket(_ bucket: String, client: String) -> String { prefix + "rate:" + bucket + ":" + client }

    /// A revoked access token (its `jti`), under its user's hash tag so that a request reads it with
    /// the user's hash; expires when the token would have.
    public func revokedToken(userID: Int, tokenID: String) -> String { prefix + "{u:" + String(userID) + "}:revoked:" + tokenID }

    /// The transaction id a payment signature (lower-case hex) was accepted for; kept forever, as the
    /// payments are, so that the same signature on other values (digits moved between them) is refused.
    public func paymentSignature(_ signature: String) -> String { prefix + "{g}:webhook:signature:" + signature }

    // MARK: Contacts and the ESP outbox

    /// Hash of one email contact, named by its subscriber hash (`EmailAddress.subscriberHash`), so no
    /// key spells an address: email, plays, user_id, in_esp, created_at, last_played_at, and the ESP
    /// sync state (sync, attempts, last_error, synced_at). In its shard's tag (`shard(of:)` the
    /// subscriber hash), with that shard's contacts index and ESP outbox, so each contact script
    /// touches one slot.
    public func contact(_ subscriberHash: String) -> String {
        prefix + "{sh:" + String(shard(of: subscriberHash)) + "}:contact:" + subscriberHash
    }

    /// Sorted set of a shard's stored addresses (score 0, so by address); the administrators' listing
    /// merges the shards'.
    public func contacts(shard: Int) -> String { prefix + "{sh:" + String(shard) + "}:contacts" }

    /// Stream of changes the ESP must learn of a shard's contacts (`op` create or erase, the subscriber
    /// `hash`, `attempt`), read by the workers' consumer group `esp`.
    public func contactOutbox(shard: Int) -> String { prefix + "{sh:" + String(shard) + "}:esp:outbox" }

    /// Sorted set of a shard's outbox messages waiting to be tried again, scored by when (ms).
    public func contactOutboxRetries(shard: Int) -> String { prefix + "{sh:" + String(shard) + "}:esp:outbox:retries" }

    /// Stream of a shard's outbox messages the workers gave up on.
    public func contactOutboxDeadLetters(shard: Int) -> String { prefix + "{sh:" + String(shard) + "}:esp:outbox:dead" }

    /// Set of the subscriber hashes the simulated ESP holds (used when `ESP_URL` is unset), shared by
    /// the API and the workers through Redis.
    public var simulatedESP: String { prefix + "esp:simulated" }

    // MARK: Trades and prices

    /// A symbol's keys share the hash tag `{sym:<symbol>}`: its quote, ticks and cursor, its trades and
    /// the sets that index them, its dead letters and its credits outbox, so every trade script runs in
    /// the symbol's one slot on Redis Cluster.
    func symbolKey(_ symbol: String, _ name: String) -> String { prefix + "{sym:" + symbol + "}:" + name }

    /// Hash of one trade, under its symbol's hash tag (`TradeID`): `status`; `terms` (owner, symbol,
    /// direction, stake, leverage, the tick it was accepted after; once opened its start tick and price,
    /// liquidation price and expiry) in MessagePack (`Trade.Terms`); once closed `outcome` (how,
    /// settled_at, profit, the end tick and price, `Trade.outcomeField`); a void trade's `void_reason`.
    public func trade(_ id: TradeID) -> String { symbolKey(id.symbol, "trade:" + id.serial) }

    /// Sorted set of a symbol's pending trades (accepted, not opened yet) by the time of the tick that
    /// was the latest when each was accepted: the worker opens them at the first tick after it.
    public func pendingTrades(_ symbol: String) -> String { symbolKey(symbol, "trades:pending") }

    /// Sorted set of a symbol's open trades by expiry (ms): the delayed queue the worker settles from.
    public func dueTrades(_ symbol: String) -> String { symbolKey(symbol, "trades:due") }

    /// Sorted set of a symbol's open trades in one direction by liquidation price (1e-8 USD; 0 for a
    /// trade that cannot be stopped out): one range query finds the trades a tick stops out.
    public func openTrades(_ symbol: String, _ direction: TradeDirection) -> String {
        symbolKey(symbol, "trades:open:" + direction.rawValue)
    }

    /// Hash of a symbol's open trades' terms by trade id, the same MessagePack as the trade's `terms`:
    /// written with the trade, removed when it closes or is voided, so `close_trades` and the worker read
    /// a whole batch's terms in one `HMGET` instead of one a trade.
    public func openTradeTerms(_ symbol: String) -> String { symbolKey(symbol, "trades:terms") }

    /// Hash of a symbol's parked trades (dead letters) by trade id (`TradeDeadLetter`): open trades that
    /// `close_trades` refused at their closing tick, taken out of the due and open sets so the rest of the
    /// symbol settles; an administrator re-drives them (`TradeStore.retryDeadLetter`).
    public func tradeDeadLetters(_ symbol: String) -> String { symbolKey(symbol, "trades:dead") }

    /// Stream of the credits a symbol's trade closes and voids owe their owners (`type` payout or
    /// refund, `credit_id` `trade:<id>`, `user_id`, `account_id`, `amount` in cents, `trade_id`), written
    /// in the script that closes or voids: the worker's credit relay applies each on the owner's slot, once.
    public func tradeCredits(_ symbol: String) -> String { symbolKey(symbol, "credits") }

    /// Hash of the trade ids of the symbol the reconciler gave up on (`abandon_trade`) → when (ms): their
    /// holds were voided, so `place_trade` refuses them if they come late.
    public func abandonedTrades(_ symbol: String) -> String { symbolKey(symbol, "trades:abandoned") }

    /// List of the user's trade ids in the order their stakes were held (`hold_stake`); append-only. An id
    /// whose trade never came to be (refused, or abandoned after a crash) names nothing: readers skip it.
    public func userTrades(_ userID: Int) -> String { prefix + "{u:" + String(userID) + "}:trades" }

    /// Hash of a symbol's latest tick: price, tick (id), time (ms), source.
    public func quote(_ symbol: String) -> String { symbolKey(symbol, "quote") }

    /// Stream of a symbol's ticks (`price`, `source`); capped, but never below the cursor.
    public func ticks(_ symbol: String) -> String { symbolKey(symbol, "ticks") }

    /// The last tick of the symbol the worker has fully processed (stop-outs and expiries).
    public func tickCursor(_ symbol: String) -> String { symbolKey(symbol, "ticks:cursor") }
}
