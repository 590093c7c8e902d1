import Adapters
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The money rules of issue 28 through the real processes: webhook signatures cannot be shifted
/// (point 6), checks before writes (10), money limits within exact arithmetic (11), Idempotency-Key
/// reuse (15); decisions 0273-0276.
@Suite struct MoneyRulesTests {
    /// A delivery with the given signature, the values written as given.
    static func delivery(transactionID: String, userID: Int, accountID: Int, amount: String, signature: String) -> String {
        #"{"transaction_id": "\#(transactionID)", "user_id": \#(userID), "account_id": \#(accountID), "amount": \#(amount), "signature": "\#(signature)"}"#
    }

    /// Point 6: moving a digit from the transaction id into the amount keeps the signature; the
    /// second delivery is refused (409 `signature-reused`) and credits nothing, in either case of hex.
    @Test func aSignatureAcceptedForOneTransactionIsRefusedForShiftedValues() async throws {
        try await withSystem { system in
            let fay = try await WalletEndToEndTests.player(system, "fay")
            let signer = SignedWebhookProvider(secret: BetMakerProcesses.testPaymentSecret)
            let values = DepositDelivery(
                transactionID: "5-payout", userID: String(fay.userID), accountID: String(fay.accountID), amount: "10")
            let signature = signer.signature(of: values)
            let shifted = DepositDelivery(transactionID: "-payout", userID: values.userID, accountID: values.accountID, amount: "105")
            #expect(signer.isAuthentic(shifted, signature: signature), "the brief's scheme signs both alike")

            let genuine = Self.delivery(
                transactionID: "5-payout", userID: fay.userID, accountID: fay.accountID, amount: "10", signature: signature)
            #expect(try await system.request(.POST, "/payment/webhook", json: genuine).status == 200)
            for variant in [signature, signature.uppercased()] {
                let forged = try await system.request(
                    .POST, "/payment/webhook",
                    json: Self.delivery(
                        transactionID: "-payout", userID: fay.userID, accountID: fay.accountID, amount: "105", signature: variant))
                #expect(forged.status == 409 && forged["type"] == .string("/problems/signature-reused"), "\(forged.body)")
            }
            #expect(try await WalletEndToEndTests.balance(system, fay.token) == "10.00")
            #expect(try await system.redis.exists([System.keys.paymentClaim("-payout")]) == 0)
            // The provider's retry of the genuine delivery is still answered as before.
            let retry = try await system.request(.POST, "/payment/webhook", json: genuine)
            #expect(retry.status == 200 && retry.body.contains(#""replayed":true"#), "\(retry.body)")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }

    /// Point 10: with the user's ledger damaged (not a stream), a bet and a deposit fail before their
    /// first write: no debit or credit without its ledger entry, no bet, no record. Repaired, both go through.
    @Test func aDamagedLedgerRefusesABetAndADepositAndNothingChanges() async throws {
        try await withSystem { system in
            _ = try await HouseRulesTests.seed(system)
            let gus = try await WalletEndToEndTests.player(system, "gus")
            try await HouseRulesTests.deposit(system, "pay-gus-1", userID: gus.userID, accountID: gus.accountID, amount: "100")
            let keys = System.keys
            let ledger = keys.ledger(gus.userID)
            let saved = ledger + ":saved"
            _ = try await system.redis.send(RedisCommand("RENAME", ledger, saved))
            _ = try await system.redis.set(ledger, to: "damaged")

            let bet = #"{"event_id": "demo-derby", "amount": "10"}"#
            let refused = try await system.request(.POST, "/bets", json: bet, token: gus.token)
            #expect(refused.status == 500 && refused["type"] == .string("/problems/internal"), "\(refused.body)")
            let deposit = WalletEndToEndTests.webhookBody(
                transactionID: "pay-gus-2", userID: gus.userID, accountID: gus.accountID, amount: "5")
            let unpaid = try await system.request(.POST, "/payment/webhook", json: deposit)
            #expect(unpaid.status == 500 && unpaid["type"] == .string("/problems/internal"), "\(unpaid.body)")
            #expect(system.api.output.contains("STORAGE_INVALID \(ledger) is a string, not a stream"), "\(system.api.output)")

            #expect(try await system.redis.hget(keys.accounts(gus.userID), String(gus.accountID)) == "10000")
            #expect(try await system.redis.llen(keys.eventBets("demo-derby")) == 0)
            #expect(try await system.redis.llen(keys.userBets(gus.userID)) == 0)
            #expect(try await system.redis.scard(keys.eventBettors("demo-derby")) == 0)
            #expect(try await system.redis.hget(keys.event("demo-derby"), "bets") == nil)
            #expect(try await system.redis.exists([keys.payment(userID: gus.userID, transactionID: "pay-gus-2")]) == 0)
            #expect(try await system.redis.get(ledger) == "damaged")

            _ = try await system.redis.del([ledger])
            _ = try await system.redis.send(RedisCommand("RENAME", saved, ledger))
            #expect(try await system.request(.POST, "/bets", json: bet, token: gus.token).status == 201)
            #expect(try await system.request(.POST, "/payment/webhook", json: deposit).status == 200)
            #expect(try await WalletEndToEndTests.balance(system, gus.token) == "95.00")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }

    /// Point 11: a money limit beyond what the scripts compute with exactly (2^53 − 1 cents, for a bet
    /// its stake times the highest odds) stops the processes at start, with the most it may be.
    @Test func aMoneyLimitBeyondExactArithmeticStopsTheProcessesAtStart() async throws {
        try await withRedisServer { server in
            let refused: [(executable: String, setting: String, value: String, most: String)] = [
                ("betmaker-api", "MAX_BET_AMOUNT", "900719925.48", "900719925.47"),
                ("betmaker-worker", "MAX_BET_AMOUNT", "9999999999999999.99", "900719925.47"),
                ("betmaker-api", "MAX_TRADE_AMOUNT", "80071992547409.92", "80071992547409.91"),
                ("betmaker-api", "MAX_DEPOSIT_AMOUNT", "90071992547409.92", "90071992547409.91"),
            ]
            for limit in refused {
                let run = try await BetMakerProcesses.run(limit.executable, [], redis: server, settings: [limit.setting: limit.value])
                #expect(run.status == 2, "\(limit.executable) \(limit.setting)=\(limit.value): \(run.output)")
                #expect(
                    run.output.contains("\(limit.setting) is \(limit.value), more than \(limit.most)")
                        && run.output.contains("Set \(limit.setting) to at most \(limit.most)"), "\(run.output)")
            }
            // The largest exact limits are accepted.
            let (api, _) = try await BetMakerProcesses.startAPI(
                redis: server,
                settings: [
                    "MAX_BET_AMOUNT": "900719925.47", "MAX_TRADE_AMOUNT": "80071992547409.91", "MAX_DEPOSIT_AMOUNT": "90071992547409.91",
                ])
            #expect(await api.stop() == 0)
        }
    }

    /// Point 15: an Idempotency-Key reused with another body is 422 `idempotency-key-reused` (the
    /// IETF draft), for bets and trades; concurrent requests with one key and one body are never 409
    /// "in flight": the first places the bet, the others get its answer.
    @Test func aReusedIdempotencyKeyIs422AndConcurrentRetriesGetTheFirstAnswer() async throws {
        try await withSystem { system in
            _ = try await HouseRulesTests.seed(system)
            let hal = try await WalletEndToEndTests.player(system, "hal")
            try await HouseRulesTests.deposit(system, "pay-hal", userID: hal.userID, accountID: hal.accountID, amount: "100")
            func post(_ path: String, _ body: String, key: String) async throws -> System.Reply {
                try await system.request(
                    .POST, path, json: body, headers: [("Authorization", "Bearer " + hal.token), ("Idempotency-Key", key)])
            }
            let bet = #"{"event_id": "demo-derby", "amount": "10"}"#
            #expect(try await post("/bets", bet, key: "order-1").status == 201)
            let reused = try await post("/bets", #"{"event_id": "demo-derby", "amount": "11"}"#, key: "order-1")
            #expect(reused.status == 422 && reused["type"] == .string("/problems/idempotency-key-reused"), "\(reused.body)")

            _ = try await PriceStore(redis: system.redis, keys: System.keys).record(
                symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
            let trade = #"{"symbol": "BTC", "direction": "up", "amount": "1", "leverage": 2, "duration": 600}"#
            #expect(try await post("/trades", trade, key: "trade-1").status == 201)
            let reusedTrade = try await post("/trades", trade.replacingOccurrences(of: "\"up\"", with: "\"down\""), key: "trade-1")
            #expect(reusedTrade.status == 422 && reusedTrade["type"] == .string("/problems/idempotency-key-reused"), "\(reusedTrade.body)")

            let replies = try await withThrowingTaskGroup(of: System.Reply.self) { group in
                for _ in 0..<20 { group.addTask { try await post("/bets", bet, key: "order-2") } }
                return try await group.reduce(into: [System.Reply]()) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map { "\($0.status) \($0.body)" })")
            #expect(Set(replies.map { $0.string["id"] ?? "" }).count == 1)
            #expect(replies.filter { $0.headers.first(name: "Idempotent-Replayed") == nil }.count == 1)
            #expect(try await WalletEndToEndTests.balance(system, hal.token) == "79.00")
        }
    }
}
