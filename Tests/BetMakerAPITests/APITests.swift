import BetMaker
import BetMakerAPI
import BetMakerRuntime
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

@Suite struct APITests {
    @Test func placesABetAndReadsItBack() async throws {
        try await withAPI { client, _, _ in
            let response = try await client.postJSON("/bets", #"{"event_id": "match-1", "amount": 10.5}"#)
            #expect(response.status == .created)
            #expect(response.headers[.contentType] == "application/json")
            guard case .string(let id) = response["id"] else {
                Issue.record("no id in \(response.text)")
                return
            }
            #expect(response.headers[.location] == "/bets/\(id)")
            #expect(response["event_id"] == .string("match-1"))
            #expect(response["amount"] == .string("10.50"))
            #expect(response["status"] == .string("pending"))
            #expect(response["settled_at"] == .null)
            let read = try await client.get("/bets/\(id)")
            #expect(read.status == .ok)
            #expect(read.text == response.text)
        }
    }

    @Test(arguments: [
        ("10", "10.00"), ("10.5", "10.50"), ("10.50", "10.50"), (#""10.50""#, "10.50"), ("0.01", "0.01"), ("1000000", "1000000.00"),
    ])
    func acceptsAmountsInEveryAllowedForm(amount: String, stored: String) async throws {
        try await withAPI { client, _, _ in
            let response = try await client.postJSON("/bets", #"{"event_id": 7, "amount": \#(amount)}"#)
            #expect(response.status == .created, "\(response.text)")
            #expect(response["amount"] == .string(stored))
            #expect(response["event_id"] == .string("7"))
        }
    }

    @Test(arguments: [
        ("0", 422), ("-1", 422), ("10.123", 422), (#""abc""#, 422), ("1e400", 422), ("true", 422), ("null", 422), ("1000000.01", 422),
        (#""""#, 422), ("[10]", 422), ("NaN", 400),
    ])
    func rejectsInvalidAmountsAndStoresNothing(amount: String, status: Int) async throws {
        try await withAPI { client, _, redis in
            let response = try await client.postJSON("/bets", #"{"event_id": "e", "amount": \#(amount)}"#)
            #expect(Int(response.status.code) == status, "\(response.text)")
            #expect(response.isProblem)
            if status == 422 { #expect(response.problemFields == ["amount"]) }
            // Only the schema version and shard count, which the API claims for an empty store before its first request.
            #expect(
                try await redis.send(RedisCommand("KEYS", "*")).strings(for: "KEYS").sorted() == ["t:{g}:schema", "t:{g}:schema:shards"])
        }
    }

    @Test(arguments: [
        #""""#, #""a/b""#, #""a b""#, #""{tag}""#, "\"\(String(repeating: "x", count: 129))\"", "-1", "1.5", "1e3", "true", "{}", "null",
    ])
    func rejectsInvalidEventIDs(eventID: String) async throws {
        try await withAPI { client, _, _ in
            let response = try await client.postJSON("/bets", #"{"event_id": \#(eventID), "amount": 1}"#)
            #expect(response.status == .unprocessableContent, "\(response.text)")
            #expect(response.problemFields == ["event_id"])
        }
    }

    @Test func reportsEveryFieldProblemAtOnceAndRefusesUnknownFields() async throws {
        try await withAPI { client, _, _ in
            let response = try await client.postJSON("/bets", #"{"amount": 10.123, "status": "won", "id": "x"}"#)
            #expect(response.status == .unprocessableContent)
            #expect(Set(response.problemFields) == ["status", "id", "event_id", "amount"])
            #expect(response["type"] == .string("/problems/validation"))
            #expect(response["status"] == .number("422"))
            #expect(response["instance"] == .string("/bets"))

            let duplicate = try await client.postJSON("/bets", #"{"event_id": "a", "amount": 1, "amount": 2}"#)
            #expect(duplicate.status == .unprocessableContent)
            #expect(duplicate.problemFields == ["amount"])

            let notAnObject = try await client.postJSON("/bets", "[1, 2]")
            #expect(notAnObject.status == .unprocessableContent)
            #expect(notAnObject.problemFields == ["body"])
        }
    }

    @Test func refusesMalformedJSONWrongContentTypeAndLargeBodies() async throws {
        try await withAPI { client, _, redis in
            let malformed = try await client.postJSON("/bets", #"{"event_id": "a", "amount": 1"#)
            #expect(malformed.status == .badRequest)
            #expect(malformed["type"] == .string("/problems/malformed-json"))

            let form = try await client.postJSON(
                "/bets", "event_id=a&amount=1", headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(form.status == .unsupportedMediaType)
            #expect(form.isProblem)
            let missing = try await client.execute(uri: "/bets", method: .post, body: ByteBuffer(string: #"{"event_id":"a","amount":1}"#))
            #expect(missing.status == .unsupportedMediaType)
            let withCharset = try await client.postJSON(
                "/bets", #"{"event_id":"a","amount":1}"#, headers: [.contentType: "application/json; charset=utf-8"])
            #expect(withCharset.status == .created)

            let padding = String(repeating: " ", count: 70 * 1024)
            let large = try await client.postJSON("/bets", #"{"event_id": "a", "amount": 1}"# + padding)
            #expect(large.status == .contentTooLarge)
            #expect(large["type"] == .string("/problems/body-too-large"))
            #expect(try await redis.llen("t:{sh:0}:{ev:a}:bets") == 1)
        }
    }

    @Test func answersUnknownThingsWithProblems() async throws {
        try await withAPI { client, _, _ in
            let noBet = try await client.get("/bets/000000000000")
            #expect(noBet.status == .notFound)
            #expect(noBet["type"] == .string("/problems/not-found"))
            let garbage = try await client.get("/bets/not-an-id")
            #expect(garbage.status == .notFound)
            let noRoute = try await client.get("/nothing/here")
            #expect(noRoute.status == .notFound)
            #expect(noRoute.isProblem)
            let wrongMethod = try await client.execute(uri: "/bets", method: .delete)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET, HEAD, POST")
            #expect(wrongMethod.isProblem)
        }
    }

    @Test func echoesTheCallersRequestIDOrMakesOne() async throws {
        try await withAPI { client, _, _ in
            let echoed = try await client.get("/health/live", headers: [.requestID: "abc-123"])
            #expect(echoed.headers[.requestID] == "abc-123")
            let made = try await client.get("/health/live")
            #expect((made.headers[.requestID]?.count ?? 0) >= 16)
            let onError = try await client.get("/bets/nope", headers: [.requestID: "err-1"])
            #expect(onError.headers[.requestID] == "err-1")
            let unusable = try await client.get("/health/live", headers: [.requestID: String(repeating: "x", count: 200)])
            #expect(unusable.headers[.requestID]?.count != 200)
        }
    }

    @Test func replaysARequestWithTheSameIdempotencyKey() async throws {
        try await withAPI { client, _, redis in
            let body = #"{"event_id": "e1", "amount": "25.00"}"#
            let first = try await client.postJSON("/bets", body, headers: [.idempotencyKey: "order-77"])
            #expect(first.status == .created)
            let retry = try await client.postJSON("/bets", body, headers: [.idempotencyKey: "order-77"])
            #expect(retry.status == .created)
            #expect(retry.text == first.text)
            #expect(retry.headers[.location] == first.headers[.location])
            #expect(retry.headers[.idempotentReplayed] == "true")
            // The same amount written differently is the same request.
            let sameValue = try await client.postJSON(
                "/bets", #"{"amount": 25, "event_id": "e1"}"#, headers: [.idempotencyKey: "order-77"])
            #expect(sameValue.text == first.text)
            #expect(try await redis.llen("t:{sh:0}:{ev:e1}:bets") == 1)

            let different = try await client.postJSON(
                "/bets", #"{"event_id": "e1", "amount": 26}"#, headers: [.idempotencyKey: "order-77"])
            #expect(different.status == .unprocessableContent)
            #expect(different["type"] == .string("/problems/idempotency-key-reused"))
            let tooLong = try await client.postJSON("/bets", body, headers: [.idempotencyKey: String(repeating: "k", count: 256)])
            #expect(tooLong.status == .unprocessableContent)
            #expect(try await redis.llen("t:{sh:0}:{ev:e1}:bets") == 1)
        }
    }

    @Test func reportsResultsOnceAndRefusesAChange() async throws {
        try await withAPI { client, _, redis in
            _ = try await client.postJSON("/bets", #"{"event_id": "final", "amount": 5}"#)
            let reported = try await client.putJSON("/events/final", #"{"status": "WIN"}"#)
            #expect(reported.status == .accepted)
            #expect(reported["status"] == .string("WIN"))
            let again = try await client.putJSON("/events/final", #"{"status": "WIN"}"#)
            #expect(again.status == .accepted)
            #expect(try await redis.xlen("t:{sh:0}:events") == 1)

            let conflict = try await client.putJSON("/events/final", #"{"status": "LOSE"}"#)
            #expect(conflict.status == .conflict)
            #expect(conflict["type"] == .string("/problems/result-conflict"))
            #expect(conflict["current_result"] == .string("WIN"))
            #expect(try await redis.hget("t:{sh:0}:{ev:final}", "result") == "WIN")

            let late = try await client.postJSON("/bets", #"{"event_id": "final", "amount": 5}"#)
            #expect(late.status == .conflict)
            #expect(late["type"] == .string("/problems/event-closed"))
            #expect(try await redis.llen("t:{sh:0}:{ev:final}:bets") == 1)

            for body in [#"{"status": "DRAW"}"#, #"{"status": "win"}"#, "{}", #"{"status": "WIN", "x": 1}"#] {
                let invalid = try await client.putJSON("/events/other", body)
                #expect(invalid.status == .unprocessableContent, "\(body)")
            }
            let badID = try await client.putJSON("/events/bad%20id", #"{"status": "WIN"}"#)
            #expect(badID.status == .unprocessableContent)
            #expect(try await redis.xlen("t:{sh:0}:events") == 1)
        }
    }

    @Test func showsAnEventsProgress() async throws {
        try await withAPI { client, _, _ in
            let fresh = try await client.get("/events/never-seen")
            #expect(fresh.status == .ok)
            #expect(fresh["status"] == .string("open"))
            #expect(fresh["total_staked"] == .string("0.00"))
            _ = try await client.postJSON("/bets", #"{"event_id": "ev", "amount": 1.25}"#)
            _ = try await client.postJSON("/bets", #"{"event_id": "ev", "amount": 2}"#)
            let open = try await client.get("/events/ev")
            #expect(open["total_staked"] == .string("3.25"))
            guard case .object(let counts) = open["bets"] else {
                Issue.record("no counts")
                return
            }
            #expect(counts.first { $0.key == "pending" }?.value == .number("2"))
            #expect(open["settled"] == .bool(false))
        }
    }

    @Test func listsWithFiltersPagesAndTheirErrors() async throws {
        try await withAPI { client, _, _ in
            for index in 0..<7 {
                _ = try await client.postJSON("/bets", #"{"event_id": "e\#(index % 2)", "amount": 1}"#)
            }
            var ids: [String] = []
            var next: String? = "/bets?limit=3"
            while let uri = next {
                let page = try await client.get(uri)
                #expect(page.status == .ok)
                guard case .array(let bets) = page.json else { break }
                for case .object(let members) in bets {
                    if case .string(let id) = members.first(where: { $0.key == "id" })?.value { ids.append(id) }
                }
                next = page.headers[.link].flatMap { link in
                    link.split(separator: ">").first.map { String($0.dropFirst()) }
                }
            }
            #expect(ids.count == 7)
            // Newest first: a bet id's serial sorts like the time it was placed.
            let serials = ids.compactMap { BetID($0)?.serial }
            #expect(serials.count == 7 && serials == serials.sorted(by: >))

            let byEvent = try await client.get("/bets?event_id=e1&status=pending")
            guard case .array(let bets) = byEvent.json else {
                Issue.record("not an array")
                return
            }
            #expect(bets.count == 3)

            // A cursor of several positions belongs to the anonymous bets of a store of as many shards.
            for query in [
                "status=open", "limit=0", "limit=1001", "limit=x", "event_id=a/b", "cursor=zzz", "event_id=e1&cursor=-1", "cursor=3.4",
                "event_id=e1&cursor=3.4",
            ] {
                let response = try await client.get("/bets?\(query)")
                #expect(response.status == .unprocessableContent, "\(query)")
            }
        }
    }

    @Test func answers503WhileRedisIsDownAndRecovers() async throws {
        try await withAPI { client, server, _ in
            #expect(try await client.get("/bets").status == .ok)
            await server.kill()
            // Until the client has seen every pooled connection drop, a bet can still be written to one
            // and answer outcome-unknown (truthfully: the client cannot tell that Redis was already gone).
            // Readiness pings one connection only, so it is no signal that all of them have noticed.
            let unknownOrNotSent: [JSONValue] = [
                .string("/problems/outcome-unknown"), .string("/problems/storage-unavailable"),
            ]
            let refusedAsNotSent = await eventually {
                let placing = try await client.postJSON("/bets", #"{"event_id": "e", "amount": 1}"#)
                #expect(placing.status == .serviceUnavailable)
                #expect(unknownOrNotSent.contains(placing["type"] ?? .null), "\(String(buffer: placing.body))")
                #expect(placing.headers[.retryAfter] != nil)
                return placing["type"] == .string("/problems/storage-unavailable")
            }
            #expect(refusedAsNotSent)
            #expect(try await client.get("/bets").status == .serviceUnavailable)
            #expect(try await client.get("/health/live").status == .ok)
            try await server.launch()
            #expect(await eventually { try await client.get("/bets").status == .ok })
            #expect(try await client.postJSON("/bets", #"{"event_id": "e", "amount": 1}"#).status == .created)
        }
    }
}
