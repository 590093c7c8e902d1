import BetMakerRuntime
import Hummingbird
import RedisClient

/// Keeps requests off a store whose schema this build has not checked (`SchemaGate`): while the gate
/// is closed, a request checks it first (one read), and answers 503 `storage-unavailable` when Redis
/// does not answer or holds data of another version. The operations routes pass, and report it.
/// Once open, one lock-protected read per request.
struct SchemaGateMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let gate: SchemaGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if !gate.isOpen && !OperationsRoutes.paths.contains(request.uri.path) {
            do {
                try await gate.openNow()
            } catch is SchemaGate.Refusal {
                throw Problem.redisUnavailable()
            } catch let error as RedisError where error.isConnectivity {
                // Whatever became of the check, the request itself has not run: storage-unavailable,
                // logged as any unreachable Redis is.
                throw RedisError.connectionUnavailable("checking the storage schema: \(error)")
            }
        }
        return try await next(request, context)
    }
}
