import BetMaker
import Hummingbird

extension Input {
    /// Login and password from a body: the same checks for registering and logging in.
    static func credentials(_ request: Request, limit: Int) async throws -> (login: String, password: String) {
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(
            try await Input.json(request, limit: limit), allowed: ["login", "password"], errors: &errors)
        let login = Input.text(fields["login"], field: "login", maximumLength: 64).collect(into: &errors)
        if let login, !Login.isValid(login) { errors.append(.init("login", "must be \(Login.rule)")) }
        let password = Input.text(fields["password"], field: "password", maximumLength: Passwords.maximumCharacters).collect(into: &errors)
        if let password, password.unicodeScalars.count < Passwords.minimumCharacters {
            errors.append(.init("password", "must be \(Passwords.minimumCharacters) to \(Passwords.maximumCharacters) characters long"))
        }
        guard let login, let password, errors.isEmpty else { throw Problem.validation(errors) }
        return (login, password)
    }
}
