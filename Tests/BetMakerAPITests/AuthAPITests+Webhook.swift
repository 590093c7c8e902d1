import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing

extension AuthAPITests {
    // MARK: The payment webhook

    @Test func theWebhookChecksTheSignatureOfTheBriefsKnownVectorAndCreditsOnce() async throws {
        try await withAPI(configure: { $0.paymentWebhookSecret = Settings.publicTestWebhookSecret }) { client, _, redis in
            // The first user gets user id 1 and account id 1, as in the brief's example.
            let first = try await Self.user("alice", redis: redis, client: client)
            #expect(first.userID == 1 && first.accountID == 1)
            let body =
                #"{"transaction_id": "5eae174f-7cd0-472c-bd36-35660f00132b", "user_id": 1, "account_id": 1, "amount": 100, "signature": "7b47e41efe564a062029da3367bde8844bea0fb049f894687cee5d57f2858bc8"}"#
            let credited = try await client.postJSON("/payment/webhook", body)
            #expect(credited.status == .ok, "\(credited.text)")
            #expect(credited["balance_after"]?.string == "100.00" && credited["replayed"] == .bool(false))
            let again = try await client.postJSON("/payment/webhook", body)
            #expect(again.status == .ok && again["replayed"] == .bool(true) && again["balance_after"]?.string == "100.00")

            // One character of the signature off, or the amount's text changed: nothing credited.
            let badSignature = body.replacingOccurrences(of: "c8\"", with: "c9\"").replacingOccurrences(of: "5eae", with: "6eae")
            let refused = try await client.postJSON("/payment/webhook", badSignature)
            #expect(refused.status == .forbidden && refused["type"]?.string == "/problems/invalid-signature")
            let otherText = body.replacingOccurrences(of: #""amount": 100"#, with: #""amount": 100.00"#)
                .replacingOccurrences(of: "5eae", with: "7eae")
            #expect(try await client.postJSON("/payment/webhook", otherText).status == .forbidden)
            #expect(try await client.get("/users/me", headers: Self.bearer(first.token)).text.contains(#""balance":"100.00""#))

            let invalid = try await client.postJSON(
                "/payment/webhook", #"{"transaction_id": "", "user_id": 0, "amount": "1.001", "extra": 1}"#)
            #expect(Set(invalid.problemFields) == ["transaction_id", "user_id", "account_id", "amount", "signature", "extra"])
        }
    }

    @Test func withoutASecretTheWebhookRefusesEveryDelivery() async throws {
        try await withAPI(configure: { $0.paymentWebhookSecret = nil }) { client, _, _ in
            let response = try await client.postJSON("/payment/webhook", #"{}"#)
            #expect(response.status == .serviceUnavailable && response["type"]?.string == "/problems/payments-not-configured")
        }
    }

    // MARK: Settings

    @Test func theAPIRefusesAWeakOrMissingSecretOutsideDevelopmentMode() throws {
        func problems(_ values: [String: String]) throws -> (errors: [String], warnings: [String]) {
            try Settings(reading: { name, _ in values[name] }).servingProblems()
        }
        #expect(try problems([:]).errors.count == 1)
        #expect(try problems(["JWT_SECRET": "short"]).errors.first?.contains("5 bytes") == true)
        #expect(try problems(["JWT_SECRET": String(repeating: "k", count: 32)]).errors.isEmpty)
        let development = try problems(["DEVELOPMENT_MODE": "true"])
        #expect(development.errors.isEmpty && development.warnings.contains { $0.contains("random secret") })
        #expect(throws: SettingsError.self) { try problems(["DEVELOPMENT_MODE": "maybe"]) }
        let strong = String(repeating: "k", count: 32)
        let published = ["JWT_SECRET": strong, "PAYMENT_WEBHOOK_SECRET": Settings.publicTestWebhookSecret]
        #expect(try problems(published).errors.first?.contains("published test secret") == true)
        #expect(try problems(published.merging(["DEVELOPMENT_MODE": "true"]) { $1 }).errors.isEmpty)
        #expect(throws: SettingsError.self) { try problems(["BCRYPT_COST": "4"]) }
    }
}
