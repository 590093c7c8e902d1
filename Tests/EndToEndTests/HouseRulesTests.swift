import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The bookmaker's rules on who bets and when (issue 28, points 1 and 2; decisions 0271, 0272), through
/// the real processes.
@Suite struct HouseRulesTests {
    static let adminPassword = "house-rules-admin"
    static let traderPassword = "house-rules-trader"
    static let playerPassword = "house-rules-player"

    /// Seeds (an administrator, two traders, demo events) with passwords of the test's own, and logs
    /// the administrator in.
    static func seed(_ system: System) async throws -> String {
        let seeded = try await BetMakerProcesses.run(
            "betmaker-api", ["seed"], redis: system.deployment,
            settings: [
                "SEED_ADMIN_PASSWORD": adminPassword, "SEED_TRADER_PASSWORD": traderPassword, "SEED_PLAYER_PASSWORD": playerPassword,
            ])
        guard seeded.status == 0 else { throw TestSupportError("seed failed: \(seeded.output)") }
        return try await WalletEndToEndTests.logIn(system, "admin", adminPassword)
    }

    /// The caller's user id and first account id (`GET /users/me`).
    static func me(_ system: System, _ token: String) async throws -> (userID: Int, accountID: Int) {
        let me = try await system.request(.GET, "/users/me", token: token)
        guard case .object(let user)? = me["user"], case .number(let id)? = user.first(where: { $0.key == "id" })?.value,
            case .array(let accounts)? = me["accounts"], case .object(let account)? = accounts.first,
            case .number(let accountID)? = account.first(where: { $0.key == "id" })?.value, let userID = Int(id),
            let firstAccount = Int(accountID)
        else { throw TestSupportError("no user or account: \(me.body)") }
        return (userID, firstAccount)
    }

    static func deposit(_ system: System, _ transactionID: String, userID: Int, accountID: Int, amount: String) async throws {
        let body = WalletEndToEndTests.webhookBody(transactionID: transactionID, userID: userID, accountID: accountID, amount: amount)
        let reply = try await system.request(.POST, "/payment/webhook", json: body)
        guard reply.status == 200 else { throw TestSupportError("deposit refused: \(reply.body)") }
    }

    /// `GET /events`' entry for `eventID`, as text fields (`open` as "true"/"false").
    static func listed(_ system: System, _ eventID: String) async throws -> [String: String]? {
        guard case .array(let events)? = try await system.request(.GET, "/events").json else { return nil }
        for case .object(let members) in events where members.contains(where: { $0.key == "id" && $0.value == .string(eventID) }) {
            var fields: [String: String] = [:]
            for member in members {
                switch member.value {
                case .string(let text): fields[member.key] = text
                case .bool(let flag): fields[member.key] = String(flag)
                case .null: fields[member.key] = "null"
                default: break
                }
            }
            return fields
        }
        return nil
    }

    static func createEvent(_ system: System, _ admin: String, _ id: String, startsAt: String = "2030-01-01T18:00:00Z") async throws {
        let created = try await system.request(
            .POST, "/admin/events",
            json:
                #"{"id": "\#(id)", "title": "\#(id)", "home_team": "Reds", "away_team": "Blues", "starts_at": "\#(startsAt)", "odds": "2.00"}"#,
            token: admin)
        guard created.status == 201 else { throw TestSupportError("event \(id) not created: \(created.body)") }
    }

