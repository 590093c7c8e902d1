import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Rendering a page: the layout's values (navigation, assets, the user), and the values every page
/// shares (times).
extension WebUIRoutes {
    /// A page in the layout: the navigation the caller's role may use, the assets' versioned paths.
    /// `live` names the feed the page's script listens to.
    static func page(
        _ template: String, title: String, status: HTTPResponse.Status = .ok, identity: Identity?, _ values: [String: Any] = [:],
        live: String? = nil
    ) throws -> Response {
        var values = values
        values["title"] = title
        values["assets"] = ["js": WebUIAsset.script.versionedPath, "css": WebUIAsset.styleSheet.versionedPath]
        if let live { values["live"] = live }
        if let identity {
            values["user"] = ["login": identity.user.login, "role": identity.role.rawValue]
            values["nav"] = navigation(for: identity.role).map {
                ["href": $0.href, "label": $0.label, "current": $0.label == title, "section": $0.section] as [String: Any]
            }
        } else {
            values["nav"] = [("/ui/login", "Log in"), ("/ui/register", "Register")].map {
                ["href": $0.0, "label": $0.1, "current": $0.1 == title] as [String: Any]
            }
        }
        guard let html = WebUITemplates.library.render(values, withTemplate: template) else {
            throw Problem.internal()
        }
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The links a role sees, each labelled with the title of the page it leads to; `section` starts a
    /// group (the operator's pages, then a player's). The server checks the role on every page anyway.
    static func navigation(for role: Role) -> [(href: String, label: String, section: Bool)] {
        let player: [(href: String, label: String, section: Bool)] = [
            ("/ui/events", "Events", role == .admin), ("/ui/bets", "My bets", false), ("/ui/trades", "Trades", false),
            ("/ui/wallet", "Wallet", false),
        ]
        switch role {
        case .admin:
            return [
                ("/ui/operator/events", "Catalogue", false), ("/ui/operator/users", "Users", false),
                ("/ui/operator/dead-letters", "Dead letters", false), ("/ui/operator/contacts", "Contacts", false),
            ] + player
        case .trader: return [("/ui/trader/events", "My events", false)] + player
        case .player: return player
        }
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// How the script writes a time: relative to now ("in 2 hr", "5 min ago") beside the date, or the
    /// date alone.
    enum TimeStyle: String {
        case relative, absolute
    }

    /// A time for the `time` partial: exact UTC (`iso`), and until the script rewrites it in the
    /// viewer's zone, UTC to the minute as text.
    static func time(_ milliseconds: Int64, _ style: TimeStyle) -> [String: String] {
        let iso = Timestamp.rfc3339(milliseconds)
        return ["iso": iso, "text": iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC", "style": style.rawValue]
    }
}
