import BetMakerRuntime

/// What the API checks of its settings before it serves: the secrets it signs and checks with.
extension Settings {
    /// The payment provider's example secret from the product brief: fine for trying the webhook out,
    /// refused outside development mode because everybody knows it.
    public static let publicTestWebhookSecret = "gfdmhghif38yrf9ew0jkf32"

    /// The shortest JWT secret accepted outside development mode: 256 bits, as RFC 8725 asks of HS256.
    public static let minimumJWTSecretBytes = 32

    /// What stops the API from serving with these settings: a missing or short JWT secret, unless in
    /// development mode. Warnings name what is allowed but unsafe.
    public func servingProblems() -> (errors: [String], warnings: [String]) {
        var errors: [String] = []
        var warnings: [String] = []
        let secretBytes = jwtSecret?.utf8.count ?? 0
        if secretBytes < Self.minimumJWTSecretBytes {
            let problem =
                jwtSecret == nil
                ? "JWT_SECRET is not set" : "JWT_SECRET is \(secretBytes) bytes; at least \(Self.minimumJWTSecretBytes) are needed"
            if developmentMode {
                warnings.append("\(problem); DEVELOPMENT_MODE uses a random secret, so tokens do not survive a restart")
            } else {
                errors.append("\(problem) (set DEVELOPMENT_MODE=true on a developer's machine)")
            }
        }
        if paymentWebhookSecret == nil { warnings.append("PAYMENT_WEBHOOK_SECRET is not set: the payment webhook refuses every delivery") }
        if paymentWebhookSecret == Self.publicTestWebhookSecret {
            let problem = "PAYMENT_WEBHOOK_SECRET is the published test secret, with which anyone can sign a deposit"
            if developmentMode { warnings.append(problem) } else { errors.append("\(problem); set your payment provider's secret") }
        }
        if resultsAPIKey == nil {
            warnings.append(
                "RESULTS_API_KEY is not set: anyone may report the results of events without money (PUT /events/{id}) without a token")
        }
        if developmentMode { warnings.append("DEVELOPMENT_MODE is on: not for production") }
        return (errors, warnings)
    }
}
