import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each path of the router serves, read from the router itself (`Router.routes`) once
/// every route is registered, so the answer for a method a path does not have cannot drift from the
/// routes: `405` with `Allow` (RFC 9110), for any method, where Hummingbird alone answers `404` as if
/// the path did not exist.
final class RouteMethods: Sendable {
    private struct Entry: Sendable {
        let path: RouterPath
        let methods: [HTTPRequest.Method]
    }

    private let entries = Mutex<[Entry]>([])

    /// Takes the router's routes. `servesHead`: the router answers HEAD wherever it answers GET
    /// (`RouterOptions.autoGenerateHeadEndpoints`, which adds those routes only when it builds).
    func load<Context>(_ routes: [Router<Context>.RouteDescription], servesHead: Bool) {
        var methodsByPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            methodsByPath[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        let loaded = methodsByPath.values.map { path, methods in
            var methods = methods
            if servesHead, methods.contains(.get) { methods.insert(.head) }
            return Entry(path: path, methods: methods.sorted(by: Self.isOrderedBefore))
        }
        entries.withLock { $0 = loaded }
    }

    /// The route pattern a request path is an instance of and the methods it serves; nil when no
    /// route has the path. Where several patterns fit, the one with literal segments first wins, as
    /// in Hummingbird's trie (`/users/me` before `/users/{id}`).
    func allowed(at path: String) -> (pattern: String, methods: [HTTPRequest.Method])? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let fitting = entries.withLock { entries in
            entries.filter { entry in
                entry.path.components.count == segments.count && zip(entry.path.components, segments).allSatisfy { $0 ~= $1 }
            }
        }
        let best = fitting.max { left, right in
            let (leftLiterals, rightLiterals) = (Self.literals(left.path), Self.literals(right.path))
            return leftLiterals.lexicographicallyPrecedes(rightLiterals) { !$0 && $1 }
        }
        return best.map { ($0.path.description, $0.methods) }
    }

    private static func literals(_ path: RouterPath) -> [Bool] {
        path.components.map { component in component == component.description }
    }

    /// GET, HEAD, POST, PUT, PATCH, DELETE, then any other in alphabetical order.
    private static func isOrderedBefore(_ left: HTTPRequest.Method, _ right: HTTPRequest.Method) -> Bool {
        let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete]
        switch (order.firstIndex(of: left), order.firstIndex(of: right)) {
        case (let l?, let r?): return l < r
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return left.rawValue < right.rawValue
        }
    }
}
