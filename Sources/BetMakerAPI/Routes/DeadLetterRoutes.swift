import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/admin/dead-letters`: what the workers gave up on, and re-driving an entry once its cause is
/// repaired. Administrators only (the `/admin` group's `AdministratorsOnly`).
struct DeadLetterRoutes {
    let queue: SettlementQueue

    func register(admin deadLetters: some RouterMethods<APIRequestContext>) {
        deadLetters.get(use: list)
        deadLetters.post("{id}/retry", use: retry)
    }

    /// Newest first across the shards, paged by the dead letters' ids (`<shard>:<entry id>`).
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try Input.page(request, isValidCursor: DeadLetter.ID.isValid)
        let (letters, next) = try await queue.deadLetters(limit: page.limit, before: page.cursor)
        var headers: HTTPFields = [:]
        if let next { headers[.link] = Input.nextLink("/admin/dead-letters", limit: page.limit, cursor: next) }
        return .json(headers: headers, capacity: 64 + letters.count * 300) { json in
            json.beginArray()
            for letter in letters { letter.write(to: &json) }
            json.endArray()
        }
    }

    /// Queues the dead letter's event again (a new stream entry) and deletes the dead letter, in one
    /// step: 202 with the new entry; the event's status shows when it is settled.
    @Sendable func retry(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        let outcome: SettlementQueue.RetryOutcome =
            DeadLetter.ID.isValid(id) ? try await queue.retryDeadLetter(id: id) : .missing
        switch outcome {
        case .retried(let entryID, let eventID):
            context.logger.notice(
                "Dead letter re-driven", metadata: ["dead_letter_id": "\(id)", "entry_id": "\(entryID)", "event_id": "\(eventID)"])
            return .json(.accepted, headers: [.location: "/events/" + eventID]) { json in
                json.beginObject()
                json.field("dead_letter_id", id)
                json.field("entry_id", entryID)
                json.field("event_id", eventID)
                json.endObject()
            }
        case .missing:
            throw Problem.notFound("There is no dead letter \(id).")
        case .malformed:
            throw Self.notRetryable(
                id, "it names no valid event id, or a result other than WIN, LOSE or VOID; it can never settle anything")
        case .noResult(let eventID):
            throw Self.notRetryable(id, "event \(eventID) has no result recorded; report it with PUT /events/\(eventID)")
        case .resultMismatch(let eventID, let recorded, let entry):
            throw Self.notRetryable(id, "it says \(entry), but event \(eventID) was reported as \(recorded)")
        }
    }

    static func notRetryable(_ id: String, _ why: String) -> Problem {
        Problem.conflict(
            "dead-letter-not-retryable", title: "The dead letter cannot be retried",
            detail: "Dead letter \(id) cannot settle its event: \(why). It stays in the dead-letter stream.")
    }
}
