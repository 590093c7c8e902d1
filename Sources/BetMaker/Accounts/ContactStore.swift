import RedisClient

/// Email contacts in Redis: counting plays, the administrators' listing and erasure. Each change is
/// one script (`record_play`, `erase_contact`), which also appends what the ESP must learn to the
/// outbox stream that the workers deliver (`ContactOutbox`). A contact lives in the shard of its
/// subscriber hash (`RedisKeys.contact`) with that shard's index and outbox, so each script touches
/// one slot.
public struct ContactStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// One play as answered to the player.
    public struct Play: Sendable, Equatable {
        public let address: EmailAddress
        /// Whether the ESP holds the contact; nil when it did not answer in time (a new address) or
        /// that is not known yet (a known address whose lookup went unanswered and whose create has not
        /// been delivered).
        public let inESP: Bool?
        /// Whether bet-maker knew the address before this play.
        public let wasKnown: Bool
        /// Plays of the address, this one included.
        public let plays: Int
        /// True when the ESP was asked during this play and gave no answer in time.
        public let lookupFailed: Bool
    }

    /// Counts a play of `address`. A known address costs one script call and no ESP call. For an
    /// unknown one, `lookUp` asks the ESP (nil: no answer in time) and a second call records the
    /// contact with that answer; if another play recorded it meanwhile, this one counts as a play of
    /// a known address.
    public func play(_ address: EmailAddress, userID: Int?, lookUp: (EmailAddress) async -> Bool?) async throws -> Play {
        let shard = keys.shard(of: address.subscriberHash)
        let scriptKeys = [keys.contact(address.subscriberHash), keys.contacts(shard: shard), keys.contactOutbox(shard: shard)]
        func record(_ inESP: String) async throws -> [String] {
            try await redis.eval(
                Scripts.recordPlay, keys: scriptKeys,
                arguments: [address.value, inESP, userID.map(String.init) ?? "", address.subscriberHash]
            ).strings(for: "record_play")
        }
        var reply = try await record("")
        var lookupFailed = false
        if reply.first == "unknown" {
            let found = await lookUp(address)
            lookupFailed = found == nil
            reply = try await record(found.map { $0 ? "1" : "0" } ?? "?")
        }
        guard reply.count == 3, reply[0] == "known" || reply[0] == "new", let plays = Int(reply[1]) else {
            throw RedisError.unexpectedReply(command: "record_play", reply: "\(reply)")
        }
        return Play(
            address: address, inESP: Contact.inESP(reply[2]), wasKnown: reply[0] == "known", plays: plays, lookupFailed: lookupFailed)
    }

    /// The contact stored for `address`, if any.
    public func contact(_ address: EmailAddress) async throws -> Contact? {
        Contact(fields: try await redis.hmget(keys.contact(address.subscriberHash), Contact.storedFields))
    }

    /// Contacts by address, `limit` at most, after the address `cursor`; the next cursor when more follow.
    /// Each shard's index gives its first `limit + 1` addresses after the cursor (one pipelined round),
    /// and the merge keeps the first `limit + 1` of all: the page and whether more follow.
    public func contacts(limit: Int, after cursor: String?) async throws -> (contacts: [Contact], nextCursor: String?) {
        let replies = try await redis.pipeline(
            (0..<keys.shards).map { shard in
                RedisCommand("ZRANGE", keys.contacts(shard: shard), cursor.map { "(" + $0 } ?? "-", "+", "BYLEX", "LIMIT", 0, limit + 1)
            })
        var addresses: [String] = []
        for reply in replies { addresses += try reply.get().strings(for: "ZRANGE") }
        // ZRANGE BYLEX orders by bytes; so does this (a Swift String's `<` would not, past ASCII).
        addresses.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let page = Array(addresses.prefix(limit))
        guard !page.isEmpty else { return ([], nil) }
        let contactReplies = try await redis.pipeline(
            page.map { RedisCommand("HMGET", arguments: [keys.contact(EmailAddress.subscriberHash(of: $0))] + Contact.storedFields) })
        var contacts: [Contact] = []
        for reply in contactReplies {
            // A contact erased between the two reads is left out.
            if let contact = Contact(fields: try reply.get().optionalStrings(for: "HMGET")) { contacts.append(contact) }
        }
        return (contacts, addresses.count > limit ? page.last : nil)
    }

    /// Erases the contact here (its hash and its place in the index) and queues its erasure at the
    /// ESP, in one step. False when there is no such contact.
    public func erase(_ address: EmailAddress) async throws -> Bool {
        let shard = keys.shard(of: address.subscriberHash)
        return try await redis.eval(
            Scripts.eraseContact,
            keys: [keys.contact(address.subscriberHash), keys.contacts(shard: shard), keys.contactOutbox(shard: shard)],
            arguments: [address.subscriberHash]
        ).int(for: "erase_contact") == 1
    }
}
