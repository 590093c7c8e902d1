import RedisClient

/// Every Lua script of bet-maker, one file each (`Scripts+<name>.swift`, its KEYS, ARGV and replies
/// at its top). Each is one atomic step; each checks everything before it writes (Redis does not roll
/// a script back), and each touches only keys passed in KEYS.
///
/// The `#!lua` line makes Redis treat a script as a whole: one that may write is refused before it
/// starts when Redis is out of memory (`OOM`), instead of failing halfway with some writes made; one
/// marked `no-writes` still runs then, so reading works while writing cannot.
///
/// The scripts are Swift string literals, so the executables carry them and need no resource files.
public enum Scripts {
    /// Every script, for loading ahead and for readiness checks.
    public static var all: [RedisScript] {
        [
            // Bets and results.
            placeBet, placeWalletBet, reportResult, readTail,
            // Money across slots: the user-slot steps of a two-phase transfer (`Wallet`).
            holdStake, releaseHold, applyCredits, abandonBet, confirmStake,
            // The resulting workflow (docs/ARCHITECTURE.md, "The event workflow").
            assignEvent, takeEvent, voidEvent,
            // Settlement and the events stream as a queue (docs/ARCHITECTURE.md, "The stream protocol").
            settleBatch, deadLetter, trimStream, requeueOverdue, retryDeadLetter,
            // Users, wallets, payments and the catalogue.
            createUser, claimLogin, activateUser, updateUser, claimPayment, deposit, createCatalogueEvent, updateCatalogueEvent,
            deleteCatalogueEvent,
            // Limits on what abuse costs (docs/decisions/0281).
            takeToken, beginLoginAttempt, endLoginAttempt,
            // Email contacts and the ESP outbox.
            recordPlay, eraseContact, outboxDelivered, outboxRetryLater, outboxDeadLetter, outboxRelease,
            // Crypto-price trades (docs/ARCHITECTURE.md, "Trades").
            recordTick, advanceTickCursor, placeTrade, abandonTrade, closeTrades, voidTrade, parkTrade,
        ]
    }

    // MARK: Snippets shared by the placing scripts

    /// `local now`: Redis's clock in milliseconds since 1970, as decimal text. The placing scripts
    /// stamp `created_at` with it rather than taking the API's: scripts run one at a time, so the
    /// times follow the order the bets enter their lists, and "newest first" and `created_at` agree
    /// even for bets that several API processes place at once (as long as the Redis host's clock does
    /// not step back).
    static let redisNow = """
        local clock = redis.call('TIME')
        local now = clock[1] .. string.format('%03d', math.floor(tonumber(clock[2]) / 1000))
        """

    /// `local function notInteger(key, field, value)`: an error reply (`STORAGE_INVALID`, naming the key)
    /// when a value that `HINCRBY` will add to, or the script computes with, is not a whole number; nothing
    /// when it is or is absent. With `checkTypes`, the money scripts' checks before their first write (Redis
    /// does not roll a script back, so a write refused halfway would leave, say, a debit without its ledger
    /// entry): the API answers 500 and logs it, and nothing was written.
    static let notIntegerCheck = """
        local function notInteger(key, field, value)
          if value and not string.match(value, '^%-?%d+$') then
            return redis.error_reply('STORAGE_INVALID ' .. key .. ' ' .. field .. ' is ' .. value .. ', not a whole number')
          end
        end
        """

    /// The largest whole number a Lua number (a double) holds exactly, 2^53 − 1: every amount of money a
    /// script computes with must stay within it (`Money.largestExact`).
    static let largestExact = "9007199254740991"

    // MARK: Snippets shared by the trade scripts