    /// Point 1: a trader and an administrator are refused bets and trades with money (403
    /// `staff-may-not-bet`), and nothing changes; a player beside them bets as before.
    @Test func staffAreRefusedBetsAndTradesWithMoney() async throws {
        try await withSystem { system in
            let admin = try await Self.seed(system)
            let trader = try await WalletEndToEndTests.logIn(system, "trader1", Self.traderPassword)
            _ = try await PriceStore(redis: system.redis, keys: System.keys).record(
                symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
            for (token, role, transaction) in [(trader, "trader", "pay-trader"), (admin, "admin", "pay-admin")] {
                let staff = try await Self.me(system, token)
                try await Self.deposit(system, transaction, userID: staff.userID, accountID: staff.accountID, amount: "100")
                let bet = try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "10"}"#, token: token)
                #expect(bet.status == 403 && bet["type"] == .string("/problems/staff-may-not-bet"), "\(bet.body)")
                #expect(bet["role"] == .string(role) && bet.headers.first(name: "Content-Type") == "application/problem+json")
                let trade = try await system.request(
                    .POST, "/trades", json: #"{"symbol": "BTC", "direction": "up", "amount": "10", "leverage": 2, "duration": 600}"#,
                    token: token)
                #expect(trade.status == 403 && trade["type"] == .string("/problems/staff-may-not-bet"), "\(trade.body)")
                // Nothing changed: the balance, the ledger (the deposit alone), no bet, no trade.
                #expect(try await WalletEndToEndTests.balance(system, token) == "100.00")
                #expect(try await system.redis.xlen(System.keys.ledger(staff.userID)) == 1)
                #expect(try await system.redis.llen(System.keys.userBets(staff.userID)) == 0)
                #expect(try await system.redis.llen(System.keys.userTrades(staff.userID)) == 0)
            }
            #expect(try await system.redis.llen(System.keys.eventBets("demo-derby")) == 0)
            let demo = try await WalletEndToEndTests.logIn(system, "demo", Self.playerPassword)
            #expect(
                try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "10"}"#, token: demo).status == 201)
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }

