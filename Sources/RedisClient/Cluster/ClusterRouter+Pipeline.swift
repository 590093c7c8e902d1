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
        var results = [Result<RESPValue, RedisError>](repeating: .failure(.connectionUnavailable("not sent")), count: commands.count)
        var segments = Self.segments(of: commands, results: &results)
        let deadline = ContinuousClock.now + options.retryTimeout
        var backoff = Backoff(options.retryBackoff)
        var firstRound = true
        while true {
            let pending = segments.indices.filter { !segments[$0].done }
            if pending.isEmpty { return results }
            if pending.contains(where: { segments[$0].attempt.backingOff }) {
                let now = ContinuousClock.now
                guard now < deadline else { return results }
                try await Task.sleep(for: min(backoff.next(), deadline - now))
            }
            try await round(pending, of: commands, segments: &segments, results: &results, sendAsIs: firstRound && pending.count == segments.count)
            firstRound = false
        }
    }

    /// One attempt of every pending segment: routed, sent per node, replies classified.
    private func round(
        _ pending: [Int], of commands: [RedisCommand], segments: inout [Segment], results: inout [Result<RESPValue, RedisError>],
        sendAsIs: Bool
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
                settle(segment, of: commands, with: .failure(error), segments: &segments, results: &results)
            }
        }
        // The whole pipeline to one node, as it came: no copy of the commands.
        let asIs = sendAsIs && groups.count == 1 && groups[0].segments.count == segments.count
        // Every node's batch is written before waiting for any of them.
        var replies: [Result<[Result<RESPValue, RedisError>], RedisError>] = []
        var submitted: [(group: Int, batch: SubmittedBatch)] = []
        for (index, group) in groups.enumerated() {
            let batch = asIs ? commands : Self.batch(group.segments.map { segments[$0] }, of: commands)
            do {
                let connection = try await group.pool.connection()
                if groups.count == 1 {
                    replies.append(.success(try await connection.pipeline(batch)))
                } else {
                    submitted.append((index, connection.submit(batch)))
                    replies.append(.success([]))
                }
            } catch let error as RedisError {
                replies.append(.failure(error))
            }
        }
        for (group, batch) in submitted {
            do {
                replies[group] = .success(try await batch.replies())
            } catch let error as RedisError {
                replies[group] = .failure(error)
            }
        }
        for (group, groupReplies) in replies.enumerated() {
            var position = 0
            for segment in groups[group].segments {
                guard case .success(let all) = groupReplies else {
                    if case .failure(let error) = groupReplies {
                        settle(segment, of: commands, with: .failure(error), segments: &segments, results: &results)
                    }
                    continue
                }
                let (range, keyed) = (segments[segment].range, segments[segment].keyed)
                let prefix = segments[segment].attempt.prefixCount(for: commands[keyed])
                var own: [Result<RESPValue, RedisError>] = []
                own.reserveCapacity(range.count)
                for index in range {
                    // The replies to ASKING and SCRIPT LOAD are not the caller's.
                    if index == keyed { position += prefix }
                    own.append(all[position])
                    position += 1
                }
                settle(segment, of: commands, with: .success(own), segments: &segments, results: &results)
            }
        }
    }

    /// Records a segment's replies (or the failure of its whole batch) and decides whether it goes again.
    private func settle(
        _ index: Int, of commands: [RedisCommand], with replies: Result<[Result<RESPValue, RedisError>], RedisError>,
        segments: inout [Segment], results: inout [Result<RESPValue, RedisError>]
    ) {
        let segment = segments[index]
        let keyedReply: Result<RESPValue, RedisError>
        switch replies {
        case .success(let own):
            for (offset, reply) in own.enumerated() { results[segment.range.lowerBound + offset] = reply }
            keyedReply = own[segment.keyed - segment.range.lowerBound]
        case .failure(let error):
            for position in segment.range { results[position] = .failure(error) }
            keyedReply = .failure(error)
        }
        guard case .failure(let error) = keyedReply else {
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
            let isReadOnly = CommandKeys.of(command.name).isReadOnly
            switch command.route() {
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
                segments.append(Segment(range: index..<(index + 1), keyed: index, attempt: Attempt(slot: nil), readOnly: isReadOnly, done: true))
                hasKeyed = true
                refusal = error
            }
        }
        return segments
    }
}
