import BetMaker
import BetMakerRuntime
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

extension WorkflowTests {
    /// One call of the workflow, and what it must answer from each state: a status, and for a refusal
    /// the problem type (whose `current_state`, where it has one, must name the state).
    struct Transition: Sendable {
        let name: String
        let send: @Sendable (_ event: String) async throws -> System.Reply
        let expected: [EventState: (status: Int, problem: String?)]
    }

    @Test func everyTransitionFromEveryWrongStateIsRefusedAndChangesNothing() async throws {
        try await withSystem { system in
            let admin = try await Self.seededAdmin(system)
            let traders = try await Self.traders(2, system, admin: admin)
            let (a, b) = (traders[0], traders[1])
            let player = try await Wallet.player(system, "pat")

            /// Brings a fresh event to `state`; `a` is its trader from `assigned` on.
            func prepare(_ event: String, _ state: EventState) async throws {
                try await Self.createEvent(event, system, admin: admin)
                var steps: [(HTTPMethod, String, String?, String)] = []
                if state != .open { steps.append((.POST, "assign", #"{"trader_id": \#(a.userID)}"#, admin)) }
                if [.inProgress, .resulted, .void].contains(state) { steps.append((.POST, "take", nil, a.token)) }
                if state == .resulted { steps.append((.PUT, "", #"{"status": "LOSE"}"#, a.token)) }
                if state == .void { steps.append((.POST, "void", #"{"reason": "abandoned"}"#, admin)) }
                for (method, action, body, token) in steps {
                    let reply = try await system.request(
                        method, "/events/\(event)" + (action.isEmpty ? "" : "/" + action), json: body, token: token)
                    guard (200...299).contains(reply.status) else { throw TestSupportError("\(event) \(action): \(reply.body)") }
                }
                #expect(try await system.request(.GET, "/events/\(event)").string["state"] == state.rawValue)
            }
            func all(_ answer: (Int, String?)) -> [EventState: (status: Int, problem: String?)] {
                Dictionary(uniqueKeysWithValues: EventState.allCases.map { ($0, answer) })
            }
            let conflict = (409, "event-state-conflict" as String?)
            let notYours = (403, "not-your-event" as String?)
            let forbidden = (403, "forbidden" as String?)
            let resultConflict = (409, "result-conflict" as String?)
            let win = #"{"status": "WIN"}"#
            let transitions = [
                Transition(
                    name: "assign to another trader",
                    send: { try await system.request(.POST, "/events/\($0)/assign", json: #"{"trader_id": \#(b.userID)}"#, token: admin) },
                    expected: [.open: (200, nil), .assigned: (200, nil), .inProgress: conflict, .resulted: conflict, .void: conflict]),
                Transition(
                    name: "assign by a trader",
                    send: {
                        try await system.request(.POST, "/events/\($0)/assign", json: #"{"trader_id": \#(b.userID)}"#, token: a.token)
                    },
                    expected: all(forbidden)),
                Transition(
                    name: "take by another trader", send: { try await system.request(.POST, "/events/\($0)/take", token: b.token) },
                    expected: [.open: (200, nil), .assigned: notYours, .inProgress: conflict, .resulted: conflict, .void: conflict]),
                Transition(
                    name: "take by its trader", send: { try await system.request(.POST, "/events/\($0)/take", token: a.token) },
                    expected: [.open: (200, nil), .assigned: (200, nil), .inProgress: (200, nil), .resulted: conflict, .void: conflict]),
                Transition(
                    name: "take by a player", send: { try await system.request(.POST, "/events/\($0)/take", token: player.token) },
                    expected: all(forbidden)),
                Transition(
                    name: "report by another trader", send: { try await system.request(.PUT, "/events/\($0)", json: win, token: b.token) },
                    expected: all(notYours)),
                Transition(
                    name: "report by its trader", send: { try await system.request(.PUT, "/events/\($0)", json: win, token: a.token) },
                    expected: [.open: notYours, .assigned: conflict, .inProgress: (202, nil), .resulted: resultConflict, .void: conflict]),
                Transition(
                    name: "report by an administrator", send: { try await system.request(.PUT, "/events/\($0)", json: win, token: admin) },
                    expected: [
                        .open: (202, nil), .assigned: (202, nil), .inProgress: (202, nil), .resulted: resultConflict, .void: conflict,
                    ]),
                Transition(
                    name: "report by a player", send: { try await system.request(.PUT, "/events/\($0)", json: win, token: player.token) },
                    expected: all(forbidden)),
                Transition(
                    name: "void by an administrator",
                    send: { try await system.request(.POST, "/events/\($0)/void", json: #"{"reason": "r"}"#, token: admin) },
                    expected: [.open: (202, nil), .assigned: (202, nil), .inProgress: (202, nil), .resulted: conflict, .void: (202, nil)]),
                Transition(
                    name: "void by a trader",
                    send: { try await system.request(.POST, "/events/\($0)/void", json: #"{"reason": "r"}"#, token: a.token) },
                    expected: all(forbidden)),
            ]
            for (number, transition) in transitions.enumerated() {
                for state in EventState.allCases {
                    let event = "t\(number)-\(state.rawValue)"
                    try await prepare(event, state)
                    let before = try await system.redis.hgetall(Self.keys.event(event))
                    let stream = try await system.redis.xlen(Self.keys.eventsStream(shard: Self.keys.shard(of: event)))
                    let reply = try await transition.send(event)
                    let expected = try #require(transition.expected[state])
                    let what = "\(transition.name) from \(state.rawValue)"
                    #expect(reply.status == expected.status, "\(what): \(reply.body)")
                    guard let problem = expected.problem else { continue }
                    #expect(reply.string["type"] == "/problems/" + problem, "\(what): \(reply.body)")
                    if problem == "event-state-conflict" || problem == "not-your-event" {
                        #expect(reply.string["current_state"] == state.rawValue, "\(what): \(reply.body)")
                    }
                    #expect(try await system.redis.hgetall(Self.keys.event(event)) == before, "\(what) changed the event")
                    #expect(
                        try await system.redis.xlen(Self.keys.eventsStream(shard: Self.keys.shard(of: event))) == stream,
                        "\(what) queued something")
                }
            }
        }
    }
}
