import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import Metrics

/// `/plays`: a visitor played and left an email address. Anonymous, or with a player's token, which
/// links the address to the user.
struct PlayRoutes {
    let contacts: ContactStore
    let esp: any EmailServiceProvider
    /// How long a new address's lookup at the ESP may take before the answer says `in_esp: null`.
    let lookupTimeout: Duration
    let maximumBodyBytes: Int
    /// Plays draw from their client's bucket: a new address costs an ESP lookup and, with double
    /// opt-in, a confirmation email to somebody who may never have asked for it.
    let limiter: ClientLimiter
    let knownPlays = Counter(label: "plays_total", dimensions: [("address", "known")])
    let newPlays = Counter(label: "plays_total", dimensions: [("address", "new")])

    func register(authenticated plays: some RouterMethods<APIRequestContext>) {
        plays.post(use: play)
    }

    /// Counts the play. Only an address Redis does not know is looked up at the ESP (with a short
    /// deadline); its creation there goes through the outbox, which the worker delivers.
    @Sendable func play(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try await limiter.admit(.plays, request, context: context)
        let body = try await Input.json(request, limit: maximumBodyBytes)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(body, allowed: ["email"], errors: &errors)
        let address = Input.email(fields["email"]).collect(into: &errors)
        guard let address, errors.isEmpty else { throw Problem.validation(errors) }
        let logger = context.logger
        let play = try await contacts.play(address, userID: context.identity?.userID) { address in
            do {
                return try await esp.hasContact(address, timeout: lookupTimeout)
            } catch {
                logger.warning(
                    "The ESP gave no answer about a new address", metadata: ["contact": "\(address.masked)", "error": "\(error)"])
                return nil
            }
        }
        (play.wasKnown ? knownPlays : newPlays).increment()
        logger.debug(
            "Play counted", metadata: ["contact": "\(address.masked)", "plays": "\(play.plays)", "known": "\(play.wasKnown)"])
        return .json { play.write(to: &$0, lookupTimeout: lookupTimeout) }
    }
}
