import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// The steps of a bet with money on a 3-master Redis Cluster: each script touches one slot (the client
/// refuses one that does not before sending it), the reconciler reads every master, and the race for
/// one balance still accepts exactly what it covers. (Users and events are written directly: their own
/// scripts are other parts of issue 30.)
@Suite struct WalletClusterTests {
    static let keys = RedisKeys(prefix: "c:")

    @Test func betsWithMoneyHoldPlacePostAndReconcileOnACluster() async throws {
        try await withRedisCluster(replicasPerMaster: 0) { cluster in
            try await RedisClient(configuration: cluster.configuration).withRunning { (redis) async throws in
                let keys = Self.keys
                // A user whose slot is on another master than the event's, so a script spanning both
                // could not run at all.
                let eventOwner = try await cluster.owner(ofSlot: HashSlot.of(keys.event("derby"))).port
                var candidate = 1
                while try await cluster.owner(ofSlot: HashSlot.of(keys.user(candidate))).port == eventOwner { candidate += 1 }
                let user = candidate
                let account = 70
                _ = try await redis.hset(keys.user(user), ["login": "c", "role": "player", "status": "active"])
                _ = try await redis.hset(keys.accounts(user), [String(account): "10000"])
                _ = try await redis.hset(
                    keys.event("derby"), ["catalogue": "m", "open": "1", "odds": "185", "starts_at": "4000000000000"])
                let store = BetStore(redis: redis, keys: keys, ids: IDGenerator(node: 4))
                #expect(try await redis.masters().count == 3)

                let outcomes = try await withThrowingTaskGroup(of: BetStore.PlaceOutcome.self) { group in
                    for _ in 0..<10 {
                        group.addTask { try await store.place(eventID: "derby", amount: Money(cents: 3_000), userID: user, accountID: nil) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(outcomes.filter { if case .placed = $0 { true } else { false } }.count == 3)
                #expect(try await redis.hget(keys.accounts(user), String(account)) == "1000")
                #expect(try await redis.hget(keys.event("derby"), "bets") == "3")

                // Stopped after the hold, and after the event's step: the reconciler reads every master.
                let lost = BetID(eventID: "derby", serial: store.ids.next())
                _ = try await store.wallet.hold(.bet(lost), userID: user, amount: Money(cents: 600), accountID: nil)
                let kept = BetID(eventID: "derby", serial: store.ids.next())
                guard
                    case .held(let hold) = try await store.wallet.hold(.bet(kept), userID: user, amount: Money(cents: 400), accountID: nil)
                else { throw TestSupportError("not held") }
                let reply = try await redis.eval(
                    Scripts.placeWalletBet,
                    keys: [
                        keys.event("derby"), keys.eventBets("derby"), keys.bet(kept), keys.eventBettors("derby"),
                        keys.abandonedBets("derby"), keys.unconfirmedStakes(of: "derby"),
                    ],
                    arguments: [kept.description, kept.serial, "derby", "400", String(user), String(hold.accountID)]
                ).strings(for: "place_wallet_bet")
                #expect(reply.first == "placed")
                let pass = try await HoldReconciler(redis: redis, keys: keys, maximumAge: .zero).reconcile()
                #expect(pass == HoldReconciler.Pass(posted: 1, voided: 1, left: 0))
                #expect(try await redis.hget(keys.accounts(user), String(account)) == "600")

                // A credit applied on the user's slot, once.
                let credit = Wallet.Credit(reference: .bet(kept), kind: .payout, accountID: account, amount: Money(cents: 740))
                #expect(try await store.wallet.apply([credit], userID: user).applied == 1)
                #expect(try await store.wallet.apply([credit], userID: user).applied == 0)
                #expect(try await redis.hget(keys.accounts(user), String(account)) == "1340")
            }
        }
    }
}
