import BetMaker
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore

/// `/bets` and `/events/{event_id}`: placing, listing and reading bets, reporting and reading results.
struct BetRoutes {
    let store: BetStore
    let maximumStake: Money
    let maximumBodyBytes: Int
    let betsPlaced = Counter(label: "bets_placed_total")

    static let defaultLimit = 100
    static let maximumLimit = 1000

    func register(on router: Router<APIRequestContext>) {
        router.post("/bets", use: placeBet)
        router.get("/bets", use: listBets)
        router.get("/bets/{id}", use: getBet)
        router.put("/events/{event_id}", use: reportResult)
        router.get("/events/{event_id}", use: getEvent)
    }

    // MARK: Bets

    @Sendable func placeBet(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await Input.json(request, limit: maximumBodyBytes)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(body, allowed: ["event_id", "amount"], errors: &errors)
        let eventID = Input.eventID(fields["event_id"]).collect(into: &errors)
        let amount = Input.stake(fields["amount"], maximum: maximumStake).collect(into: &errors)
        guard let eventID, let amount, errors.isEmpty else { throw Problem.validation(errors) }
        let idempotency = try Input.idempotencyKey(request).map {
            BetStore.IdempotencyKey(key: "anonymous:" + $0, fingerprint: "\(eventID)\n\(amount.cents)")
        }

        switch try await store.place(eventID: eventID, amount: amount, idempotency: idempotency) {
        case .placed(let bet):
            betsPlaced.increment()
            context.logger.debug("Bet placed", metadata: ["bet_id": "\(bet.id)", "event_id": "\(eventID)", "amount": "\(amount)"])
            return created(json: bet.json, id: bet.id)
        case .replayed(let saved):
            var response = created(json: Array(saved.utf8), id: Self.id(inBetJSON: saved))
            response.headers[.idempotentReplayed] = "true"
            return response
        case .idempotencyKeyReused:
            throw Problem.validation(
                "Idempotency-Key", "was already used for a different request within the last 24 hours; use a new key for a new bet")
        case .eventClosed(let result):
            var problem = Problem(
                .conflict, "event-closed", title: "The event is closed for betting",
                detail: "Event \(eventID) already has its result (\(result.rawValue)); bets on it are no longer accepted.")
            problem.extensions = [("event_result", result.rawValue)]
            throw problem
        }
    }

    private func created(json: [UInt8], id: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let id { headers[.location] = "/bets/" + id }
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    private static func id(inBetJSON json: String) -> String? {
        guard case .object(let members) = try? JSONParser.parse(Array(json.utf8)),
            case .string(let id) = members.first(where: { $0.key == "id" })?.value
        else { return nil }
        return id
    }

    @Sendable func listBets(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = BetStore.Filter()
        if let status = query.get("status") {
            filter.status = BetStatus(rawValue: status)
            if filter.status == nil { errors.append(.init("status", "must be pending, won or lost")) }
        }
        if let eventID = query.get("event_id") {
            if EventID.isValid(eventID) { filter.eventID = eventID } else { errors.append(.init("event_id", "must be \(EventID.rule)")) }
        }
        var limit = Self.defaultLimit
        if let text = query.get("limit") {
            if let number = Int(text), (1...Self.maximumLimit).contains(number) {
                limit = number
            } else {
                errors.append(.init("limit", "must be a whole number from 1 to \(Self.maximumLimit)"))
            }
        }
        let cursor = query.get("cursor")
        if let cursor, errors.isEmpty, !BetStore.isValidCursor(cursor, for: filter) {
            errors.append(.init("cursor", "is not a cursor from this listing; follow the Link header of the previous page"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }

        let page = try await store.list(filter, limit: limit, cursor: cursor)
        var json = JSONWriter(capacity: 64 + page.bets.count * 170)
        json.beginArray()
        for bet in page.bets { bet.write(to: &json) }
        json.endArray()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let next = page.nextCursor {
            var link = "/bets?limit=\(limit)&cursor=\(next)"
            if let status = filter.status { link += "&status=\(status.rawValue)" }
            if let eventID = filter.eventID { link += "&event_id=\(eventID)" }
            headers[.link] = "<\(link)>; rel=\"next\""
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    @Sendable func getBet(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard BetIDGenerator.isWellFormed(id), let bet = try await store.bet(id: id) else {
            throw Problem.notFound("There is no bet \(id).")
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bet.json)))
    }

    // MARK: Events

    private func eventID(_ context: APIRequestContext) throws(Problem) -> String {
        let eventID = context.parameters.get("event_id") ?? ""
        guard EventID.isValid(eventID) else { throw Problem.validation("event_id", "must be \(EventID.rule)") }
        return eventID
    }

    @Sendable func reportResult(_ request: Request, context: APIRequestContext) async throws -> Response {
        let eventID = try eventID(context)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["status"], errors: &errors)
        let result = fields["status"].flatMap { if case .string(let text) = $0 { EventResult(rawValue: text) } else { nil } }
        if result == nil { errors.append(.init("status", fields["status"] == nil ? "is required" : "must be WIN or LOSE")) }
        guard let result, errors.isEmpty else { throw Problem.validation(errors) }
        switch try await store.report(eventID: eventID, result: result) {
        case .reported:
            context.logger.info("Result reported", metadata: ["event_id": "\(eventID)", "result": "\(result.rawValue)"])
        case .unchanged:
            break
        case .conflict(let current):
            var problem = Problem(
                .conflict, "result-conflict", title: "The event already has another result",
                detail: "Event \(eventID) was reported as \(current.rawValue); a result cannot be changed.")
            problem.extensions = [("current_result", current.rawValue)]
            throw problem
        }
        let summary = try await store.event(id: eventID)
        return eventResponse(summary, status: .accepted)
    }

    @Sendable func getEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        eventResponse(try await store.event(id: try eventID(context)), status: .ok)
    }

    private func eventResponse(_ summary: EventSummary, status: HTTPResponse.Status) -> Response {
        var json = JSONWriter(capacity: 320)
        summary.write(to: &json)
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .accepted { headers[.location] = "/events/" + summary.id }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}
