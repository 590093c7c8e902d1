import NIOCore
import Synchronization

/// Pipelines in cluster mode. The commands are cut into segments: a command with keys starts one, and
/// the keyless commands after it (`WAIT` after a write) belong to it, so they go on the same connection
/// right behind it; keyless commands at the start join the first command with keys. Each node gets its
/// segments in their order in one batch on one connection; the replies are put back in the order of
/// the commands. A segment is retried as a whole (see `ClusterRouter+Sending.swift`) when its command
/// with keys did not run, so a `WAIT` is never answered by a node its write did not reach.
///
/// A node's batch that fails as a whole (its connection dropped) fails each of its commands; the
/// pipeline throws only when the caller is cancelled.
extension ClusterRouter {
    struct Segment {
        var range: Range<Int>
        /// The command whose keys route the segment (its first, when it has none).
        var keyed: Int
        var attempt: Attempt
        var readOnly: Bool
        var done = false
    }

    func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        // The common case, and the product's: every key in one slot. Sent as it came, to one node.
        var firstRound: [Result<RESPValue, RedisError>]?
        var batchFailure: RedisError?
        let route = Self.route(commands)
        if route != .crossSlot {
            let slot: Int? = if case .slot(let slot) = route { slot } else { nil }
            do {
                let pool: ConnectionPool
                if case .use(let known) = state.withLock({ $0.pool(forSlot: slot) }) {
                    pool = known
                } else {
                    pool = try await self.pool(forSlot: slot)
                }
                let replies = try await pool.connection().pipeline(commands)
                if !Self.mayRetryAny(replies) { return replies }
                firstRound = replies
            } catch let error as RedisError {
                batchFailure = error
            }
        }
        var results =
            firstRound ?? [Result<RESPValue, RedisError>](repeating: .failure(.connectionUnavailable("not sent")), count: commands.count)
        var segments = Self.segments(of: commands, results: &results)
        if firstRound != nil || batchFailure != nil {
            for segment in segments.indices where !segments[segment].done {
                settle(segment, of: commands, failure: batchFailure, segments: &segments, results: &results)
            }
        }
        let deadline = ContinuousClock.now + options.retryTimeout
        var backoff = Backoff(options.retryBackoff)
        while true {
            let pending = segments.indices.filter { !segments[$0].done }
            if pending.isEmpty { return results }
            if pending.contains(where: { segments[$0].attempt.backingOff }) {
                let now = ContinuousClock.now
                guard now < deadline else { return results }
                try await Task.sleep(for: min(backoff.next(), deadline - now))
            }
            try await round(pending, of: commands, segments: &segments, results: &results)
        }
    }

    /// `.slot` when every command with keys has them in that one slot, `.keyless` when none has keys: the
    /// batch can then go as it came. The batch is read in place (no copy of a command), and a name like
    /// the one before is not looked up again: a batch is mostly one command.
    private static func route(_ commands: [RedisCommand]) -> CommandRoute {
        var slot: Int?
        var name = ""
        var pattern = CommandKeys.Pattern.none
        for index in commands.indices {
            if commands[index].name != name {
                name = commands[index].name
                pattern = CommandKeys.of(name).pattern
            }
            switch RedisCommand.route(pattern, arguments: commands[index].storage, count: commands[index].argumentCount) {
            case .keyless: continue
            case .slot(let keySlot):
                if slot == nil { slot = keySlot } else if keySlot != slot { return .crossSlot }
            case .crossSlot: return .crossSlot
            }
        }
        return slot.map { .slot($0) } ?? .keyless
    }

    private static func mayRetryAny(_ replies: [Result<RESPValue, RedisError>]) -> Bool {
        for index in replies.indices {
            if case .failure(let error) = replies[index], mayRetry(error) { return true }
        }
        return false
    }

    /// Whether a failed reply may be one that the router sends again (cheap: no decision made).
    private static func mayRetry(_ error: RedisError) -> Bool {
        switch error {
        case .redirected, .connectionUnavailable, .connectionClosed, .timeout, .protocolError: true
        case .server(let reply): RedisError.notRunCodes.contains(reply.code) || reply.code == "NOSCRIPT"
        case .unexpectedReply, .invalidCommand, .crossSlot: false
        }
    }

    /// One attempt of every pending segment: routed, sent per node, replies classified.
    private func round(
        _ pending: [Int], of commands: [RedisCommand], segments: inout [Segment], results: inout [Result<RESPValue, RedisError>]
    ) async throws {
        // Each node's segments, in order.
        var groups: [(pool: ConnectionPool, segments: [Int])] = []
        let pools = try await pools(for: pending.map { segments[$0].attempt })
        for (position, segment) in pending.enumerated() {
            switch pools[position] {
            case .success(let pool):
                if let group = groups.firstIndex(where: { $0.pool === pool }) {
                    groups[group].segments.append(segment)
                } else {
                    groups.append((pool, [segment]))
                }
            case .failure(let error):
                settle(segment, of: commands, failure: error, segments: &segments, results: &results)
            }
        }
        var batches: [(connection: RedisConnection?, batch: [RedisCommand])] = []
        var parts = [FanIn.Part](repeating: .success([]), count: groups.count)
        for (index, group) in groups.enumerated() {
            let batch = Self.batch(group.segments.map { segments[$0] }, of: commands)
            do {
                batches.append((try await group.pool.connection(), batch))
            } catch {
                batches.append((nil, batch))
                parts[index] = .failure(error)
            }
        }
        if batches.count == 1, let connection = batches[0].connection {
            do {
                parts[0] = .success(try await connection.pipeline(batches[0].batch))
            } catch let error as RedisError {
                parts[0] = .failure(error)
            }
        } else if batches.contains(where: { $0.connection != nil }) {
            let sent = await Self.send(batches)
            for (index, part) in sent.enumerated() where batches[index].connection != nil { parts[index] = part }
        }
        for (group, part) in parts.enumerated() {
            var position = 0
            for segment in groups[group].segments {
                guard case .success(let all) = part else {
                    if case .failure(let error) = part {
                        settle(
                            segment, of: commands, failure: (error as? RedisError) ?? .connectionClosed("\(error)"), segments: &segments,
                            results: &results)
                    }
                    continue
                }
                let (range, keyed) = (segments[segment].range, segments[segment].keyed)
                let prefix = segments[segment].attempt.prefixCount(for: commands[keyed])
                for index in range {
                    // The replies to ASKING and SCRIPT LOAD are not the caller's.
                    if index == keyed { position += prefix }
                    results[index] = all[position]
                    position += 1
                }
                settle(segment, of: commands, failure: nil, segments: &segments, results: &results)
            }
        }
    }

    /// Writes every node's batch, each event loop's in one task, and waits once for all of them.
    private static func send(_ batches: [(connection: RedisConnection?, batch: [RedisCommand])]) async -> [FanIn.Part] {
        await withUnsafeContinuation { continuation in
            let fanIn = FanIn(parts: batches.count, continuation: continuation)
            var byLoop: [(loop: any EventLoop, parts: [(part: Int, connection: RedisConnection, batch: [RedisCommand])])] = []
            for (part, (connection, batch)) in batches.enumerated() {
                guard let connection else {
                    fanIn.complete(part, with: .failure(RedisError.connectionUnavailable("not sent")))
                    continue
                }
                if let index = byLoop.firstIndex(where: { $0.loop === connection.eventLoop }) {
                    byLoop[index].parts.append((part, connection, batch))
                } else {
                    byLoop.append((connection.eventLoop, [(part, connection, batch)]))
                }
            }
            for (loop, parts) in byLoop {
                loop.execute {
                    for (part, connection, batch) in parts {
                        connection.enqueueOnEventLoop(
                            batch, collector: BatchCollector(count: batch.count, receiver: .fanIn(fanIn, part: part)))
                    }
                }
            }
        }
    }

    /// Decides whether a segment goes again, from the reply to its command with keys (already in
    /// `results`), or from the failure of its whole batch.
    private func settle(
        _ index: Int, of commands: [RedisCommand], failure: RedisError?, segments: inout [Segment],
        results: inout [Result<RESPValue, RedisError>]
    ) {
        let segment = segments[index]
        if let failure {
            for position in segment.range { results[position] = .failure(failure) }
        }
        guard case .failure(let error) = results[segment.keyed] else {
            segments[index].done = true
            return
        }
        let retry = retry(after: error, of: commands[segment.keyed], readOnly: segment.readOnly)
        if case .backoff(let reason) = retry { metrics.retry(reason) }
        segments[index].done = !segments[index].attempt.update(retry, maximumRedirects: options.maximumRedirects)
    }

    /// The pool for each attempt, in one pass over the map (waiting for the first map if need be).
    private func pools(for attempts: [Attempt]) async throws -> [Result<ConnectionPool, RedisError>] {
        while true {
            var waiting = false
            let pools = state.withLock { state in
                attempts.map { attempt -> Result<ConnectionPool, RedisError> in
                    if attempt.asking != nil { return .failure(.connectionUnavailable("")) }
                    switch state.pool(forSlot: attempt.slot) {
                    case .use(let pool): return .success(pool)
                    case .fail(let error): return .failure(error)
                    case .wait:
                        waiting = true
                        return .failure(.connectionUnavailable("no cluster map yet"))
                    }
                }
            }
            if waiting {
                _ = try await pool(forSlot: nil)
                continue
            }
            return zip(attempts, pools).map { attempt, pool in
                guard let asking = attempt.asking else { return pool }
                return Result(catching: { () throws(RedisError) -> ConnectionPool in try self.pool(at: asking) })
            }
        }
    }

    /// The commands of `segments` in order, each command with keys behind its prefix.
    private static func batch(_ segments: [Segment], of commands: [RedisCommand]) -> [RedisCommand] {
        var batch: [RedisCommand] = []
        batch.reserveCapacity(segments.reduce(0) { $0 + $1.range.count + 2 })
        for segment in segments {
            for index in segment.range {
                if index == segment.keyed { batch += segment.attempt.prefix(for: commands[index]) }
                batch.append(commands[index])
            }
        }
        return batch
    }

    /// Cuts the pipeline into segments; a command whose keys span slots is refused here, with the
    /// keyless commands that follow it.
    static func segments(of commands: [RedisCommand], results: inout [Result<RESPValue, RedisError>]) -> [Segment] {
        var segments: [Segment] = []
        var hasKeyed = false
        var refusal: RedisError?
        for (index, command) in commands.enumerated() {
            let keys = CommandKeys.of(command.name)
            let isReadOnly = keys.isReadOnly
            switch command.route(keys.pattern) {
            case .keyless where !segments.isEmpty:
                segments[segments.count - 1].range = segments[segments.count - 1].range.lowerBound..<(index + 1)
                segments[segments.count - 1].readOnly = segments[segments.count - 1].readOnly && isReadOnly
                if let refusal { results[index] = .failure(refusal) }
            case .keyless:
                segments.append(Segment(range: index..<(index + 1), keyed: index, attempt: Attempt(slot: nil), readOnly: isReadOnly))
            case .slot(let slot) where !hasKeyed && !segments.isEmpty:
                // The keyless commands at the start go with the first command that has keys.
                segments[0].range = 0..<(index + 1)
                segments[0].keyed = index
                segments[0].attempt.slot = slot
                segments[0].readOnly = segments[0].readOnly && isReadOnly
                hasKeyed = true
            case .slot(let slot):
                segments.append(Segment(range: index..<(index + 1), keyed: index, attempt: Attempt(slot: slot), readOnly: isReadOnly))
                hasKeyed = true
                refusal = nil
            case .crossSlot:
                let error = RedisError.crossSlot(command: command.name, keys: command.keys)
                results[index] = .failure(error)
                segments.append(
                    Segment(range: index..<(index + 1), keyed: index, attempt: Attempt(slot: nil), readOnly: isReadOnly, done: true))
                hasKeyed = true
                refusal = error
            }
        }
        return segments
    }
}
