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

    /// The ESP outbox relay's part of the settings.
    public var contactRelayConfiguration: ContactRelay.Configuration {
        var configuration = ContactRelay.Configuration(consumer: workerName)
        configuration.block = min(workerBlock, .milliseconds(500))
        configuration.claimInterval = workerClaimInterval
        configuration.claimMinIdle = workerClaimMinIdle
        configuration.maxAttempts = espMaxAttempts
        configuration.retryInitial = espRetryInitial
        configuration.retryMaximum = espRetryMaximum
        return configuration
    }

    /// The credits relay's part of the settings: it claims as the settlement worker does.
    public var creditRelayConfiguration: CreditRelay.Configuration {
        var configuration = CreditRelay.Configuration(consumer: workerName)
        configuration.block = min(workerBlock, .seconds(2))
        configuration.claimInterval = workerClaimInterval
        configuration.claimMinIdle = workerClaimMinIdle
        return configuration
    }
}
