import Synchronization

/// Sending in cluster mode: a command goes to the master of its slot. An answer or a failure that says
/// the command did not run is retried: `MOVED` (the map was patched already) and `ASK` (`ASKING` and
/// the command together on one connection of the named node) up to `maximumRedirects`; `TRYAGAIN`,
/// `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`, `BUSY` and an unreachable node with backoff until
/// `retryTimeout`; `NOSCRIPT` by loading the script on that node first. A command whose connection
/// dropped with it in flight may have run: it is never sent again, unless it only reads.
extension ClusterRouter {
    func send(_ command: RedisCommand) async throws -> RESPValue {
        let slot = try Self.slot(of: command)
        do {
            return try await pool(forSlot: slot).connection().send(command)
        } catch let error as RedisError {
            return try await resend(command, slot: slot, after: error)
        }
    }

    /// The command's slot, nil when it has no keys.
    ///
    /// - Throws: `RedisError.crossSlot` naming the keys, when they span slots.
    static func slot(of command: RedisCommand) throws(RedisError) -> Int? {
        switch command.route() {
        case .slot(let slot): slot
        case .keyless: nil
        case .crossSlot: throw .crossSlot(command: command.name, keys: command.keys)
        }
    }

    /// What comes after a failed attempt.
    enum Retry {
        /// Report the error.
        case none
        /// Send again to where the redirect points (for `MOVED`, the patched map).
        case redirect(RedisRedirect)
        /// Send again after loading the command's script on the node that answered `NOSCRIPT`.
        case loadScript
        /// Send again after a backoff; `reason` labels the retry metric.
        case backoff(reason: String)
    }

    func retry(after error: RedisError, of command: RedisCommand, readOnly: Bool) -> Retry {
        switch error {
        case .redirected(let redirect):
            return .redirect(redirect)
        case .server(let reply) where RedisError.notRunCodes.contains(reply.code):
            return .backoff(reason: reply.code)
        case .server(let reply) where reply.code == "NOSCRIPT" && command.scriptSource != nil:
            return .loadScript
        case .connectionUnavailable:
            // Shut down, or no map at all (no seed answered): nothing to wait for, as with one node.
            if state.withLock({ $0.phase == .shutDown || $0.owners.isEmpty }) { return .none }
            requestRefresh()
            return .backoff(reason: "unavailable")
        case .connectionClosed, .timeout, .protocolError:
            // The node may be gone; its commands in flight may have run, so only reads go again.
            requestRefresh()
            return readOnly ? .backoff(reason: "connection") : .none
        case .server, .unexpectedReply, .invalidCommand, .crossSlot:
            return .none
        }
    }

    /// Where the next attempt of a command goes and what precedes it there.
    struct Attempt {
        var slot: Int?
        /// The node an `ASK` named: `ASKING` goes first, on the same connection.
        var asking: RedisEndpoint?
        /// `SCRIPT LOAD` goes first, on the same connection.
        var loadScript = false
        var redirects = 0
        var scriptLoads = 0
        /// The last attempt failed in a way that waits before the next.
        var backingOff = false

        func prefixCount(for command: RedisCommand) -> Int {
            (loadScript && command.scriptSource != nil ? 1 : 0) + (asking != nil ? 1 : 0)
        }

        func prefix(for command: RedisCommand) -> [RedisCommand] {
            var prefix: [RedisCommand] = []
            if loadScript, let source = command.scriptSource { prefix.append(RedisCommand("SCRIPT", "LOAD", source)) }
            if asking != nil { prefix.append(RedisCommand("ASKING")) }
            return prefix
        }

        /// Takes in the decision about the last attempt; false when the error is to be reported.
        mutating func update(_ retry: Retry, maximumRedirects: Int) -> Bool {
            loadScript = false
            backingOff = false
            switch retry {
            case .none:
                return false
            case .redirect(let redirect):
                redirects += 1
                asking = redirect.kind == .ask ? redirect.endpoint : nil
                return redirects <= maximumRedirects
            case .loadScript:
                // A node that forgets the script again right after loading it is not retried forever.
                scriptLoads += 1
                loadScript = true
                return scriptLoads <= 2
            case .backoff:
                asking = nil
                backingOff = true
                return true
            }
        }
    }

    private func resend(_ command: RedisCommand, slot: Int?, after firstError: RedisError) async throws -> RESPValue {
        let deadline = ContinuousClock.now + options.retryTimeout
        var backoff = Backoff(options.retryBackoff)
        let readOnly = CommandKeys.of(command.name).isReadOnly
        var attempt = Attempt(slot: slot)
        var error = firstError
        while true {
            let retry = retry(after: error, of: command, readOnly: readOnly)
            guard attempt.update(retry, maximumRedirects: options.maximumRedirects) else { throw error }
            if case .backoff(let reason) = retry {
                metrics.retry(reason)
                let now = ContinuousClock.now
                guard now < deadline else { throw error }
                try await Task.sleep(for: min(backoff.next(), deadline - now))
            }
            do {
                let pool: ConnectionPool
                if let asking = attempt.asking {
                    pool = try self.pool(at: asking)
                } else {
                    pool = try await self.pool(forSlot: slot)
                }
                let connection = try await pool.connection()
                let prefix = attempt.prefix(for: command)
                if prefix.isEmpty { return try await connection.send(command) }
                return try await connection.pipeline(prefix + [command])[prefix.count].get()
            } catch let failure as RedisError {
                error = failure
            }
        }
    }
}
