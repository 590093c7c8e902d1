import RedisClient

/// Trades' side of a hold (`HoldReconciler`): `abandon_trade` on the symbol's slot answers whether the
/// trade a hold was taken for exists, and if not records its id as abandoned, so a late `place_trade`
/// is refused and the hold can be voided.
public struct TradeHoldOwner: HoldOwner {
    public let redis: RedisClient
    public let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    public func fate(of hold: Hold) async throws -> HoldFate {
        guard let id = TradeID(hold.reference.id) else {
            throw RedisError.unexpectedReply(command: "abandon_trade", reply: "hold \(hold.reference.id) names no trade")
        }
        let reply = try await redis.eval(
            Scripts.abandonTrade, keys: [keys.trade(id), keys.abandonedTrades(id.symbol)],
            arguments: [
                id.description
            ]
        ).strings(for: "abandon_trade")
        switch reply.first {
        case "placed": return .placed
        case "abandoned": return .abandoned
        default: throw RedisError.unexpectedReply(command: "abandon_trade", reply: "\(reply)")
        }
    }
}