    /// Point 1: a player who bet on an event and then became a trader may not take it (403
    /// `trader-holds-bet`), nor be assigned it (409); another trader takes it.
    @Test func aTraderCannotTakeAnEventTheyBetOnBeforeTheyGotTheRole() async throws {
        try await withSystem { system in
            let admin = try await Self.seed(system)
            let pam = try await WalletEndToEndTests.player(system, "pam")
            try await Self.deposit(system, "pay-pam", userID: pam.userID, accountID: pam.accountID, amount: "50")
            let bet = try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "5"}"#, token: pam.token)
            #expect(bet.status == 201, "\(bet.body)")
            #expect(
                try await system.request(.PATCH, "/admin/users/\(pam.userID)", json: #"{"role": "trader"}"#, token: admin).status == 200)
            let asTrader = try await WalletEndToEndTests.logIn(system, "pam", "a long password")

            let take = try await system.request(.POST, "/events/demo-derby/take", token: asTrader)
            #expect(take.status == 403 && take["type"] == .string("/problems/trader-holds-bet"), "\(take.body)")
            let assign = try await system.request(.POST, "/events/demo-derby/assign", json: #"{"trader_id": \#(pam.userID)}"#, token: admin)
            #expect(assign.status == 409 && assign["type"] == .string("/problems/trader-holds-bet"), "\(assign.body)")
            #expect(try await system.request(.GET, "/events/demo-derby")["state"] == .string("open"))
            // An event they hold no bet on they take as any trader does.
            #expect(try await system.request(.POST, "/events/demo-cup-final/take", token: asTrader).status == 200)
            let other = try await WalletEndToEndTests.logIn(system, "trader1", Self.traderPassword)
            let taken = try await system.request(.POST, "/events/demo-derby/take", token: other)
            #expect(taken.status == 200 && taken["state"] == .string("in_progress"), "\(taken.body)")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }

    /// Point 2: bets on a catalogue event close at its start time (Redis's clock) and once a trader
    /// took it: 409 `betting-closed` naming the start time, nothing debited; the listing and the web UI
    /// show the event closed for bets.
    @Test func bettingClosesAtKickOffAndOnceATraderTookTheEvent() async throws {
        try await withSystem { system in
            let admin = try await Self.seed(system)
            let pia = try await WalletEndToEndTests.player(system, "pia")
            try await Self.deposit(system, "pay-pia", userID: pia.userID, accountID: pia.accountID, amount: "50")
            try await Self.createEvent(system, admin, "kick")
            #expect(try await Self.listed(system, "kick")?["open"] == "true")
            #expect(try await Self.listed(system, "kick")?["closed_reason"] == "null")
            let before = try await system.request(.POST, "/bets", json: #"{"event_id": "kick", "amount": "5"}"#, token: pia.token)
            #expect(before.status == 201, "\(before.body)")

            // Kick-off has passed: the operator moves the start time into the past.
            let moved = try await system.request(
                .PATCH, "/admin/events/kick", json: #"{"starts_at": "2026-01-01T12:00:00Z"}"#, token: admin)
            #expect(moved.status == 200, "\(moved.body)")
            let late = try await system.request(.POST, "/bets", json: #"{"event_id": "kick", "amount": "5"}"#, token: pia.token)
            #expect(late.status == 409 && late["type"] == .string("/problems/betting-closed"), "\(late.body)")
            #expect(late["starts_at"] == .string("2026-01-01T12:00:00.000Z") && late["closed_reason"] == .string("started"))
            #expect(late.string["detail"]?.contains("2026-01-01T12:00:00.000Z") == true, "\(late.body)")
            let anonymous = try await system.request(.POST, "/bets", json: #"{"event_id": "kick", "amount": "5"}"#)
            #expect(anonymous.status == 409 && anonymous["closed_reason"] == .string("started"), "\(anonymous.body)")
            #expect(try await WalletEndToEndTests.balance(system, pia.token) == "45.00")
            #expect(try await system.redis.llen(System.keys.eventBets("kick")) == 1)
            #expect(try await Self.listed(system, "kick")?["open"] == "false")
            #expect(try await Self.listed(system, "kick")?["closed_reason"] == "started")

            // A trader took it: closed, whatever its start time.
            try await Self.createEvent(system, admin, "taken")
            let trader = try await WalletEndToEndTests.logIn(system, "trader1", Self.traderPassword)
            #expect(try await system.request(.POST, "/events/taken/take", token: trader).status == 200)
            let afterTake = try await system.request(.POST, "/bets", json: #"{"event_id": "taken", "amount": "5"}"#, token: pia.token)
            #expect(afterTake.status == 409 && afterTake["type"] == .string("/problems/betting-closed"), "\(afterTake.body)")
            #expect(afterTake["starts_at"] == .string("2030-01-01T18:00:00.000Z") && afterTake["closed_reason"] == .string("taken"))
            #expect(try await Self.listed(system, "taken")?["closed_reason"] == "taken")
            #expect(try await WalletEndToEndTests.balance(system, pia.token) == "45.00")

            // The web UI: the closed events have no bet slip, and say why.
            let page = try await system.request(.GET, "/ui/events", headers: [("Cookie", "betmaker_token=\(pia.token)")])
            #expect(page.status == 200)
            #expect(page.body.contains(#"form class="card slip" data-form="bet" data-event-id="demo-derby""#), "\(page.body)")
            #expect(
                !page.body.contains(#"data-form="bet" data-event-id="kick""#)
                    && !page.body.contains(#"data-form="bet" data-event-id="taken""#))
            #expect(page.body.contains("Closed for bets: it has started (betting closes at kick-off)."))
            #expect(page.body.contains("Closed for bets: a trader is resulting it."))
            // The operators' catalogue says so beside the state, and nothing beside an event taking bets.
            let catalogue = try await system.request(.GET, "/ui/operator/events", headers: [("Cookie", "betmaker_token=\(admin)")])
            #expect(catalogue.status == 200)
            #expect(catalogue.body.contains("data-state>open · taking bets</span>"), "\(catalogue.body)")
            #expect(catalogue.body.contains("data-state>open · closed for bets: started</span>"), "\(catalogue.body)")
            #expect(catalogue.body.contains("data-state>in_progress · closed for bets: taken</span>"), "\(catalogue.body)")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }
}
