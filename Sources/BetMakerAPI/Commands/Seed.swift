import BetMaker
import BetMakerRuntime
import RedisClient

/// Demo data for a fresh installation: an administrator, two traders (in the traders index), a player
/// with an account and a deposit, and a few open catalogue events. Idempotent: what exists is left as
/// it is (passwords included), the deposit has a fixed transaction id, and the events fixed ids.
///
/// Passwords (docs/decisions/0285): in development mode the published demo ones unless the
/// environment gives others; outside it, the environment's (`SEED_*_PASSWORD`), or else a random one
/// per user, printed once, when the user is created. Outside development mode the published ones are
/// refused, so no installation that is not a developer's machine ever has `admin`/`admin-password`.
public enum Seed {
    public struct Logins: Sendable {
        public var adminLogin = "admin"
        public var adminPassword: String
        public var playerLogin = "demo"
        public var playerPassword: String
        public var traderLogins = ["trader1", "trader2"]
        public var traderPassword: String
        /// True for a password made here: the report says so, as it is shown only this once.
        public var generated: Set<String> = []

        /// The published demo passwords, for a developer's machine.
        public static let demoPasswords = (admin: "admin-password", player: "demo-password", trader: "trader-password")

        public init(adminPassword: String, playerPassword: String, traderPassword: String) {
            (self.adminPassword, self.playerPassword, self.traderPassword) = (adminPassword, playerPassword, traderPassword)
        }

        /// The demo logins with the published passwords.
        public static var demo: Logins {
            Logins(adminPassword: demoPasswords.admin, playerPassword: demoPasswords.player, traderPassword: demoPasswords.trader)
        }

        /// The passwords the settings call for (see `Seed`); a refusal names the setting and the fix.
        public static func configured(_ settings: Settings) throws(SettingsError) -> Logins {
            let published = [demoPasswords.admin, demoPasswords.player, demoPasswords.trader]
            var generated: Set<String> = []
            func password(_ given: String?, setting: String, demo: String) throws(SettingsError) -> String {
                if let given {
                    guard (Passwords.minimumCharacters...Passwords.maximumCharacters).contains(given.unicodeScalars.count) else {
                        throw SettingsError(
                            "\(setting) must be \(Passwords.minimumCharacters) to \(Passwords.maximumCharacters) characters long")
                    }
                    guard settings.developmentMode || !published.contains(given) else {
                        throw SettingsError(
                            "\(setting) is a published demo password, refused outside DEVELOPMENT_MODE; choose another or leave it unset "
                                + "for a generated one")
                    }
                    return given
                }
                if settings.developmentMode { return demo }
                let made = Base64URL.encode(randomBytes(18))
                generated.insert(made)
                return made
            }
            var logins = Logins(
                adminPassword: try password(settings.seedAdminPassword, setting: "SEED_ADMIN_PASSWORD", demo: demoPasswords.admin),
                playerPassword: try password(settings.seedPlayerPassword, setting: "SEED_PLAYER_PASSWORD", demo: demoPasswords.player),
                traderPassword: try password(settings.seedTraderPassword, setting: "SEED_TRADER_PASSWORD", demo: demoPasswords.trader))
            logins.generated = generated
            return logins
        }
    }

    public static let demoDeposit = Money(cents: 100_000)
    public static let depositTransactionID = "seed-demo-deposit"

    /// Runs the seed; `report` gets one line per thing made or found.
    public static func run(
        settings: Settings, redis: RedisClient, logins: Logins = .demo, now: Int64 = currentMilliseconds(),
        report: (String) -> Void
    ) async throws {
        // Seeding writes: the store must be one this build reads (an empty one is claimed for it), as
        // for the API and the worker.
        let verdict = try await StorageSchema.check(redis: redis, keys: settings.keys)
        if let refusal = StorageSchema.refusal(verdict, keys: settings.keys) { throw SchemaGate.Refusal(description: refusal) }
        let accounts = AccountStore(redis: redis, keys: settings.keys, activationTTL: settings.activationTTL)
        let passwords = try await Passwords(cost: settings.bcryptCost)

        func user(_ login: String, _ password: String, role: Role) async throws -> Int {
            if try await accounts.isLoginTaken(login), let existing = try await accounts.credentials(login: login) {
                report("\(role.rawValue) \(login): exists (user \(existing.user.id), \(existing.user.status.rawValue); password unchanged)")
                return existing.user.id
            }
            switch try await accounts.register(login: login, passwordHash: try await passwords.hash(password), role: role, active: true) {
            case .created(let user, let account, _):
                let shown = logins.generated.contains(password) ? "\(password) (generated: shown only now)" : password
                report("\(role.rawValue) \(login): created (user \(user.id), account \(account.id)), password \(shown)")
                return user.id
            case .loginTaken(let id):
                report("\(role.rawValue) \(login): exists (user \(id); password unchanged)")
                return id
            }
        }
        _ = try await user(logins.adminLogin, logins.adminPassword, role: .admin)
        let playerID = try await user(logins.playerLogin, logins.playerPassword, role: .player)
        // After the player, so the first users keep the ids they had before traders were seeded.
        for login in logins.traderLogins {
            let id = try await user(login, logins.traderPassword, role: .trader)
            // Into the traders index (`update_user` keeps it), unless an administrator took the role since.
            if try await accounts.user(id: id)?.role == .trader { _ = try await accounts.update(userID: id, role: .trader) }
        }

        if let account = try await accounts.accounts(userID: playerID).first {
            switch try await accounts.deposit(
                transactionID: depositTransactionID, userID: playerID, accountID: account.id, amount: demoDeposit)
            {
            case .credited(let payment): report("deposit of \(payment.amount) to account \(account.id): credited")
            case .replayed, .conflict: report("deposit \(depositTransactionID): credited before")
            case .noSuchUser, .foreignAccount, .signatureReused: report("deposit \(depositTransactionID): refused")
            }
        }

        let catalogue = CatalogueStore(redis: redis, keys: settings.keys)
        let day: Int64 = 86_400_000
        let events = [
            CatalogueEvent(
                id: "demo-derby", title: "City Derby", homeTeam: "Reds", awayTeam: "Blues", startsAt: now + day,
                odds: Odds(hundredths: 185),
                isOpen: true),
            CatalogueEvent(
                id: "demo-cup-final", title: "Cup Final", homeTeam: "Lions", awayTeam: "Eagles", startsAt: now + 2 * day,
                odds: Odds(hundredths: 240), isOpen: true),
            CatalogueEvent(
                id: "demo-friendly", title: "Summer Friendly", homeTeam: "Harbour FC", awayTeam: "Hill United", startsAt: now + 3 * day,
                odds: Odds(hundredths: 130), isOpen: true),
        ]
        for event in events {
            switch try await catalogue.create(event) {
            case .created: report("event \(event.id): created (odds \(event.odds))")
            case .exists: report("event \(event.id): exists")
            case .closed(let result): report("event \(event.id): has its result (\(result.rawValue))")
            }
        }
    }
}
