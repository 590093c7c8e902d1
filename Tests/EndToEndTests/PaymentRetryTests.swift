import Adapters
import BetMaker
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// A deposit is two single-slot steps (decision 0305): the claim on `{g}`, then the credit on the
/// user's slot. Through the real API: a crash between them, and the provider's retries.
@Suite struct PaymentRetryTests {
    @Test func aWebhookRetriedAfterACrashBetweenClaimAndCreditCreditsOnce() async throws {
        try await withSystem { system in
            let hal = try await WalletEndToEndTests.player(system, "hal")
            let values = DepositDelivery(
                transactionID: "pay-hal-1", userID: String(hal.userID), accountID: String(hal.accountID), amount: "25")
            let signature = SignedWebhookProvider(secret: BetMakerProcesses.testPaymentSecret).signature(of: values)
            // The first delivery's claim, as an API process killed right after it leaves it.
            let keys = System.keys
            let claimed = try await system.redis.eval(
                Scripts.claimPayment,
                keys: [keys.paymentClaim("pay-hal-1"), keys.accountOwners, keys.users, keys.accountIDs, keys.paymentSignature(signature)],
                arguments: ["pay-hal-1", String(hal.userID), String(hal.accountID), "2500", "1"]
            ).strings(for: "claim_payment")
            #expect(claimed == ["claimed", "0"])
            #expect(try await WalletEndToEndTests.balance(system, hal.token) == "0.00")
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)

            let delivery = MoneyRulesTests.delivery(
                transactionID: "pay-hal-1", userID: hal.userID, accountID: hal.accountID, amount: "25", signature: signature)
            let retry = try await system.request(.POST, "/payment/webhook", json: delivery)
            #expect(retry.status == 200 && retry.body.contains(#""replayed":false"#), "\(retry.body)")
            let again = try await system.request(.POST, "/payment/webhook", json: delivery)
            #expect(again.status == 200 && again.body.contains(#""replayed":true"#), "\(again.body)")
            #expect(try await WalletEndToEndTests.balance(system, hal.token) == "25.00")
            #expect(try await system.redis.exists([keys.payment(userID: hal.userID, transactionID: "pay-hal-1")]) == 1)
            #expect(try await BetMakerProcesses.runCheck(redis: system.deployment).status == 0)
        }
    }
}
