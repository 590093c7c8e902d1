import Adapters
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Accounts and money through the real `betmaker-api` and `betmaker-worker` processes over HTTP.
@Suite struct WalletEndToEndTests {
    /// A deposit as the payment provider sends it, signed with the provider's secret.
    static func webhookBody(transactionID: String, userID: Int, accountID: Int, amount: String) -> String {
        SimulatedPaymentProvider(secret: BetMakerProcesses.testPaymentSecret).webhookBody(
            transactionID: transactionID, userID: userID, accountID: accountID, amount: amount)
    }

    static func logIn(_ system: System, _ login: String, _ password: String) async throws -> String {
        let reply = try await system.request(.POST, "/auth", json: #"{"login": "\#(login)", "password": "\#(password)"}"#)
        guard reply.status == 200, let token = reply.string["access_token"] else {
            throw TestSupportError("\(login) cannot log in: \(reply.status) \(reply.body)")
        }
        return token
    }

    /// A registered, activated, logged-in player: user id, first account id, token.
    static func player(_ system: System, _ login: String) async throws -> (userID: Int, accountID: Int, token: String) {
        let registered = try await system.request(.POST, "/users", json: #"{"login": "\#(login)", "password": "a long password"}"#)
        guard registered.status == 201, let link = registered.string["activation_url"], let path = URL(string: link)?.path else {
            throw TestSupportError("\(login) not registered: \(registered.body)")
        }
        let activated = try await system.request(.GET, path)
        guard activated.status == 200 else { throw TestSupportError("\(login) not activated: \(activated.body)") }
        let token = try await logIn(system, login, "a long password")
        let me = try await system.request(.GET, "/users/me", token: token)
        guard case .object(let user)? = me["user"], case .number(let id)? = user.first(where: { $0.key == "id" })?.value,
            case .array(let accounts)? = me["accounts"], case .object(let account)? = accounts.first,
            case .number(let accountID)? = account.first(where: { $0.key == "id" })?.value
        else { throw TestSupportError("no user or account: \(me.body)") }
        return (Int(id)!, Int(accountID)!, token)
    }

    /// The balance of the caller's first account, as the API shows it.
    static func balance(_ system: System, _ token: String) async throws -> String? {
        let me = try await system.request(.GET, "/users/me", token: token)
        guard case .array(let accounts)? = me["accounts"], case .object(let account)? = accounts.first,
            case .string(let balance)? = account.first(where: { $0.key == "balance" })?.value
        else { return nil }
        return balance
    }

    /// The README's walk-through: seed, register, activate, log in, deposit by webhook, bet, settle,
    /// see the payout.
    @Test func registerDepositBetSettleAndSeeThePayout() async throws {
        try await withSystem { system in
            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment)
            let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            #expect(seeded.status == 0, "\(seeded.output)")
            #expect(
                seeded.output.contains("admin admin: created") && seeded.output.contains("event demo-derby: created"), "\(seeded.output)")
            let again = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            #expect(
                again.status == 0 && again.output.contains("admin admin: exists") && again.output.contains("credited before"),
                "\(again.output)")
            let admin = try await Self.logIn(system, "admin", "admin-password")
            #expect(try await Self.balance(system, try await Self.logIn(system, "demo", "demo-password")) == "1000.00")

            let carol = try await Self.player(system, "carol")
            let deposit = Self.webhookBody(transactionID: "pay-1", userID: carol.userID, accountID: carol.accountID, amount: "50")
            let credited = try await system.request(.POST, "/payment/webhook", json: deposit)
            #expect(credited.status == 200 && credited.string["balance_after"] == "50.00", "\(credited.body)")

            let events = try await system.request(.GET, "/events")
            #expect(events.body.contains(#""id":"demo-derby""#) && events.body.contains(#""odds":"1.85""#), "\(events.body)")
            let bet = try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "10.00"}"#, token: carol.token)
            #expect(bet.status == 201 && bet.string["payout"] == "18.50", "\(bet.body)")
            let betID = try #require(bet.string["id"])
            #expect(try await Self.balance(system, carol.token) == "40.00")

            #expect(try await system.request(.PUT, "/events/demo-derby", json: #"{"status": "WIN"}"#, token: admin).status == 202)
            #expect(await eventually { try await system.request(.GET, "/bets/\(betID)", token: carol.token).string["status"] == "won" })
            // The payout travels through the credits outbox: applied a moment after the bet is won.
            #expect(await eventually { try await Self.balance(system, carol.token) == "58.50" })
            let me = try await system.request(.GET, "/users/me", token: carol.token)
            let kinds = ["payout", "stake", "deposit"].map { #""type":"\#($0)""# }
            let positions = kinds.compactMap { me.body.range(of: $0)?.lowerBound }
            #expect(positions.count == 3 && positions == positions.sorted(), "newest first: \(me.body)")
            #expect(await worker.waitForOutput(containing: "paid_out=18.50"))

            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
            #expect(await worker.stop() == 0)
        }
    }

    @Test func fiftyConcurrentBetsOfThirtyOnAHundredAcceptExactlyThree() async throws {
        try await withSystem { system in
            _ = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            let dave = try await Self.player(system, "dave")
            let deposit = Self.webhookBody(transactionID: "pay-dave", userID: dave.userID, accountID: dave.accountID, amount: "100.00")
            #expect(try await system.request(.POST, "/payment/webhook", json: deposit).status == 200)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await system.request(
                            .POST, "/bets", json: #"{"event_id": "demo-cup-final", "amount": "30.00"}"#, token: dave.token
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 3)
            #expect(statuses.filter { $0 == 409 }.count == 47)
            #expect(try await Self.balance(system, dave.token) == "10.00")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }

    @Test func twentyConcurrentDeliveriesOfOneWebhookCreditOnce() async throws {
        try await withSystem { system in
            let erin = try await Self.player(system, "erin")
            let deposit = Self.webhookBody(transactionID: "pay-once", userID: erin.userID, accountID: erin.accountID, amount: "25.50")
            let replies = try await withThrowingTaskGroup(of: System.Reply.self) { group in
                for _ in 0..<20 { group.addTask { try await system.request(.POST, "/payment/webhook", json: deposit) } }
                return try await group.reduce(into: [System.Reply]()) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.map(\.body))")
            #expect(replies.filter { $0.body.contains(#""replayed":false"#) }.count == 1)
            #expect(replies.allSatisfy { $0.string["balance_after"] == "25.50" })
            #expect(try await Self.balance(system, erin.token) == "25.50")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }

    @Test func theAPIRefusesToStartWithoutAStrongSecret() async throws {
        try await withRedisServer { server in
            let weak = try await BetMakerProcesses.run("betmaker-api", [], redis: server, settings: ["JWT_SECRET": "too-short"])
            #expect(weak.status == 2 && weak.output.contains("JWT_SECRET is 9 bytes"), "\(weak.output)")
            let missing = try await BetMakerProcesses.run("betmaker-api", [], redis: server, settings: ["JWT_SECRET": ""])
            #expect(missing.status == 2 && missing.output.contains("JWT_SECRET is not set"), "\(missing.output)")
        }
    }
}
