import AsyncHTTPClient
import BetMaker
import ExtrasBase64
import NIOCore
import NIOHTTP1

/// The ESP over HTTP, in the shape of the Mailchimp Marketing API v3: a member of the list is
/// `{base}/3.0/lists/{list}/members/{subscriber hash}`; `GET` looks it up (404: absent), `PUT` with
/// `status_if_new` adds it unless it exists (so a repeated create is harmless), and
/// `POST …/actions/delete-permanent` erases it (404: nothing to erase, which counts as done).
/// Basic authentication with the API key as the password. Every call has a deadline: the lookup's
/// is the caller's, the others `timeout`.
public struct MailchimpClient: EmailServiceProvider {
    public struct Configuration: Sendable {
        /// Without the `/3.0` (e.g. `https://us21.api.mailchimp.com`); a trailing slash is ignored.
        public var baseURL: String
        public var listID: String
        public var apiKey: String
        public var timeout: Duration = .seconds(5)
        /// What a new member becomes: `pending` for double opt-in (the ESP mails the address a link to
        /// confirm, and only then subscribes it: docs/decisions/0286), or `subscribed`.
        public var statusIfNew = "pending"

        public init(baseURL: String, listID: String, apiKey: String) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.listID = listID
            self.apiKey = apiKey
        }
    }

    let configuration: Configuration
    let http: HTTPClient
    let authorization: String

    public init(configuration: Configuration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
        // Mailchimp takes any user name with the key as the password.
        authorization = "Basic " + Base64.encodeToString(bytes: Array("bet-maker:\(configuration.apiKey)".utf8))
    }

    func memberURL(_ subscriberHash: String) -> String {
        "\(configuration.baseURL)/3.0/lists/\(configuration.listID)/members/\(subscriberHash)"
    }

    public func hasContact(_ address: EmailAddress, timeout: Duration) async throws -> Bool {
        let status = try await call(.GET, memberURL(address.subscriberHash), body: nil, timeout: timeout)
        switch status {
        case 200: return true
        case 404: return false
        default: throw Self.failure(status)
        }
    }

    public func createContact(_ address: EmailAddress) async throws {
        var json = "{\"email_address\":\""
        // The stored form has no quote or backslash to escape (see `EmailAddress`).
        json += address.value
        json += "\",\"status_if_new\":\"\(configuration.statusIfNew)\"}"
        let status = try await call(.PUT, memberURL(address.subscriberHash), body: json, timeout: configuration.timeout)
        guard (200..<300).contains(status) else { throw Self.failure(status) }
    }

    public func eraseContact(subscriberHash: String) async throws {
        let status = try await call(
            .POST, memberURL(subscriberHash) + "/actions/delete-permanent", body: nil, timeout: configuration.timeout)
        guard (200..<300).contains(status) || status == 404 else { throw Self.failure(status) }
    }

    /// The status of the answer; the body is read (and dropped) within the same deadline.
    private func call(_ method: HTTPMethod, _ url: String, body: String?, timeout: Duration) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await http.execute(request, deadline: deadline)
            _ = try await response.body.collect(upTo: 1024 * 1024)
            let status = Int(response.status.code)
            if status == 429 || status >= 500 {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map { Duration.seconds(max(0, $0)) }
                throw EmailServiceError.unavailable(status: status, retryAfter: retryAfter)
            }
            return status
        } catch let error as EmailServiceError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // A deadline, a refused or dropped connection: the ESP gave no answer.
            throw EmailServiceError.timeout
        }
    }

    static func failure(_ status: Int) -> EmailServiceError {
        switch status {
        case 401, 403: .refused(status: status, detail: "the ESP refused the API key")
        case 400: .refused(status: status, detail: "the ESP refused the address")
        default: .refused(status: status, detail: "unexpected answer")
        }
    }
}
