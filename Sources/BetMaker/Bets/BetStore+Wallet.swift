import RedisClient

/// Bets with money: a two-phase transfer between the user's slot and the event's (`Wallet`).
extension BetStore {
    /// The user-slot steps, with the store's Idempotency-Key lifetime.
    public var wallet: Wallet { Wallet(redis: redis, keys: keys, idempotencyTTL: idempotencyTTL) }

    /// Places a bet with money from one of the user's accounts (the first one when `accountID` is nil) on
    /// an open catalogue event that has not started, with the odds locked in. Staff are refused.
    ///
    /// 1. The user and the event are read (one pipelined round): most refusals end here, before money moves.
    /// 2. `hold_stake` takes the stake on the user's slot (and keeps the Idempotency-Key there).
    /// 3. `place_wallet_bet` writes the bet on the event's slot, idempotent by the bet id.
    /// 4. The hold is posted, or voided if the event refused the bet.
    ///
    /// A failure between the steps (a crash, a reply lost) leaves a pending hold: a retry with the same
    /// Idempotency-Key finishes it, and otherwise the worker's reconciler does (`Reconciler`).
    public func place(
        eventID: String, amount: Money, userID: Int, accountID: Int?, idempotency: IdempotencyKey? = nil
    ) async throws -> PlaceOutcome {
        if let refusal = try await preRead(eventID: eventID, userID: userID, idempotency: idempotency) { return refusal }
        for _ in 0..<3 {
            let id = BetID(eventID: eventID, serial: ids.next())
            let hold: Hold
            switch try await wallet.hold(.bet(id), userID: userID, amount: amount, accountID: accountID, idempotency: idempotency) {
            case .held(let held): hold = held
            case .replayed(let earlier, let pending):
                guard let earlierID = BetID(earlier.id) else {
                    throw RedisError.unexpectedReply(command: "hold_stake", reply: "replayed \(earlier.id) is no bet id")
                }
                if let pending {
                    // The first request stopped between the steps (or is still running): finish it.
                    switch try await finish(pending, id: earlierID) {
                    case .placed(let bet): return .replayed(bet)
                    case .refused(let outcome): return outcome
                    case .idTaken:
                        throw RedisError.unexpectedReply(command: "place_wallet_bet", reply: "bet \(earlierID) is another user's")
                    }
                }
                guard let bet = try await bet(id: earlierID) else {
                    throw RedisError.unexpectedReply(command: "hold_stake", reply: "replayed bet \(earlierID) is not stored")
                }
                return .replayed(bet.asPlaced)
            case .released:
                continue  // A fresh id that was used before: draw another.
            case .idempotencyKeyReused: return .idempotencyKeyReused
            case .inactiveUser: return .inactiveUser
            case .staff(let role): return .staff(role)
            case .noAccount: return .noAccount
            case .insufficientFunds(let balance): return .insufficientFunds(balance: balance)
            }
            switch try await finish(hold, id: id) {
            case .placed(let bet): return .placed(bet)
            case .refused(let outcome): return outcome
            case .idTaken: continue
            }
        }
        throw RedisError.unexpectedReply(command: "place_wallet_bet", reply: "bet id collided three times")
    }

    /// The refusals that the user's hash and the event's tell before money moves, in the order the
    /// placing checks them (the user first). Nil when the bet may go ahead, or when the Idempotency-Key
    /// was seen (`hold_stake` answers that request as it was answered then); the scripts check again.
    private func preRead(eventID: String, userID: Int, idempotency: IdempotencyKey?) async throws -> PlaceOutcome? {
        var commands = [
            RedisCommand("HMGET", keys.user(userID), "status", "role"),
            RedisCommand("HMGET", keys.event(eventID), "result", "catalogue", "open", "starts_at", "state"),
        ]
        if let idempotency { commands.append(RedisCommand("EXISTS", keys.userIdempotency(userID, sha256Hex(idempotency.key)))) }
        let replies = try await redis.pipeline(commands)
        if idempotency != nil, try replies[2].get().int(for: "EXISTS") == 1 { return nil }
        let user = try replies[0].get().optionalStrings(for: "HMGET")
        let event = try replies[1].get().optionalStrings(for: "HMGET")
        guard user.count == 2, event.count == 5 else { throw RedisError.unexpectedReply(command: "HMGET", reply: "\(user) \(event)") }
        if user[0] != "active" { return .inactiveUser }
        if let role = user[1].flatMap(Role.init(rawValue:)), role != .player { return .staff(role) }
        if let result = event[0] { return .eventClosed(EventResult(rawValue: result) ?? .lose) }
        if event[1] == nil { return .notInCatalogue }
        if event[2] != "1" { return .notOpen }
        let startsAt = event[3].flatMap { Int64($0) } ?? 0
        if event[4] == EventState.inProgress.rawValue { return .bettingClosed(.taken, startsAt: startsAt) }
        if currentMilliseconds() >= startsAt { return .bettingClosed(.started, startsAt: startsAt) }
        return nil
    }

    /// What the event's slot answered, and so what became of the hold.
    enum Placement: Equatable {
        case placed(Bet)
        case refused(PlaceOutcome)
        /// Another user's bet has the id: the hold was voided; draw another id.
        case idTaken
    }

    /// Steps 3 and 4 for a hold: the bet on the event's slot, then the hold posted or voided. A bet the
    /// reconciler abandoned meanwhile (it took minutes) is an error: its stake went back.
    func finish(_ hold: Hold, id: BetID) async throws -> Placement {
        let reply = try await redis.eval(
            Scripts.placeWalletBet,
            keys: [
                keys.event(id.eventID), keys.eventBets(id.eventID), keys.bet(id), keys.eventBettors(id.eventID),
                keys.abandonedBets(id.eventID), keys.unconfirmedStakes(of: id.eventID),
            ],
            arguments: [id.description, id.serial, id.eventID, String(hold.amount.cents), String(hold.userID), String(hold.accountID)]
        ).strings(for: "place_wallet_bet")
        switch reply.first {
        case "placed":
            guard reply.count == 4, let odds = Int64(reply[1]), let payout = Int64(reply[2]), let createdAt = Int64(reply[3]) else {
                throw RedisError.unexpectedReply(command: "place_wallet_bet", reply: "\(reply)")
            }
            _ = try await wallet.release(hold.reference, userID: hold.userID, .post)
            let wager = Wager(userID: hold.userID, accountID: hold.accountID, odds: Odds(hundredths: odds), payout: Money(cents: payout))
            return .placed(Bet(id: id, amount: hold.amount, status: .pending, createdAt: createdAt, wager: wager))
        case "abandoned":
            throw RedisError.unexpectedReply(command: "place_wallet_bet", reply: "bet \(id) was abandoned by the reconciler")
        case "id_taken":
            _ = try await wallet.release(hold.reference, userID: hold.userID, .void)
            return .idTaken
        default:
            let refusal = try await refusal(reply, script: "place_wallet_bet")
            _ = try await wallet.release(hold.reference, userID: hold.userID, .void)
            return .refused(refusal)
        }
    }
}
