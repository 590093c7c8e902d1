import BetMakerWorker
import Logging
import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Contacts and the ESP outbox split into shards (issue 30): each contact with its shard's index and
/// outbox, the administrators' listing merged across the shards, and the relay reading every shard.
/// `UserFlowClusterTests` runs the same on a Redis Cluster.
@Suite struct ContactShardTests {
    static let keys = RedisKeys(prefix: "cs:", shards: 4)

    /// An ESP that keeps what it was asked, in memory.
    struct RecordingESP: EmailServiceProvider {
        actor Calls {
            var created: [String] = []
            var erased: [String] = []
            func create(_ hash: String) { created.append(hash) }
            func erase(_ hash: String) { erased.append(hash) }
        }
        let calls = Calls()

        func hasContact(_ address: EmailAddress, timeout: Duration) async throws -> Bool { false }
        func createContact(_ address: EmailAddress) async throws { await calls.create(address.subscriberHash) }
        func eraseContact(subscriberHash: String) async throws { await calls.erase(subscriberHash) }
    }

    static let addresses = (0..<24).map { "player\($0)@example.com" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

    /// Plays every address once (each new, the ESP lacking it); the shards used.
    static func playAll(_ contacts: ContactStore) async throws -> Set<Int> {
        var shards = Set<Int>()
        for text in addresses {
            let address = try #require(EmailAddress(normalizing: text))
            let play = try await contacts.play(address, userID: nil) { _ in false }
            #expect(!play.wasKnown && play.plays == 1)
            shards.insert(contacts.keys.shard(of: address.subscriberHash))
        }
        return shards
    }

    /// Every page of the listing, `limit` at a time.
    static func listAll(_ contacts: ContactStore, limit: Int) async throws -> [String] {
        var listed: [String] = []
        var cursor: String?
        repeat {
            let page = try await contacts.contacts(limit: limit, after: cursor)
            #expect(page.contacts.count <= limit)
            listed += page.contacts.map(\.email)
            cursor = page.nextCursor
        } while cursor != nil
        return listed
    }

    /// Plays, listing, erasure and the relay on one store; `redis` a single node or a cluster.
    static func exercise(_ redis: RedisClient) async throws {
        let contacts = ContactStore(redis: redis, keys: keys)
        let shards = try await playAll(contacts)
        #expect(shards.count > 1, "24 addresses fall in more than one of 4 shards")
        for shard in 0..<keys.shards {
            let members = try await redis.send(RedisCommand("ZRANGE", keys.contacts(shard: shard), "-", "+", "BYLEX")).strings(
                for: "ZRANGE")
            #expect(members.allSatisfy { keys.shard(of: EmailAddress.subscriberHash(of: $0)) == shard })
            #expect(try await redis.xlen(keys.contactOutbox(shard: shard)) == members.count)
        }
        // The listing merges the shards in address order, whatever the page size.
        for limit in [1, 5, 7, 24, 100] {
            #expect(try await listAll(contacts, limit: limit) == addresses, "limit \(limit)")
        }
        let known = try await contacts.play(try #require(EmailAddress(normalizing: addresses[3])), userID: 7) { _ in nil }
        #expect(known.wasKnown && known.plays == 2)

        let erased = try #require(EmailAddress(normalizing: addresses[5]))
        #expect(try await contacts.erase(erased))
        #expect(try await contacts.erase(erased) == false)
        #expect(try await listAll(contacts, limit: 5) == addresses.filter { $0 != erased.value })

        // The relay delivers every shard's outbox.
        let esp = RecordingESP()
        var configuration = ContactRelay.Configuration(consumer: "relay-test")
        configuration.block = .milliseconds(50)
        let relay = ContactRelay(redis: redis, keys: keys, esp: esp, configuration: configuration, logger: Logger(label: "relay"))
        let running = Task { try await relay.run() }
        let expectedCreates = Set(addresses.map { EmailAddress.subscriberHash(of: $0) }).subtracting([erased.subscriberHash])
        #expect(
            await eventually {
                let created = Set(await esp.calls.created)
                let erasures = await esp.calls.erased
                return created.isSuperset(of: expectedCreates) && erasures == [erased.subscriberHash]
            })
        #expect(
            await eventually {
                var pending = 0
                for shard in 0..<keys.shards {
                    pending += try await redis.xpendingSummary(keys.contactOutbox(shard: shard), group: "esp").count
                }
                return pending == 0
            })
        running.cancel()
        _ = try? await running.value
        for text in addresses where text != erased.value {
            let contact = try await contacts.contact(try #require(EmailAddress(normalizing: text)))
            #expect(contact?.sync == .synced, "\(text)")
        }
    }

    @Test func contactsAndTheOutboxLiveInTheirShardsAndTheRelayReadsThemAll() async throws {
        try await withRedis { (_, redis) async throws in
            try await Self.exercise(redis)
        }
    }

    /// A retry set and dead letters per shard: a message is released into its own shard's stream.
    @Test func aRetryIsReleasedIntoItsOwnShard() async throws {
        try await withRedis { (_, redis) async throws in
            let contacts = ContactStore(redis: redis, keys: Self.keys)
            let outbox = ContactOutbox(redis: redis, keys: Self.keys)
            let address = try #require(EmailAddress(normalizing: "retry@example.com"))
            let shard = Self.keys.shard(of: address.subscriberHash)
            _ = try await contacts.play(address, userID: nil) { _ in false }
            let stream = Self.keys.contactOutbox(shard: shard)
            try await redis.xgroupCreate(stream, group: "esp", startingAt: "0")
            let entries = try await redis.xreadgroup(stream, group: "esp", consumer: "c", count: 10)
            #expect(entries.count == 1)
            let message = try #require(ContactOutbox.Message(entries[0], shard: shard, keys: Self.keys))
            #expect(ContactOutbox.Message(entries[0], shard: (shard + 1) % 4, keys: Self.keys) == nil, "another shard's message is refused")
            try await outbox.retryLater(message, at: 1, attempts: 1, error: "HTTP 503")
            #expect(try await redis.zcard(Self.keys.contactOutboxRetries(shard: shard)) == 1)
            #expect(try await outbox.releaseDue(shard: (shard + 1) % 4) == 0)
            #expect(try await outbox.releaseDue(shard: shard) == 1)
            #expect(try await redis.xlen(stream) == 2)
            #expect(try await contacts.contact(address)?.attempts == 1)
        }
    }
}

/// The single-slot flows of users, payments and contacts on a 3-master Redis Cluster with 4 shards:
/// a script whose keys span slots would fail there (`CROSSSLOT`).
@Suite struct UserFlowClusterTests {
    @Test func registrationActivationRolesDepositsAndContactsRunOnACluster() async throws {
        try await withRedisCluster(masters: 3, replicasPerMaster: 0) { cluster in
            try await RedisClient(configuration: cluster.configuration).withRunning { redis in
                let keys = ContactShardTests.keys
                let accounts = AccountStore(redis: redis, keys: keys)
                guard case .created(let carol, let account, let token?) = try await accounts.register(login: "carol", passwordHash: "h")
                else {
                    Issue.record("not registered")
                    return
                }
                #expect(try await accounts.register(login: "Carol", passwordHash: "h") == .loginTaken(existingUserID: carol.id))
                guard case .activated = try await accounts.activate(token: token) else {
                    Issue.record("not activated")
                    return
                }
                guard case .updated(let trader) = try await accounts.update(userID: carol.id, role: .trader) else {
                    Issue.record("not updated")
                    return
                }
                #expect(trader.role == .trader)
                #expect(try await accounts.traders(limit: 5, after: nil).traders.map(\.id) == [carol.id])
                #expect(try await accounts.update(userID: carol.id, role: .player) != .missing)
                let session = try await accounts.session(userID: carol.id, tokenID: "jti")
                #expect(session.user?.id == carol.id && !session.revoked)

                let amount = Money(cents: 1_000)
                let signature = String(repeating: "0f", count: 32)
                _ = try await accounts.claimPayment(
                    transactionID: "c-1", userID: carol.id, accountID: account.id, amount: amount, signature: signature)
                guard
                    case .credited = try await accounts.deposit(
                        transactionID: "c-1", userID: carol.id, accountID: account.id, amount: amount, signature: signature)
                else {
                    Issue.record("not credited")
                    return
                }
                #expect(
                    try await accounts.deposit(
                        transactionID: "c-2", userID: carol.id, accountID: account.id, amount: amount, signature: signature)
                        == .signatureReused(transactionID: "c-1"))
                #expect(try await accounts.accounts(userID: carol.id) == [Account(id: account.id, balance: amount)])

                try await ContactShardTests.exercise(redis)
            }
        }
    }
}