    /// `local function tradeTerms(terms)`: what `close_trades` and `void_trade` need of a trade's terms
    /// (`Trade.Terms`, MessagePack with the numbers as numbers: `Trade.Terms.init(encoded:)`): owner,
    /// account, symbol, direction, stake, start tick (time and sequence), liquidation price, expiry,
    /// leverage and start price; nothing when they are missing or malformed.
    static let tradeTerms = """
        local function tradeTerms(terms)
          if not terms then return end
          -- Checking each value's type would cost half of what MessagePack saves; a value of another
          -- type fails the key checks or the arithmetic, which refuses the batch before its writes too.
          local ok, owner, account, symbol, direction, stake, leverage, _, startTime, startSequence, startPrice, liquidation, _, expires =
            pcall(cmsgpack.unpack, terms)
          if ok and (direction == 'up' or direction == 'down') and expires then
            return owner, account, symbol, direction, stake, startTime, startSequence, liquidation, expires, leverage, startPrice
          end
        end
        """

    /// Refuses (`STORAGE_INVALID`) unless each `KEYS[position]` holds its type or nothing yet: what a
    /// script's writes to them need, checked before the first write.
    static func checkTypes(_ expected: [(position: Int, type: String)]) -> String {
        expected.map { position, type in
            """
            do
              local kind = redis.call('TYPE', KEYS[\(position)]).ok
              if kind ~= '\(type)' and kind ~= 'none' then
                return redis.error_reply('STORAGE_INVALID ' .. KEYS[\(position)] .. ' is a ' .. kind .. ', not a \(type)')
              end
            end
            """
        }.joined(separator: "\n")
    }

    // MARK: Snippets shared by the workflow scripts

    /// `local <name>`: the workflow state of an event (`EventState`) from its hash's `result` and
    /// `state` fields, given as Lua expressions: `void` for a VOID result, `resulted` for another,
    /// else the `state` field or `open`.
    static func eventState(_ name: String, result: String, state: String) -> String {
        """
        local \(name) = \(state) or 'open'
        if \(result) == 'VOID' then \(name) = 'void' elseif \(result) then \(name) = 'resulted' end
        """
    }

    /// Records a result on the event hash (`KEYS[1]`) and queues it for settlement: takes a catalogue
    /// event (its index member `member`, a Lua expression) out of the open index (`KEYS[3]`), appends
    /// the entry to the events stream (`KEYS[2]`) and adds the event to the unsettled index (`KEYS[4]`).
    /// `report_result` and `void_event` share it, so a void travels the same way as a result.
    static func recordResult(result: String, at time: String, eventID: String, member: String) -> String {
        """
        redis.call('HSET', KEYS[1], 'result', \(result), 'reported_at', \(time))
        if \(member) then redis.call('ZREM', KEYS[3], \(member)) end
        redis.call('XADD', KEYS[2], '*', 'event_id', \(eventID), 'result', \(result), 'reported_at', \(time))
        redis.call('ZADD', KEYS[4], \(time), \(eventID))
        """
    }

    /// The placing scripts' answer to a request whose Idempotency-Key (`KEYS[key]`, optional) was
    /// seen: the id of the bet or trade it placed if `ARGV[fingerprint]` matches, else a refusal.
    static func replayIdempotentRequest(key: Int, fingerprint: Int) -> String {
        """
        if KEYS[\(key)] then
          local saved = redis.call('HMGET', KEYS[\(key)], 'fingerprint', 'id')
          if saved[1] then
            if saved[1] == ARGV[\(fingerprint)] then return {'replayed', saved[2]} end
            return {'idempotency_mismatch'}
          end
        end
        """
    }

    /// Keeps the new bet's or trade's id (`ARGV[1]`) under the Idempotency-Key for `ARGV[fingerprint + 1]` ms.
    static func saveIdempotentRequest(key: Int, fingerprint: Int) -> String {
        """
        if KEYS[\(key)] then
          redis.call('HSET', KEYS[\(key)], 'fingerprint', ARGV[\(fingerprint)], 'id', ARGV[1])
          redis.call('PEXPIRE', KEYS[\(key)], ARGV[\(fingerprint + 1)])
        end
        """
    }
}
