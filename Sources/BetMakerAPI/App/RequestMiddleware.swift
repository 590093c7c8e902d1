import BetMaker
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RedisClient

/// The outermost middleware: gives each request its id (the caller's `X-Request-Id` if usable) and
/// turns every error into a problem+json response that carries the id too. Nothing escapes as a bare
/// 500 without a body.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let maximumBodyBytes: Int
    /// The methods each path serves, for answering the others with 405.
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.usableRequestID) ?? context.id
        context.requestID = requestID
        context.logger[metadataKey: "hb.request.id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = problem(for: error, request: request, context: context)
            response = try problem.response(from: request, context: context)
        }
        response.headers[.requestID] = requestID
        // An answer to HEAD has no body, problems included (the GET routes' own HEAD answers have none).
        return request.method == .head ? response.createHeadResponse() : response
    }

    /// Up to 128 visible ASCII characters; anything else is replaced, so logs stay clean.
    static func usableRequestID(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return value
    }

    /// GET and HEAD change nothing, so a Redis command of theirs that went unanswered leaves nothing
    /// to be unsure about. (The activation link, the one GET that writes, answers for itself.)
    static func isReadOnly(_ request: Request) -> Bool {
        request.method == .get || request.method == .head
    }

    private func problem(for error: any Error, request: Request, context: Context) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as RedisError where error.serverCode == "OOM":
            context.logger.error("Redis refused a write: out of memory", metadata: ["error": "\(error)"])
            return .storageFull()
        case let error as RedisError where error.isConnectivity && error.mayHaveRun && !Self.isReadOnly(request):
            context.logger.warning("Redis did not answer; the request may have taken effect", metadata: ["error": "\(error)"])
            return .outcomeUnknown()
        case let error as RedisError where error.isConnectivity:
            // Never sent, or a GET/HEAD, which changes nothing whatever became of its commands.
            context.logger.warning("Redis unavailable", metadata: ["error": "\(error)"])
            return .redisUnavailable()
        case is NIOTooManyBytesError:
            return .bodyTooLarge(maximumBodyBytes)
        case let error as HTTPError where error.status == .notFound:
            // The router found no route for the method; if the path has others, say which.
            if let (pattern, allowed) = routes.allowed(at: request.uri.path) {
                context.coreContext.endpointPath.value = pattern
                return .methodNotAllowed(request.method, allowed: allowed)
            }
            return .notFound("There is no \(request.method.rawValue) \(request.uri.path).")
        case let error as HTTPError:
            return Problem(error.status, "http", title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase)
        default:
            context.logger.error("Request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return .internal()
        }
    }
}
