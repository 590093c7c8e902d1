import BetMakerRuntime

extension Settings {
    /// The worker's part of the settings.
    public var workerConfiguration: SettlementWorker.Configuration {
        var configuration = SettlementWorker.Configuration(consumer: workerName)
        configuration.batchSize = settlementBatchSize
        configuration.pauseBetweenBatches = settlementPause
        configuration.block = workerBlock
        configuration.claimInterval = workerClaimInterval
        configuration.claimMinIdle = workerClaimMinIdle
        configuration.maxDeliveries = workerMaxDeliveries
        configuration.requeueAfter = workerRequeueAfter
        return configuration
    }
}
